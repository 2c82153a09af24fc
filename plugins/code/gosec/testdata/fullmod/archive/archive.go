// Package archive has decompression issues.
package archive

import (
	"archive/zip"
	"compress/gzip"
	"io"
	"path/filepath"
)

// Inflate copies a whole gzip stream: G110.
func Inflate(dst io.Writer, src io.Reader) error {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, zr)
	return err
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
func Extract(r *zip.Reader, dest string) ([]string, error) {
	var out []string
	for _, f := range r.File {
		p := filepath.Join(dest, f.Name)
		out = append(out, p)
	}
	return out, nil
}

// ExtractFixed joins a constant name: fine.
func ExtractFixed(dest string) string {
	return filepath.Join(dest, "out.bin")
}
