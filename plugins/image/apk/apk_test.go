package apk

import (
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestInstalled(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "lib/apk/db/installed")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 3 || len(res.Errors) != 0 {
		t.Fatalf("packages %d errors %v", len(res.Packages), res.Errors)
	}
	musl, crypto, ssl := res.Packages[0], res.Packages[1], res.Packages[2]
	if musl.Name != "musl" || musl.Version != "1.2.5-r0" || musl.Locations[0].Line != 1 || musl.Licenses[0] != "MIT" || len(musl.Hashes) != 1 {
		t.Errorf("musl %+v", musl)
	}
	if crypto.SrcName != "openssl" || crypto.Purl != "pkg:apk/libcrypto3@3.3.2-r0?arch=x86_64" {
		t.Errorf("libcrypto3 %+v", crypto)
	}
	if len(ssl.DependsOn) != 2 || ssl.DependsOn[0] != musl.BOMRef || ssl.DependsOn[1] != crypto.BOMRef {
		t.Errorf("libssl3 depends on %v", ssl.DependsOn)
	}
}

func TestBadInput(t *testing.T) {
	res, err := plugintest.AnalyzeBytes(New(), "lib/apk/db/installed", []byte("\ufeffP:a\r\nV:1\r\n\r\ngarbage\nP:b\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || len(res.Errors) != 2 {
		t.Fatalf("packages %+v errors %+v", res.Packages, res.Errors)
	}
	_, err = plugintest.AnalyzeBytes(New(), "lib/apk/db/installed", []byte("P:"+strings.Repeat("x", 2<<20)))
	if err == nil {
		t.Fatal("no error for a 2 MiB line")
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "lib/apk/db/installed")
}
