package match

import "testing"

func TestToolchainVersions(t *testing.T) {
	for in, want := range map[string]string{
		"go1.26.8": "v1.26.8", "go1.22": "v1.22.0", "go1.23rc1": "v1.23.0-rc1", "v0.1.0": "v0.1.0", "1.2.3": "v1.2.3",
	} {
		got, err := parseGoVersion(in)
		if err != nil || string(got) != want {
			t.Errorf("parseGoVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
