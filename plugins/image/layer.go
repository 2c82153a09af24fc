package image

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// layerResult is what one layer holds, independent of every other layer:
// it is cached by diffID. Paths and whiteouts let the merge decide which
// results survive in the final filesystem.
type layerResult struct {
	// Key identifies the analyzers that produced it (cache validity).
	Key    string `json:"key"`
	DiffID string `json:"diffId"`
	// Paths are every non-directory entry of the layer.
	Paths []string `json:"paths"`
	// Whiteouts are paths the layer deletes; Opaque are directories whose
	// lower content it hides.
	Whiteouts []string                `json:"whiteouts,omitempty"`
	Opaque    []string                `json:"opaque,omitempty"`
	Packages  []report.Package        `json:"packages"`
	Findings  []report.Finding        `json:"findings"`
	Analyzers []report.AnalyzerStatus `json:"analyzers"`
	OS        *report.OS              `json:"os,omitempty"`
	// OSPath is the file the OS was read from.
	OSPath string `json:"osPath,omitempty"`
	// Bytes is the uncompressed size read.
	Bytes int64 `json:"bytes"`
}

// cleanPath turns a tar entry name into a slash path relative to the root,
// with no "..": "./usr/bin/x", "/usr/bin/x" and "usr/../usr/bin/x" are all
// "usr/bin/x". It reports false for the root itself.
func cleanPath(name string) (string, bool) {
	p := path.Clean("/" + name)
	if p == "/" {
		return "", false
	}
	return p[1:], true
}

// countingReader fails once more than limit bytes were read.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, fmt.Errorf("layer expands past %d bytes: refusing (decompression bomb?)", c.limit)
	}
	return n, err
}

// scanLayer streams one layer once: it records every path and whiteout,
// extracts only the files some analyzer claims (each within the size limit)
// into a private temporary directory, and runs the analyzers there.
func scanLayer(ctx context.Context, layer v1.Layer, diffID v1.Hash, analyzers []plugins.Analyzer, o Options) (*layerResult, error) {
	res := &layerResult{DiffID: diffID.String()}
	rc, err := uncompressed(layer)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", short(diffID), err)
	}
	defer rc.Close()

	limit := o.MaxLayerBytes
	if cs, err := layer.Size(); err == nil && cs > 0 && o.MaxRatio > 0 {
		// A ratio cap, but never below a floor that real layers reach.
		limit = min(limit, max(cs*o.MaxRatio, 256<<20))
	}
	hash := sha256.New()
	cr := &countingReader{r: io.TeeReader(rc, hash), limit: limit}

	tmp, err := os.MkdirTemp(o.TempDir, "shipgate-layer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	files := newLayerFS(tmp)

	var sizeErrs []report.FileError
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s: read tar: %w", short(diffID), err)
		}
		p, ok := cleanPath(h.Name)
		if !ok {
			continue
		}
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if base == ".wh..wh..opq" {
			res.Opaque = append(res.Opaque, dir)
			continue
		}
		if name, ok := strings.CutPrefix(base, ".wh."); ok {
			res.Whiteouts = append(res.Whiteouts, path.Join(dir, name))
			continue
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		res.Paths = append(res.Paths, p)
		if h.Typeflag != tar.TypeReg {
			continue // symlinks, hard links, devices: present, never extracted
		}
		info := h.FileInfo()
		claimed := false
		for _, a := range analyzers {
			if a.FileRequired(p, info) {
				claimed = true
				break
			}
		}
		if !claimed {
			continue
		}
		if h.Size > o.MaxFileSize {
			sizeErrs = append(sizeErrs, report.FileError{Path: p, Message: fmt.Sprintf("file too large to analyse: %d bytes (limit %d)", h.Size, o.MaxFileSize)})
			continue
		}
		if err := files.add(p, h.Size, os.FileMode(h.Mode)&0o755|0o600, h.ModTime, tr); err != nil {
			return nil, fmt.Errorf("layer %s: extract %s: %w", short(diffID), p, err)
		}
	}
	// Drain what tar did not read (padding), so that the digest is checked.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, fmt.Errorf("layer %s: %w", short(diffID), err)
	}
	res.Bytes = cr.n
	if diffID.Algorithm == "sha256" && hex.EncodeToString(hash.Sum(nil)) != diffID.Hex {
		return nil, fmt.Errorf("layer %s: content does not match its diffID (sha256:%x): refusing it", short(diffID), hash.Sum(nil))
	}

	out, err := engine.Run(ctx, files, analyzers, engine.Options{MaxFileSize: o.MaxFileSize, Workers: 1})
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", short(diffID), err)
	}
	res.Packages, res.Findings, res.Analyzers, res.OS = out.Packages, out.Findings, out.Analyzers, out.OS
	if len(sizeErrs) > 0 && len(res.Analyzers) > 0 {
		res.Analyzers[0].Errors = append(res.Analyzers[0].Errors, sizeErrs...)
		res.Analyzers[0].Status = report.StatusError
	}
	return res, nil
}

