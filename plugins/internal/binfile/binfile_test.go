package binfile

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shipgate/shipgate/plugins"
)

func TestExecutable(t *testing.T) {
	fsys := fstest.MapFS{
		"bin/app":      {Data: make([]byte, 8192), Mode: 0o755},
		"bin/tiny":     {Data: make([]byte, 10), Mode: 0o755},
		"bin/run.sh":   {Data: make([]byte, 8192), Mode: 0o755},
		"app.exe":      {Data: make([]byte, 8192), Mode: 0o644},
		"lib/data.bin": {Data: make([]byte, 8192), Mode: 0o644},
	}
	for p, want := range map[string]bool{"bin/app": true, "bin/tiny": false, "bin/run.sh": false, "app.exe": true, "lib/data.bin": false} {
		info, err := fs.Stat(fsys, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := Executable(p, info, 4096, 1<<20); got != want {
			t.Errorf("Executable(%s) = %v", p, got)
		}
	}
	if Executable("x", nil, 0, 1) {
		t.Error("nil info claimed")
	}
}

func TestExecutableMagic(t *testing.T) {
	for in, want := range map[string]bool{"\x7fELF....": true, "MZ\x90\x00": true, "\xcf\xfa\xed\xfe": true, "\x00asm": true, "#!/bin/sh": false, "ab": false} {
		if got := ExecutableMagic(strings.NewReader(in)); got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
}

func TestReaderAt(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1000)
	// A plain io.Reader is copied to a temporary file, within the limit.
	ra, size, cleanup, err := ReaderAt(&plugins.Input{Path: "a", Reader: io.MultiReader(bytes.NewReader(data))}, 2000, "test")
	if err != nil || size != 1000 {
		t.Fatalf("%d %v", size, err)
	}
	b := make([]byte, 3)
	if n, _ := ra.ReadAt(b, 997); n != 3 {
		t.Errorf("ReadAt: %d", n)
	}
	cleanup()
	if _, _, _, err := ReaderAt(&plugins.Input{Path: "a", Reader: io.MultiReader(bytes.NewReader(data))}, 999, "test"); err == nil {
		t.Error("over the limit: want an error")
	}
	// A reader that knows its size is used as it is.
	ra, size, cleanup, err = ReaderAt(&plugins.Input{Path: "a", Reader: bytes.NewReader(data)}, 10, "test")
	if err != nil || size != 1000 || ra == nil {
		t.Fatalf("%d %v", size, err)
	}
	cleanup()
}
