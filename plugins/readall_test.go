package plugins

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"testing/iotest"
)

// TestInputReadAll: the whole content up to the limit, whatever the size the
// walk saw (smaller when the file grew since, larger when it shrank), and
// read errors passed on.
func TestInputReadAll(t *testing.T) {
	content := strings.Repeat("0123456789", 1000)
	info := func(size int) fs.FileInfo {
		fsys := fstest.MapFS{"f": {Data: make([]byte, size)}}
		fi, err := fs.Stat(fsys, "f")
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	for _, tt := range []struct {
		name  string
		r     func() io.Reader
		info  fs.FileInfo
		limit int64
		want  int
	}{
		{"exact size", func() io.Reader { return strings.NewReader(content) }, info(len(content)), 1 << 20, len(content)},
		{"grew since the walk", func() io.Reader { return strings.NewReader(content) }, info(10), 1 << 20, len(content)},
		{"shrank since the walk", func() io.Reader { return strings.NewReader(content) }, info(1 << 16), 1 << 20, len(content)},
		{"no info", func() io.Reader { return strings.NewReader(content) }, nil, 1 << 20, len(content)},
		{"limit", func() io.Reader { return strings.NewReader(content) }, info(len(content)), 1001, 1001},
		{"shared bytes", func() io.Reader { return bytes.NewReader([]byte(content)) }, info(3), 1 << 20, len(content)},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(strings.NewReader(content)) }, info(len(content)), 1 << 20, len(content)},
		{"empty", func() io.Reader { return strings.NewReader("") }, info(0), 10, 0},
	} {
		got, err := (&Input{Path: "f", Reader: tt.r(), Info: tt.info}).ReadAll(tt.limit)
		if err != nil || len(got) != tt.want || string(got) != content[:tt.want] {
			t.Errorf("%s: %d bytes, %v; want %d", tt.name, len(got), err, tt.want)
		}
	}
	boom := errors.New("boom")
	if _, err := (&Input{Reader: io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom))}).ReadAll(10); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}
