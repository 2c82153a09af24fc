// Package rootfs gives the tree below an os.Root as an fs.FS whose Open
// costs one system call where the kernel can confine a path by itself.
//
// os.Root opens a file by walking its path one directory at a time (an
// openat and a close per element, so ~16 system calls for a file 8 levels
// deep), which was most of the system time of a 50,000-file scan. On Linux
// 5.6 and later, openat2 with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS opens
// the same file in one call, the kernel refusing any path that would leave
// the root or cross a symbolic link. Whatever that call refuses (a symbolic
// link inside the tree, a path that does not exist, a directory, a kernel or
// seccomp profile without openat2) is opened through the os.Root instead, so
// the results, errors and confinement are the os.Root's in every case.
//
// Unlike the os.Root's fs.FS, it never blocks on a named pipe (made in the
// tree by a build step before the scan), which an analyzer opening it, a
// go.sum beside a go.mod say, would otherwise wait on for ever.
package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
)

// ErrNotRegular is the error of Open for a file that is neither a regular
// file nor a directory: a named pipe or a device would block the scan or
// never end.
var ErrNotRegular = errors.New("not a regular file or directory")

// FS is the tree below an os.Root. Every method but Open and ReadFile is
// the os.Root's own (its fs.FS); Open tries the one-call path first, and
// both refuse named pipes, devices and sockets (ErrNotRegular) without
// blocking on them. It is safe for concurrent use.
type FS struct {
	root *os.Root
	fsys fs.FS
	fast *opener // nil where there is no one-call path
	// fastOpens counts the files the one-call path opened (for tests).
	fastOpens atomic.Int64
}

// New returns root's tree. Close it before closing root.
func New(root *os.Root) *FS {
	return &FS{root: root, fsys: root.FS(), fast: newOpener(root)}
}

// Close releases the directory handle of the one-call path; root itself
// stays open.
func (f *FS) Close() error {
	return f.fast.close()
}

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if file, err := f.fast.open(name); file != nil || err != nil {
		if file != nil {
			f.fastOpens.Add(1)
			return file, nil
		}
		return nil, err
	}
	// Without blocking: opening a named pipe for reading waits for a
	// writer, for ever.
	file, err := f.root.OpenFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() && !st.IsDir() {
		file.Close()
		if err == nil {
			err = &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
		}
		return nil, err
	}
	return file, nil
}

// ReadFile implements fs.ReadFileFS, through Open.
func (f *FS) ReadFile(name string) ([]byte, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(file)
}

// ReadDir implements fs.ReadDirFS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.fsys, name) }

// Stat implements fs.StatFS.
func (f *FS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(f.fsys, name) }

// Lstat implements fs.ReadLinkFS.
func (f *FS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(f.fsys, name) }

// ReadLink implements fs.ReadLinkFS.
func (f *FS) ReadLink(name string) (string, error) { return fs.ReadLink(f.fsys, name) }
