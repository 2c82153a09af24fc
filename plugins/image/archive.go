package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// archiveImage is a docker-archive image whose layers are read straight
// from their entries in the archive. go-containerregistry's tarball image
// derives a manifest for the layers, which hashes every compressed layer
// blob before the first byte is scanned (a full extra read of the image,
// even when every layer's results are in the cache); the scan needs only
// the diffIDs, which the config names and scanLayer verifies while it
// streams. Everything else comes from the embedded tarball image.
type archiveImage struct {
	v1.Image
	layers []v1.Layer
}

// Layers implements v1.Image without deriving the manifest.
func (a *archiveImage) Layers() ([]v1.Layer, error) { return a.layers, nil }

// tarEntry is where one entry's data lies in the archive.
type tarEntry struct {
	offset, size int64
	typ          byte
	link         string
}

// openArchiveImage opens a docker-archive at p (index is its entries, from
// indexTar; nil to read them here). When its manifest.json
// names exactly one image whose layer list matches the config's diffIDs,
// the layers read their entries directly; otherwise (several images, odd
// archives) go-containerregistry's layers are used as they are.
func openArchiveImage(p string, index map[string]tarEntry) (v1.Image, error) {
	img, err := tarball.ImageFromPath(p, nil)
	if err != nil {
		return nil, err
	}
	layers, err := archiveLayers(p, index, img)
	if err != nil || layers == nil {
		return img, nil // go-containerregistry's own path reports its errors
	}
	return &archiveImage{Image: img, layers: layers}, nil
}

func archiveLayers(p string, index map[string]tarEntry, img v1.Image) ([]v1.Layer, error) {
	if index == nil {
		var err error
		if index, err = indexTar(p); err != nil {
			return nil, err
		}
	}
	me, ok := resolveEntry(index, "manifest.json")
	if !ok || me.size > 16<<20 {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m tarball.Manifest
	if err := json.NewDecoder(io.NewSectionReader(f, me.offset, me.size)).Decode(&m); err != nil || len(m) != 1 {
		return nil, nil
	}
	cf, err := img.ConfigFile()
	if err != nil || len(cf.RootFS.DiffIDs) != len(m[0].Layers) {
		return nil, nil
	}
	layers := make([]v1.Layer, len(m[0].Layers))
	for i, name := range m[0].Layers {
		e, ok := resolveEntry(index, name)
		if !ok {
			return nil, fmt.Errorf("layer %s: not in the archive", name)
		}
		layers[i] = &archiveLayer{archive: p, entry: e, diffID: cf.RootFS.DiffIDs[i]}
	}
	return layers, nil
}

// indexTar reads the archive's headers once (tar.Reader seeks over the
// data of an *os.File) and records where each entry's data lies.
func indexTar(p string) (map[string]tarEntry, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	index := map[string]tarEntry{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return index, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		index[path.Clean(strings.TrimPrefix(h.Name, "./"))] = tarEntry{offset: off, size: h.Size, typ: h.Typeflag, link: h.Linkname}
	}
}

// resolveEntry finds a regular file entry by name, following symbolic and
// hard links within the archive (docker save links duplicate layers) for a
// few hops.
func resolveEntry(index map[string]tarEntry, name string) (tarEntry, bool) {
	name = path.Clean(strings.TrimPrefix(name, "./"))
	for range 8 {
		e, ok := index[name]
		if !ok {
			return tarEntry{}, false
		}
		switch e.typ {
		case tar.TypeReg:
			return e, true
		case tar.TypeSymlink:
			name = path.Clean(path.Join(path.Dir(name), e.link))
		case tar.TypeLink:
			name = path.Clean(strings.TrimPrefix(e.link, "./"))
		default:
			return tarEntry{}, false
		}
	}
	return tarEntry{}, false
}

// archiveLayer is one layer blob inside a docker-archive.
type archiveLayer struct {
	archive string
	entry   tarEntry
	diffID  v1.Hash

	once   sync.Once
	digest v1.Hash
	err    error
}

// Compressed returns the blob as stored (gzip, zstd or a plain tar).
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(l.archive)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, l.entry.offset, l.entry.size), f}, nil
}

// Uncompressed returns the layer's tar stream.
func (l *archiveLayer) Uncompressed() (io.ReadCloser, error) { return uncompressed(l) }

// DiffID is the config's diffID (scanLayer verifies the content against it).
func (l *archiveLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Digest hashes the blob on first use (the scan itself never asks).
func (l *archiveLayer) Digest() (v1.Hash, error) {
	l.once.Do(func() {
		rc, err := l.Compressed()
		if err != nil {
			l.err = err
			return
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			l.err = err
			return
		}
		l.digest = v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
	})
	return l.digest, l.err
}

// Size is the blob's size in the archive.
func (l *archiveLayer) Size() (int64, error) { return l.entry.size, nil }

// MediaType is Docker's layer type; the scan tells the compression by the
// blob's magic bytes, not by this.
func (l *archiveLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
