//go:build unix

package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestNamedPipe: a named pipe in the tree (say go.sum beside a go.mod,
// made by a build step before the scan) is refused at once, in both modes,
// reached directly or through a link, where the os.Root's Open would wait
// for a writer for ever.
func TestNamedPipe(t *testing.T) {
	modes(t, false, func(t *testing.T, f *FS) {
		dir := filepath.Join(f.root.Name(), "d")
		if err := syscall.Mkfifo(filepath.Join(dir, "go.sum"), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		if err := os.Symlink("go.sum", filepath.Join(dir, "pipe-link")); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 4)
		go func() {
			for _, name := range []string{"d/go.sum", "d/pipe-link"} {
				file, err := f.Open(name)
				if err == nil {
					file.Close()
				}
				done <- err
				_, err = f.ReadFile(name)
				done <- err
			}
		}()
		for range 4 {
			select {
			case err := <-done:
				if !errors.Is(err, ErrNotRegular) {
					t.Errorf("open a named pipe: %v, want ErrNotRegular", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("open of a named pipe blocked")
			}
		}
		// Its metadata is still there, for the walk.
		if st, err := fs.Lstat(f, "d/go.sum"); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("Lstat = %v, %v", st, err)
		}
	})
}
