package rpm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// rpmdbTestdata returns go-rpmdb's own test databases (real CentOS
// images' var/lib/rpm/Packages) from the module cache.
func rpmdbTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Skipf("go-rpmdb module not found: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "pkg", "testdata")
}

func TestCentOS(t *testing.T) {
	td := rpmdbTestdata(t)
	for _, tt := range []struct {
		dir, name, version, src string
		min                     int
	}{
		{"centos7-plain", "bash", "4.2.46-30.el7", "bash", 100},
		{"centos6-plain", "glibc", "2.12-1.212.el6", "glibc", 100},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755)
			data, err := os.ReadFile(filepath.Join(td, tt.dir, "Packages"))
			if err != nil {
				t.Skip(err)
			}
			os.WriteFile(filepath.Join(root, "var/lib/rpm/Packages"), data, 0o644)
			res, err := plugintest.Analyze(t, New(), root, "var/lib/rpm/Packages")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) < tt.min {
				t.Fatalf("%d packages", len(res.Packages))
			}
			found := false
			for _, p := range res.Packages {
				if p.Name == tt.name {
					found = true
					if p.Version != tt.version || p.SrcName != tt.src || p.Arch == "" {
						t.Errorf("%s: %+v", tt.name, p)
					}
				}
				if p.Name == "gpg-pubkey" {
					t.Error("gpg-pubkey listed as a package")
				}
			}
			if !found {
				t.Errorf("%s not found", tt.name)
			}
		})
	}
}

func TestUnsupportedAndBroken(t *testing.T) {
	_, err := plugintest.AnalyzeBytes(New(), "var/lib/rpm/rpmdb.sqlite", []byte("SQLite format 3\x00"))
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("sqlite: %v", err)
	}
	_, err = plugintest.AnalyzeBytes(New(), "var/lib/rpm/Packages", []byte("not a berkeley db"))
	if err == nil {
		t.Error("garbage accepted")
	}
}

func TestSplitSourceRPM(t *testing.T) {
	for in, want := range map[string][2]string{
		"glibc-2.17-317.el7.src.rpm":      {"glibc", "2.17-317.el7"},
		"python-pip-9.0.3-8.el7.src.rpm":  {"python-pip", "9.0.3-8.el7"},
		"nosuch":                          {"", ""},
		"openssl-1.0.2k-19.el7.nosrc.rpm": {"openssl", "1.0.2k-19.el7"},
	} {
		n, v := splitSourceRPM(in)
		if n != want[0] || v != want[1] {
			t.Errorf("%s: %s %s", in, n, v)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte("not a db"))
	f.Add(make([]byte, 4096))
	plugintest.Fuzz(f, New(), "var/lib/rpm/Packages")
}
