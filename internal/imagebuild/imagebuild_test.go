package imagebuild

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "shipgate")
	bb := filepath.Join(dir, "busybox")
	os.WriteFile(bin, []byte("\x7fELF shipgate"), 0o755)
	os.WriteFile(bb, []byte("\x7fELF busybox"), 0o755)
	o := Options{Binary: bin, Busybox: bb, Version: "v1.0.0", Revision: "abc", Created: time.Unix(1700000000, 0).UTC()}
	img, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "10001:10001" || len(cf.Config.Entrypoint) != 0 || cf.Config.WorkingDir != Home {
		t.Errorf("config: user %q entrypoint %v workdir %q", cf.Config.User, cf.Config.Entrypoint, cf.Config.WorkingDir)
	}
	files := map[string]*tar.Header{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = h
	}
	for name, check := range map[string]func(*tar.Header) bool{
		"bin/sh":                        func(h *tar.Header) bool { return h.Typeflag == tar.TypeSymlink && h.Linkname == "busybox" },
		"usr/local/bin/shipgate":        func(h *tar.Header) bool { return h.Mode&0o111 != 0 },
		"home/shipgate":                 func(h *tar.Header) bool { return h.Uid == UID },
		"home/shipgate/.cache/shipgate": func(h *tar.Header) bool { return h.Uid == UID },
		"tmp":                           func(h *tar.Header) bool { return h.Mode == 0o1777 },
		"etc/passwd":                    func(h *tar.Header) bool { return h.Size > 0 },
	} {
		h, ok := files[name]
		if !ok || !check(h) {
			t.Errorf("%s: %+v", name, h)
		}
	}

	// Reproducible: the same inputs give the same digest.
	img2, _ := Build(o)
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("digests differ: %s %s", d1, d2)
	}

	// Both archive kinds read back.
	da := filepath.Join(dir, "img.tar")
	if err := WriteDockerArchive(da, "shipgate:test", img); err != nil {
		t.Fatal(err)
	}
	if back, err := tarball.ImageFromPath(da, nil); err != nil {
		t.Fatal(err)
	} else if d, _ := back.Digest(); d != d1 {
		t.Errorf("docker-archive digest %s, want %s", d, d1)
	}
	oci := filepath.Join(dir, "oci")
	if err := WriteOCILayout(oci, "shipgate:test", img); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(oci)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := p.ImageIndex()
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != d1 {
		t.Errorf("layout index %+v", m.Manifests)
	}
}
