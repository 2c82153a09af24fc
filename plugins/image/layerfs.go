package image

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"
)

// memFileMax is the largest claimed file a layer scan keeps in memory;
// larger ones (executables, archives) go to the layer's temporary
// directory. Most claimed files are small manifests (package.json,
// METADATA, dpkg status), and writing thousands of them to disk cost more
// in system calls than reading them.
const memFileMax = 4 << 20

// memTotalMax bounds what one layer scan holds in memory in all; past it,
// every further claimed file goes to disk (a hostile layer with a million
// claimed files costs disk, not memory).
const memTotalMax = 128 << 20

// layerFS is the claimed files of one layer as an fs.FS for the engine:
// small files in memory, large ones in a temporary directory. It holds only
// regular files and the directories leading to them.
type layerFS struct {
	files map[string]*layerFile
	dirs  map[string][]string // directory -> sorted child names
	tmp   string              // the directory large files are written to
	mem   int64               // bytes held in memory
	// fileMax and totalMax are memFileMax and memTotalMax (tests lower them).
	fileMax, totalMax int64
}

// layerFile is one claimed file.
type layerFile struct {
	info fileInfo
	data []byte // in memory, or nil when on disk
	disk string // the file in tmp, when not in memory
}

func newLayerFS(tmp string) *layerFS {
	return &layerFS{files: map[string]*layerFile{}, dirs: map[string][]string{".": nil}, tmp: tmp, fileMax: memFileMax, totalMax: memTotalMax}
}

// add stores the file at p (a clean relative slash path) read from r, in
// memory when it is small, else on disk below tmp (only directories and
// regular files are ever created there, and p has no "..", so nothing can
// leave tmp).
func (l *layerFS) add(p string, size int64, mode fs.FileMode, modTime time.Time, r io.Reader) error {
	if _, isDir := l.dirs[p]; isDir {
		return fmt.Errorf("%s: a file where the layer also has a directory", p)
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, isFile := l.files[d]; isFile {
			return fmt.Errorf("%s: below %s, which the layer has as a file", p, d)
		}
	}
	f := &layerFile{info: fileInfo{name: path.Base(p), size: size, mode: mode.Perm(), modTime: modTime}}
	if size <= l.fileMax && l.mem+size <= l.totalMax {
		l.mem += size
		f.data = make([]byte, size)
		if _, err := io.ReadFull(r, f.data); err != nil {
			return err
		}
	} else {
		f.disk = filepath.Join(l.tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f.disk), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(f.disk, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.CopyN(out, r, size)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if old, dup := l.files[p]; dup {
		l.mem -= int64(len(old.data)) // a later entry of the same path replaces it
	} else {
		l.link(p)
	}
	l.files[p] = f
	return nil
}

// link records p in its parent directory, and the parents in theirs.
func (l *layerFS) link(p string) {
	for {
		dir, name := path.Dir(p), path.Base(p)
		_, known := l.dirs[dir]
		l.dirs[dir] = append(l.dirs[dir], name)
		if known || dir == "." {
			return
		}
		p = dir
	}
}

// Open implements fs.FS.
func (l *layerFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if f, ok := l.files[name]; ok {
		if f.data == nil {
			df, err := os.Open(f.disk)
			if err != nil {
				return nil, err
			}
			return &diskFile{File: df, info: f.info}, nil
		}
		return &memFile{Reader: bytes.NewReader(f.data), info: f.info}, nil
	}
	if children, ok := l.dirs[name]; ok {
		names := slices.Compact(slices.Sorted(slices.Values(children)))
		entries := make([]fs.DirEntry, 0, len(names))
		for _, c := range names {
			full := c
			if name != "." {
				full = name + "/" + c
			}
			if f, ok := l.files[full]; ok {
				entries = append(entries, fs.FileInfoToDirEntry(f.info))
			} else {
				entries = append(entries, fs.FileInfoToDirEntry(fileInfo{name: c, mode: fs.ModeDir | 0o755}))
			}
		}
		return &memDir{info: fileInfo{name: path.Base(name), mode: fs.ModeDir | 0o755}, entries: entries}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// fileInfo is the fs.FileInfo of a layerFS entry.
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.modTime }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

// memFile is an open in-memory file: it reads, seeks and reads at offsets
// (analyzers of executables and archives need io.ReaderAt).
type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// diskFile is an open large file: the temporary copy, with the layer's
// own name, mode and time.
type diskFile struct {
	*os.File
	info fileInfo
}

func (f *diskFile) Stat() (fs.FileInfo, error) { return f.info, nil }

// memDir is an open directory.
type memDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Close() error               { return nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}

// ReadDir implements fs.ReadDirFile.
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return rest, nil
}

var _ fs.ReadDirFile = (*memDir)(nil)
