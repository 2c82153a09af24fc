package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"
)

// tree makes a root with files, directories, symbolic links inside the
// tree, a file outside it and, when out is set, a link pointing to it.
func tree(t *testing.T, out bool) *os.Root {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	for name, data := range map[string]string{
		"a.txt":           "a",
		"d/b.go":          "package b",
		"d/e/f/deep.json": "{}",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "outside.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.txt", filepath.Join(dir, "d", "in-link")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	if out {
		if err := os.Symlink("../../outside.txt", filepath.Join(dir, "d", "out-link")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("e", filepath.Join(dir, "d", "dir-link")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// modes runs fn with the one-call path and without it: both must behave
// the same.
func modes(t *testing.T, out bool, fn func(t *testing.T, f *FS)) {
	for _, fast := range []bool{true, false} {
		t.Run(map[bool]string{true: "openat2", false: "os.Root"}[fast], func(t *testing.T) {
			f := New(tree(t, out))
			defer f.Close()
			if !fast {
				f.fast.close()
			}
			fn(t, f)
		})
	}
}

// TestFS: the conformance checks of testing/fstest, in both modes (on a
// tree without a link out of it, which os.Root refuses to open).
func TestFS(t *testing.T) {
	modes(t, false, func(t *testing.T, f *FS) {
		if err := fstest.TestFS(f, "a.txt", "d/b.go", "d/e/f/deep.json", "d/in-link"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOpen: what opens and what does not, in both modes: a link inside the
// tree is followed as os.Root follows it; a link or a path out of the tree,
// an absolute path and a missing file are refused with the os.Root's
// errors.
func TestOpen(t *testing.T) {
	modes(t, true, func(t *testing.T, f *FS) {
		for _, tt := range []struct {
			name, want string
			err        error
		}{
			{"a.txt", "a", nil},
			{"d/e/f/deep.json", "{}", nil},
			{"d/in-link", "a", nil},
			{"d/dir-link/f/deep.json", "{}", nil},
			{"d/out-link", "", errAny},
			{"../outside.txt", "", fs.ErrInvalid},
			{"d/../../outside.txt", "", fs.ErrInvalid},
			{"/etc/passwd", "", fs.ErrInvalid},
			{"missing.txt", "", fs.ErrNotExist},
		} {
			file, err := f.Open(tt.name)
			if tt.err != nil {
				if err == nil {
					file.Close()
					t.Errorf("%s: opened", tt.name)
				} else if tt.err != errAny && !errors.Is(err, tt.err) {
					t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			data, err := io.ReadAll(file)
			file.Close()
			if err != nil || string(data) != tt.want {
				t.Errorf("%s: %q, %v", tt.name, data, err)
			}
		}
		// A directory opens (through the os.Root) and lists.
		d, err := f.Open("d")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if entries, err := d.(fs.ReadDirFile).ReadDir(-1); err != nil || len(entries) != 5 {
			t.Errorf("ReadDir(d) = %d entries, %v", len(entries), err)
		}
	})
}

// errAny stands for any error.
var errAny = errors.New("any error")

// TestOneCall: on Linux, regular files reached without a symbolic link
// take the one-call path (unless this kernel lacks openat2).
func TestOneCall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("openat2 is Linux's")
	}
	f := New(tree(t, true))
	defer f.Close()
	for _, name := range []string{"a.txt", "d/e/f/deep.json", "d/in-link", "d", "missing"} {
		if file, err := f.Open(name); err == nil {
			file.Close()
		}
	}
	if f.fast.off.Load() {
		t.Skip("no openat2 on this kernel")
	}
	if n := f.fastOpens.Load(); n != 2 {
		t.Errorf("one-call opens: %d, want 2 (a.txt, d/e/f/deep.json)", n)
	}
}
