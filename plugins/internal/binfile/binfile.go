// Package binfile holds what the analyzers of executables and archives
// share: which files look like executables worth opening, and random access
// to an analyzer's input (debug/elf, debug/pe, archive/zip need an
// io.ReaderAt).
package binfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/shipgate/shipgate/plugins"
)

// textExts are name suffixes of files that are never executables.
var textExts = map[string]bool{
	".sh": true, ".bash": true, ".zsh": true, ".py": true, ".pl": true, ".rb": true, ".js": true,
	".txt": true, ".md": true, ".json": true, ".yaml": true, ".yml": true, ".xml": true, ".html": true,
	".conf": true, ".cfg": true, ".ini": true, ".csv": true, ".go": true, ".c": true, ".h": true,
	".jar": true, ".war": true, ".zip": true, ".gz": true, ".tgz": true, ".png": true, ".jpg": true,
	".ps1": true, ".bat": true, ".cmd": true, ".lock": true, ".toml": true, ".mod": true, ".sum": true,
}

// Executable reports whether the file at p is worth opening as an
// executable: a regular file between minSize and maxSize bytes that is
// either named .exe or has an executable bit and no name suffix of a text,
// script or archive format. The content's magic is checked later
// (ExecutableMagic).
func Executable(p string, info fs.FileInfo, minSize, maxSize int64) bool {
	if info == nil || !info.Mode().IsRegular() {
		return false
	}
	if size := info.Size(); size < minSize || size > maxSize {
		return false
	}
	ext := strings.ToLower(path.Ext(p))
	if ext == ".exe" {
		return true
	}
	return info.Mode().Perm()&0o111 != 0 && !textExts[ext]
}

// ExecutableMagic reports whether the content starts like an executable
// format debug/elf, debug/pe, debug/macho or a WebAssembly reader opens:
// ELF, PE (MZ), Mach-O (both byte orders, 32 and 64 bits, universal), XCOFF,
// WebAssembly.
func ExecutableMagic(ra io.ReaderAt) bool {
	var b [4]byte
	if n, _ := ra.ReadAt(b[:], 0); n < 4 {
		return false
	}
	s := string(b[:])
	switch {
	case s == "\x7fELF", s[:2] == "MZ", s == "\x00asm":
		return true
	case s == "\xfe\xed\xfa\xce", s == "\xfe\xed\xfa\xcf", s == "\xce\xfa\xed\xfe", s == "\xcf\xfa\xed\xfe", s == "\xca\xfe\xba\xbe":
		return true
	case s[:2] == "\x01\xdf", s[:2] == "\x01\xf7":
		return true
	}
	return false
}

// ReaderAt returns random access to in's content and its size: the Reader
// itself when it supports it (an *os.File does), else a temporary copy of at
// most limit bytes (larger content is an error). The cleanup function
// removes the copy.
func ReaderAt(in *plugins.Input, limit int64, tmpPrefix string) (io.ReaderAt, int64, func(), error) {
	if ra, ok := in.Reader.(io.ReaderAt); ok {
		if size, ok := inputSize(in); ok {
			return ra, size, func() {}, nil
		}
	}
	tmp, err := os.CreateTemp("", "shipgate-"+tmpPrefix+"-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("temporary copy: %w", err)
	}
	cleanup := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	n, err := io.Copy(tmp, io.LimitReader(in.Reader, limit+1))
	if err != nil {
		cleanup()
		return nil, 0, nil, fmt.Errorf("copy to temporary file: %w", err)
	}
	if n > limit {
		cleanup()
		return nil, 0, nil, fmt.Errorf("file larger than %d bytes", limit)
	}
	return tmp, n, cleanup, nil
}

// inputSize is the size of in's content when the reader or the file info
// knows it.
func inputSize(in *plugins.Input) (int64, bool) {
	switch r := in.Reader.(type) {
	case interface{ Size() int64 }:
		return r.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if info, err := r.Stat(); err == nil {
			return info.Size(), true
		}
	}
	if in.Info != nil {
		return in.Info.Size(), true
	}
	return 0, false
}
