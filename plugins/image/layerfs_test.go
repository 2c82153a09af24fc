package image

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestLayerFS: small files in memory, large ones on disk, one fs.FS that
// passes the standard library's file system checks; a file where a
// directory is (or below a file) is an error, not a silent drop.
func TestLayerFS(t *testing.T) {
	l := newLayerFS(t.TempDir())
	l.fileMax, l.totalMax = 1024, 4096
	now := time.Unix(1700000000, 0)
	big := bytes.Repeat([]byte("x"), 1025)
	for p, data := range map[string][]byte{
		"var/lib/dpkg/status":                []byte("Package: bash\n"),
		"app/node_modules/a/package.json":    []byte(`{"name":"a"}`),
		"app/node_modules/@s/b/package.json": []byte(`{"name":"b"}`),
		"usr/local/bin/tool":                 big,
	} {
		if err := l.add(p, int64(len(data)), 0o755, now, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := fstest.TestFS(l, "var/lib/dpkg/status", "app/node_modules/a/package.json", "app/node_modules/@s/b/package.json", "usr/local/bin/tool"); err != nil {
		t.Fatal(err)
	}
	f, err := l.Open("usr/local/bin/tool")
	if err != nil {
		t.Fatal(err)
	}
	if ra, ok := f.(io.ReaderAt); !ok {
		t.Error("a large file is not an io.ReaderAt")
	} else if n, _ := ra.ReadAt(make([]byte, 4), 1022); n != 3 {
		t.Errorf("ReadAt: %d", n)
	}
	f.Close()
	if _, ok := l.files["usr/local/bin/tool"]; !ok || l.files["usr/local/bin/tool"].data != nil {
		t.Error("the large file is held in memory")
	}
	// Past the total, small files go to disk too.
	for i := range 5 {
		p := "many/f" + string(rune('a'+i))
		if err := l.add(p, 1000, 0o644, now, bytes.NewReader(make([]byte, 1000))); err != nil {
			t.Fatal(err)
		}
	}
	if l.mem > l.totalMax || l.files["many/fe"].data != nil {
		t.Errorf("%d bytes in memory (cap %d)", l.mem, l.totalMax)
	}
	for _, p := range []string{"var/lib/dpkg/status/child", "var/lib"} {
		err := l.add(p, 1, 0o644, now, strings.NewReader("x"))
		if err == nil {
			t.Errorf("%s: want an error", p)
		}
	}
	if _, err := fs.Stat(l, "nope"); err == nil {
		t.Error("missing file found")
	}
}
