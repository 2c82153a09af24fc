package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipgate/shipgate/fixtures/images"
)

// TestArchiveLayersDirect: a docker-archive's layers are read straight from
// their entries (no manifest derived, so no blob hashed before the scan),
// also when docker save linked a duplicate layer to an earlier entry, and
// the scan's results are those of go-containerregistry's own path.
func TestArchiveLayersDirect(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "img.tar")
	images.DockerArchive(t, orig, "example.com/app:1", testImage(t))

	// The same archive, with every layer entry reached through a symlink
	// (alias-N.tar.gz -> the blob) and the manifest naming the aliases.
	linked := filepath.Join(dir, "linked.tar")
	relink(t, orig, linked)

	for _, p := range []string{orig, linked} {
		src, err := Open(context.Background(), p, SourceOptions{TempDir: dir})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		defer src.Close()
		layers, err := src.Image.Layers()
		if err != nil || len(layers) != 3 {
			t.Fatalf("%s: %d layers, %v", p, len(layers), err)
		}
		for _, l := range layers {
			if _, ok := l.(*archiveLayer); !ok {
				t.Fatalf("%s: layer %T, want the direct archive layer", p, l)
			}
		}
		res, err := ScanImage(context.Background(), src, analyzers(), Options{TempDir: dir})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(res.Packages) != 4 {
			t.Errorf("%s: %d packages, want 4", p, len(res.Packages))
		}
		// The blob digest, computed on demand, is the manifest's.
		want, _ := testImage(t).Layers()
		got, _ := layers[0].Digest()
		if w, _ := want[0].Digest(); got != w {
			t.Errorf("digest %s, want %s", got, w)
		}
	}
}

// relink copies a docker-archive, adding a symlink entry per layer and
// pointing manifest.json at the symlinks.
func relink(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	var manifest []map[string]any
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if h.Name == "manifest.json" {
			if err := json.Unmarshal(data, &manifest); err != nil {
				t.Fatal(err)
			}
			continue
		}
		tw.WriteHeader(h)
		tw.Write(data)
	}
	layers := manifest[0]["Layers"].([]any)
	for i, l := range layers {
		alias := "aliases/" + string(rune('a'+i)) + ".tar.gz"
		tw.WriteHeader(&tar.Header{Name: alias, Typeflag: tar.TypeSymlink, Linkname: "../" + l.(string), Mode: 0o777})
		layers[i] = alias
	}
	data, _ := json.Marshal(manifest)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Size: int64(len(data)), Mode: 0o644})
	tw.Write(data)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

var _ v1.Layer = (*archiveLayer)(nil)