// uncompressed opens the layer's tar stream. It reads the blob as stored
// and decompresses it with klauspost/compress (gzip about twice as fast as
// the standard library's; zstd), telling the format by its magic bytes.
// Reading the compressed blob to its end also has go-containerregistry
// verify its digest.
func uncompressed(layer v1.Layer) (io.ReadCloser, error) {
	blob, err := layer.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(blob, 256<<10)
	magic, _ := br.Peek(4)
	closeBoth := func(c io.Closer) func() error {
		return func() error { c.Close(); return blob.Close() }
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := kgzip.NewReader(br)
		if err != nil {
			blob.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readAhead(zr, closeBoth(zr)), nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			blob.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return readAhead(zr, func() error { zr.Close(); return blob.Close() }), nil
	}
	return readCloser{br, blob.Close}, nil
}

// readAheadChunk is how much decompressed data is handed over at a time,
// and readAheadChunks how many chunks circulate between the two sides.
const (
	readAheadChunk  = 1 << 20
	readAheadChunks = 4
)

// readAhead decompresses r in a goroutine of its own, a few chunks ahead of
// the consumer, so that decompression (the larger half of a layer's cost)
// overlaps hashing, tar parsing and extraction on another core instead of
// alternating with them. Filled chunks go to the consumer and come back
// empty, so the data is copied once on the way (the decompressor writes it
// into the chunk, the consumer reads it out). Errors, EOF included, reach
// the consumer in order; closing stops the goroutine before closeSrc
// releases r.
func readAhead(r io.Reader, closeSrc func() error) io.ReadCloser {
	ra := &aheadReader{
		full:     make(chan aheadChunk, readAheadChunks),
		empty:    make(chan []byte, readAheadChunks),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		closeSrc: closeSrc,
	}
	for range readAheadChunks {
		ra.empty <- make([]byte, readAheadChunk)
	}
	go ra.fill(r)
	return ra
}

// aheadChunk is a filled chunk, or the error that ends the stream.
type aheadChunk struct {
	b   []byte
	err error
}

type aheadReader struct {
	full     chan aheadChunk
	empty    chan []byte
	stop     chan struct{}
	done     chan struct{}
	closeSrc func() error

	cur  []byte // the chunk being read (its unread part is cur[off:])
	off  int
	err  error
	once sync.Once
}

// fill runs on its own goroutine until the stream ends or the reader is
// closed.
func (a *aheadReader) fill(r io.Reader) {
	defer close(a.done)
	for {
		var buf []byte
		select {
		case buf = <-a.empty:
		case <-a.stop:
			return
		}
		n, err := io.ReadFull(r, buf[:cap(buf)])
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		if n > 0 {
			select {
			case a.full <- aheadChunk{b: buf[:n]}:
			case <-a.stop:
				return
			}
		}
		if err != nil {
			select {
			case a.full <- aheadChunk{err: err}:
			case <-a.stop:
			}
			return
		}
	}
}

// Read implements io.Reader.
func (a *aheadReader) Read(p []byte) (int, error) {
	for a.off == len(a.cur) {
		if a.err != nil {
			return 0, a.err
		}
		if a.cur != nil {
			a.empty <- a.cur[:0] // never blocks: at most readAheadChunks circulate
			a.cur = nil
		}
		c := <-a.full
		if c.err != nil {
			a.err = c.err
			return 0, a.err
		}
		a.cur, a.off = c.b, 0
	}
	n := copy(p, a.cur[a.off:])
	a.off += n
	return n, nil
}

// WriteTo implements io.WriterTo, handing whole chunks to w (io.Copy to a
// hash or to io.Discard copies nothing more).
func (a *aheadReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if a.off < len(a.cur) {
			n, err := w.Write(a.cur[a.off:])
			total += int64(n)
			a.off += n
			if err != nil {
				return total, err
			}
		}
		if _, err := a.Read(nil); err != nil {
			if err == io.EOF {
				return total, nil
			}
			return total, err
		}
	}
}

// Close stops the goroutine, waits for it and closes the source.
func (a *aheadReader) Close() error {
	a.once.Do(func() { close(a.stop) })
	<-a.done
	return a.closeSrc()
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

func short(h v1.Hash) string {
	s := h.String()
	if len(s) > 19 {
		return s[:19]
	}
	return s
}
