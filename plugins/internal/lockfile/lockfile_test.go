package lockfile

import (
	"errors"
	"testing"
)

func TestSRIHashes(t *testing.T) {
	got := SRIHashes("sha512-AAEC sha1-AwQ=?foo md5-xx bogus sha256-!!!")
	if len(got) != 2 || got[0].Algorithm != "SHA-512" || got[0].Value != "000102" || got[1].Algorithm != "SHA-1" || got[1].Value != "0304" {
		t.Errorf("%+v", got)
	}
}

func TestYAMLErrorLine(t *testing.T) {
	if n := YAMLErrorLine(errors.New("yaml: line 12: did not find expected key")); n != 12 {
		t.Errorf("got %d", n)
	}
	if n := YAMLErrorLine(errors.New("no position")); n != 0 {
		t.Errorf("got %d", n)
	}
}
