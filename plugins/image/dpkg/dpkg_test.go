package dpkg

import (
	"os"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestStatus(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, version, src, srcVer string
		line                       int
	}{
		{"libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4", 1},
		{"libssl3", "3.0.11-1~deb12u2+b1", "openssl", "3.0.11-1~deb12u2", 21},
		{"bash", "5.2.15-2+b2", "bash", "5.2.15-2+b2", 28},
	}
	if len(res.Packages) != len(want) || len(res.Errors) != 0 {
		t.Fatalf("got %d packages, errors %v", len(res.Packages), res.Errors)
	}
	for i, w := range want {
		p := res.Packages[i]
		if p.Name != w.name || p.Version != w.version || p.SrcName != w.src || p.SrcVersion != w.srcVer || p.Locations[0].Line != w.line || p.Ecosystem != report.EcosystemDeb || p.Arch != "amd64" {
			t.Errorf("package %d = %+v, want %+v", i, p, w)
		}
	}
	if res.Packages[0].Purl != "pkg:deb/libc6@2.36-9%2Bdeb12u4?arch=amd64" {
		t.Errorf("purl %s", res.Packages[0].Purl)
	}
}

func TestStatusD(t *testing.T) {
	a := New()
	if a.FileRequired("var/lib/dpkg/status.d/base-files.md5sums", nil) || !a.FileRequired("var/lib/dpkg/status.d/base-files", nil) || a.FileRequired("var/lib/dpkg/status-old", nil) {
		t.Fatal("FileRequired")
	}
	res, err := plugintest.Analyze(t, a, "testdata", "var/lib/dpkg/status.d/base-files")
	if err != nil || len(res.Packages) != 1 || res.Packages[0].Version != "12.4+deb12u5" {
		t.Fatalf("%v %+v", err, res)
	}
}

func TestCRLFAndBadLines(t *testing.T) {
	data, _ := os.ReadFile("testdata/crlf-status")
	res, err := plugintest.AnalyzeBytes(New(), "var/lib/dpkg/status", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 || res.Packages[0].Version != "1" || len(res.Errors) != 1 || res.Errors[0].Line != 5 {
		t.Fatalf("packages %+v errors %+v", res.Packages, res.Errors)
	}
}

func TestHugeLine(t *testing.T) {
	data := "Package: a\nVersion: 1\nDescription: " + strings.Repeat("x", 2<<20) + "\n"
	_, err := plugintest.AnalyzeBytes(New(), "var/lib/dpkg/status", []byte(data))
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err %v", err)
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "var/lib/dpkg/status")
}
