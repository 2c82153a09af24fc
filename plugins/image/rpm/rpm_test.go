package rpm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

// rpmdbTestdata returns go-rpmdb's own test databases (taken from real
// CentOS, Fedora, SUSE and CBL-Mariner images; their expected contents come
// from rpm -qa in those images) from the module cache.
func rpmdbTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Skipf("go-rpmdb module not found: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "pkg", "testdata")
}

func TestDatabases(t *testing.T) {
	td := rpmdbTestdata(t)
	for _, tt := range []struct {
		dir, file, target       string
		name, version, src, lic string
		count                   int
	}{
		// Berkeley DB. Counts are rpm -qa's in those images, gpg-pubkey
		// entries (keys, not software) left out.
		{"centos7-plain", "Packages", "var/lib/rpm/Packages", "bash", "4.2.46-30.el7", "bash", "GPLv3+", 144},
		{"centos6-plain", "Packages", "var/lib/rpm/Packages", "glibc", "2.12-1.212.el6", "glibc", "", 0},
		// SQLite (Fedora 35, CBL-Mariner 2.0), also at the /usr/lib/sysimage location.
		{"fedora35", "rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite", "bash", "5.1.8-2.fc35", "bash", "GPLv3+", 137},
		{"fedora35", "rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite", "glibc-common", "2.34-8.fc35", "glibc", "", 0},
		{"cbl-mariner-2.0", "rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite", "bash", "", "bash", "", 0},
		// NDB (SUSE BCI 15.3).
		{"sle15-bci", "Packages.db", "usr/lib/sysimage/rpm/Packages.db", "libreadline7", "7.0-19.6.1", "bash", "GPL-3.0-or-later", 35},
	} {
		t.Run(tt.dir+"/"+tt.target, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, filepath.Dir(tt.target)), 0o755)
			data, err := os.ReadFile(filepath.Join(td, tt.dir, tt.file))
			if err != nil {
				t.Skip(err)
			}
			os.WriteFile(filepath.Join(root, tt.target), data, 0o644)
			if !New().FileRequired(tt.target, nil) {
				t.Fatalf("%s not claimed", tt.target)
			}
			res, err := plugintest.Analyze(t, New(), root, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) < 10 || (tt.count > 0 && len(res.Packages) != tt.count) {
				t.Fatalf("%d packages, want %d", len(res.Packages), tt.count)
			}
			found := false
			for _, p := range res.Packages {
				if p.Name == tt.name {
					found = true
					if (tt.version != "" && p.Version != tt.version) || p.SrcName != tt.src || p.Arch == "" ||
						(tt.lic != "" && (len(p.Licenses) != 1 || p.Licenses[0] != tt.lic)) {
						t.Errorf("%s: %+v", tt.name, p)
					}
					if p.Locations[0].Path != tt.target || !strings.HasPrefix(p.Purl, "pkg:rpm/") {
						t.Errorf("%s: location %v purl %s", tt.name, p.Locations, p.Purl)
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

func TestBroken(t *testing.T) {
	for path, data := range map[string]string{
		"var/lib/rpm/rpmdb.sqlite":          "SQLite format 3\x00 and then nothing a database has",
		"var/lib/rpm/Packages":              "not a berkeley db",
		"usr/lib/sysimage/rpm/Packages.db":  "RpmP\x00\x00\x00\x00 truncated NDB",
		"usr/lib/sysimage/rpm/rpmdb.sqlite": "",
	} {
		res, err := plugintest.AnalyzeBytes(New(), path, []byte(data))
		if err == nil || res != nil && len(res.Packages) > 0 {
			t.Errorf("%s: garbage accepted: %v %v", path, res, err)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: the error does not name the file: %v", path, err)
		}
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
