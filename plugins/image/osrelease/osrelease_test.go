package osrelease

import (
	"os"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	tests := []struct{ file, family, version, name string }{
		{"debian", "debian", "12", "Debian GNU/Linux 12 (bookworm)"},
		{"alpine", "alpine", "3.20.3", "Alpine Linux v3.20"},
		{"ubuntu", "ubuntu", "22.04", "Ubuntu 22.04.4 LTS"},
	}
	for _, tt := range tests {
		data, _ := os.ReadFile("testdata/" + tt.file)
		res, err := plugintest.AnalyzeBytes(New(), "etc/os-release", data)
		if err != nil {
			t.Fatal(err)
		}
		if o := res.OS; o == nil || o.Family != tt.family || o.Version != tt.version || o.Name != tt.name {
			t.Errorf("%s: %+v", tt.file, res.OS)
		}
	}
	data, _ := os.ReadFile("testdata/noid")
	if _, err := plugintest.AnalyzeBytes(New(), "etc/os-release", data); err == nil {
		t.Error("no error without ID")
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "etc/os-release")
}
