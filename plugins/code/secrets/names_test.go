package secrets

import "testing"

func TestLooksSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"PASSWORD": true, "DB_PASSWORD": true, "API_KEY": true, "GITHUB_TOKEN": true, "CLIENT_SECRET": true,
		"aws_secret_access_key": true, "NPM_TOKEN": true, "secretKey": true, "MYSQL_ROOT_PASSWORD": true,
		"PASSWORD_FILE": false, "TOKEN_URL": false, "SECRET_NAME": false, "GPG_KEY": false, "PATH": false,
		"NODE_VERSION": false, "TOKENIZER": false, "API_KEY_ID": false, "KEYCLOAK_USER": false,
	} {
		if got := LooksSecretName(name); got != want {
			t.Errorf("LooksSecretName(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestLiteralValue(t *testing.T) {
	for v, want := range map[string]bool{
		"s3cr3t-Pa55": true, `"hunter2hunter2"`: true,
		"": false, "${TOKEN}": false, "$TOKEN": false, "changeme": false, "/run/secrets/db": false,
		"${{ secrets.X }}": false, "{{ .Values.pw }}": false, "abc": false,
	} {
		if got := LiteralValue(v); got != want {
			t.Errorf("LiteralValue(%q) = %v, want %v", v, got, want)
		}
	}
}
