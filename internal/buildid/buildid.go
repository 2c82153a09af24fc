// Package buildid identifies a build of shipgate, so that results cached by
// one build (image layers, code-stage files) are never served to another,
// whose analyzers may find different things in the same bytes.
//
// The identity is the Go build ID the linker writes into every executable
// (it changes with any change to the code, the dependencies or the build
// flags), read from the ELF note or the start of the text where the linker
// puts it; an executable without one is identified by the hash of its
// whole content. Version strings are not used: a development build keeps
// "(devel)" through every edit.
package buildid

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// prefix and suffix frame the build ID the Go linker writes at the start of
// the text segment (cmd/internal/buildid).
var (
	prefix = []byte("\xff Go build ID: \"")
	suffix = []byte("\"\n \xff")
)

// headSize is how much of the start of an executable is searched for the
// framed build ID (the Go tool reads 32 KiB; Mach-O text starts later).
const headSize = 64 << 10

// Self returns the identity of the running executable.
func Self() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("build id: %w", err)
	}
	return File(exe)
}

// File returns the identity of the executable at path: "go:" and its Go
// build ID, or "sha256:" and the hash of the file when it has none (built
// with -buildid= or not by Go).
func File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("build id: %w", err)
	}
	defer f.Close()
	if id := elfNote(f); id != "" {
		return "go:" + id, nil
	}
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("build id %s: %w", path, err)
	}
	if id := framed(head[:n]); id != "" {
		return "go:" + id, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("build id %s: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("build id %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// elfNote returns the build ID from an ELF executable's Go note, or "".
func elfNote(r io.ReaderAt) string {
	ef, err := elf.NewFile(r)
	if err != nil {
		return ""
	}
	defer ef.Close()
	s := ef.Section(".note.go.buildid")
	if s == nil || s.Size > 4096 {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	// An ELF note: name size, descriptor size, type, then the name "Go"
	// padded to 4 bytes and the descriptor, which is the build ID.
	order := ef.ByteOrder
	namesz, descsz := order.Uint32(data[0:]), order.Uint32(data[4:])
	if namesz != 4 || !bytes.Equal(data[12:16], []byte("Go\x00\x00")) || uint64(descsz) > uint64(len(data)-16) {
		return ""
	}
	return string(data[16 : 16+descsz])
}

// framed returns the build ID framed by prefix and suffix in b, or "".
func framed(b []byte) string {
	i := bytes.Index(b, prefix)
	if i < 0 {
		return ""
	}
	rest := b[i+len(prefix):]
	j := bytes.Index(rest, suffix)
	if j <= 0 || j > 256 {
		return ""
	}
	return string(rest[:j])
}
