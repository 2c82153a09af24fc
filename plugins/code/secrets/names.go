package secrets

import (
	"regexp"
	"strings"
)

// secretName matches variable names that conventionally hold a credential.
var secretName = regexp.MustCompile(`(?i)(^|[_.-])(pass(word|wd|phrase)?|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|client[_.-]?secret|credentials?|auth[_.-]?key)($|[_.-])`)

// camel splits camelCase words so that secretKey reads as secret_Key.
var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// notSecretName matches names that look like secrets but hold a reference
// (a file path, a name, a switch, a length).
var notSecretName = regexp.MustCompile(`(?i)(_|\.|-)(file|path|dir|name|id|url|uri|ref|env|enabled|disabled|length|len|size|type|mode|header|param|field|key_?id|secret_?name|host|port|user(name)?)$`)

// LooksSecretName reports whether a variable name (an ENV or ARG key, a
// Kubernetes env name) conventionally holds a credential: PASSWORD,
// DB_PASSWORD, API_KEY, GITHUB_TOKEN, CLIENT_SECRET... but not
// PASSWORD_FILE, TOKEN_URL or SECRET_NAME.
func LooksSecretName(name string) bool {
	name = camel.ReplaceAllString(name, "${1}_${2}")
	return secretName.MatchString(name) && !notSecretName.MatchString(name)
}

// placeholders are values that are obviously not real credentials.
var placeholders = map[string]bool{
	"": true, "changeme": true, "change-me": true, "changeit": true, "xxx": true, "xxxx": true, "none": true, "null": true,
	"nil": true, "true": true, "false": true, "todo": true, "placeholder": true, "example": true, "dummy": true, "test": true,
	"secret": true, "password": true, "<password>": true, "<token>": true, "redacted": true, "***": true, "-": true,
}

// LiteralValue reports whether v is a literal credential-like value: not
// empty, not a placeholder, not a variable reference ($X, ${X}, $(cmd),
// ${{ expr }}, {{ template }}, %X%) and not a file path.
func LiteralValue(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	if placeholders[strings.ToLower(v)] || len(v) < 4 {
		return false
	}
	if strings.Contains(v, "$") || strings.Contains(v, "{{") || (strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%")) {
		return false
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") {
		return false
	}
	return true
}
