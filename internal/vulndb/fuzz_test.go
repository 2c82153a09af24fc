package vulndb

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExtract feeds arbitrary bytes to the db.tar.gz extractor: it must
// never panic, never read past its cap and never write anything but
// trivy.db and metadata.json inside the destination.
func FuzzExtract(f *testing.F) {
	f.Add(fixV1.tgz)
	f.Add(makeTGZ([]tarEntry{{name: "../evil", body: []byte("x")}}))
	f.Add(makeTGZ([]tarEntry{{name: dbFile, typeflag: '2', linkname: "/etc/passwd"}}))
	f.Add(makeTGZ([]tarEntry{{name: "./" + metadataFile, body: []byte(`{"Version":2}`)}, {name: "dir/", typeflag: '5'}}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dst := filepath.Join(root, "dst")
		if err := os.Mkdir(dst, 0o700); err != nil {
			t.Fatal(err)
		}
		_ = extract(context.Background(), bytes.NewReader(data), dst, 1<<20, func(string, ...any) {})
		for _, dir := range []string{root, dst} {
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				switch {
				case dir == root && e.Name() == "dst":
				case dir == dst && (e.Name() == dbFile || e.Name() == metadataFile) && e.Type().IsRegular():
					if fi, _ := e.Info(); fi != nil && fi.Size() > 1<<20 {
						t.Fatalf("%s is %d bytes, over the cap", e.Name(), fi.Size())
					}
				default:
					t.Fatalf("unexpected %s in %s", e.Name(), dir)
				}
			}
		}
	})
}

func TestExtractCapBoundary(t *testing.T) {
	tgz := makeTGZ([]tarEntry{{name: dbFile, body: bytes.Repeat([]byte{'a'}, 4096)}, {name: metadataFile, body: []byte(`{}`)}})
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	nop := func(string, ...any) {}
	if err := extract(context.Background(), bytes.NewReader(tgz), t.TempDir(), int64(len(raw)), nop); err != nil {
		t.Errorf("extract at exactly the cap (%d bytes): %v", len(raw), err)
	}
	err = extract(context.Background(), bytes.NewReader(tgz), t.TempDir(), int64(len(raw))-1, nop)
	if !errors.Is(err, errTooLarge) {
		t.Errorf("extract one byte over the cap = %v, want errTooLarge", err)
	}
}
