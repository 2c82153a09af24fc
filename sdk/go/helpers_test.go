package shipgate

import (
	"strings"
	"testing"
)

func TestParsePurl(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Purl
		ok   bool
	}{
		{"pkg:npm/%40babel/core@7.24.0", Purl{Type: "npm", Namespace: "@babel", Name: "core", Version: "7.24.0"}, true},
		{"pkg:cargo/libc@0.2.159", Purl{Type: "cargo", Name: "libc", Version: "0.2.159"}, true},
		{"pkg:maven/org.apache/commons-lang3@3.14.0?type=jar#sub/dir", Purl{Type: "maven", Namespace: "org.apache", Name: "commons-lang3", Version: "3.14.0", Qualifiers: map[string]string{"type": "jar"}, Subpath: "sub/dir"}, true},
		{"pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", Purl{Type: "deb", Namespace: "debian", Name: "openssl", Version: "3.0.11-1~deb12u2", Qualifiers: map[string]string{"arch": "amd64", "distro": "debian-12"}}, true},
		{"npm/x@1", Purl{}, false},
		{"pkg:npm", Purl{}, false},
		{"pkg:npm/@1", Purl{}, false},
	} {
		got, err := ParsePurl(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParsePurl(%q) err = %v", tt.in, err)
			continue
		}
		if tt.ok && (got.Type != tt.want.Type || got.Namespace != tt.want.Namespace || got.Name != tt.want.Name ||
			got.Version != tt.want.Version || got.Subpath != tt.want.Subpath || len(got.Qualifiers) != len(tt.want.Qualifiers)) {
			t.Errorf("ParsePurl(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestSeverityAndEvaluate(t *testing.T) {
	if !SeverityAtLeast("critical", "HIGH") || SeverityAtLeast("LOW", "MEDIUM") || SeverityRank("bogus") != 0 {
		t.Error("severity ordering")
	}
	f := func(in Input) Decision {
		var d Decision
		for _, v := range in.Report.Vulnerabilities {
			if v.HasFix() && !v.DevOnly() {
				d.Denyf("%s", v.ID).Rule("r").Severity(v.Severity).Refs(v.PackageRef)
			}
		}
		return d
	}
	out, err := Evaluate(f, []byte(`{"apiVersion":"shipgate.dev/v1","report":{"vulnerabilities":[{"id":"CVE-1","fixedVersion":"2","packageRef":"p","severity":"HIGH","unknownField":1},{"id":"CVE-2","fixedVersion":"2","dev":true}]}}`))
	if err != nil || string(out) != `{"deny":[{"message":"CVE-1","rule":"r","severity":"HIGH","refs":["p"]}],"warn":[]}` {
		t.Errorf("Evaluate = %s, %v", out, err)
	}
	if _, err := Evaluate(f, []byte(`{"apiVersion":"v0"}`)); err == nil || !strings.Contains(err.Error(), "apiVersion") {
		t.Errorf("wrong apiVersion: %v", err)
	}
}

func FuzzParsePurl(f *testing.F) {
	f.Add("pkg:npm/%40babel/core@7.24.0?a=b#c")
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParsePurl(s) })
}
