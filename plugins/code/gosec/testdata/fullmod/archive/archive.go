// Package archive has decompression issues.
package archive

import (
	"archive/zip"
	"compress/gzip"
	"errors"
	"io"
	"path/filepath"
)

// Unpack copies every whole entry of a zip archive: G110 (the entry's type
// comes from the zip.Reader's fields: syntax mode cannot see it).
func Unpack(dst io.Writer, r *zip.Reader) error {
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		_, err = io.Copy(dst, rc)
		if err = errors.Join(err, rc.Close()); err != nil {
			return err
		}
	}
	return nil
}

// InflateLimited copies at most 1 MiB: fine.
func InflateLimited(dst io.Writer, src io.Reader) error {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return err
	}
	_, err = io.CopyN(dst, zr, 1<<20)
	return err
}

// Extract joins entry names to dest unchecked: G305.
func Extract(r *zip.Reader, dest string) []string {
	var out []string
	for _, f := range r.File {
		p := filepath.Join(dest, f.Name)
		out = append(out, p)
	}
	return out
}

// ExtractFixed joins a constant name: fine.
func ExtractFixed(dest string) string {
	return filepath.Join(dest, "out.bin")
}
