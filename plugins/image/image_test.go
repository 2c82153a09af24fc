package image

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipgate/shipgate/fixtures/images"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/deps/cargo"
)

const osRelease = "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"

const status1 = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
`

const status2 = status1 + `
Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2+b1
`

const lock = `version = 4

[[package]]
name = "serde"
version = "1.0.210"
source = "registry+https://github.com/rust-lang/crates.io-index"
`

func analyzers() []plugins.Analyzer {
	return append(Analyzers(), cargo.New())
}

// testImage has three layers: a Debian base, a layer that installs
// libssl3 (rewriting the dpkg status) and adds three Rust apps, and a layer
// that deletes one app by a whiteout and hides a directory by an opaque
// whiteout.
func testImage(t *testing.T) v1.Image {
	return images.Image(t, v1.Config{
		User:         "",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "22/tcp": {}},
		Env:          []string{"PATH=/usr/bin", "DB_PASSWORD=hunter2-very-secret"},
		Entrypoint:   []string{"/app"},
		Labels:       map[string]string{"org.opencontainers.image.base.name": "debian:12"},
	},
		images.Layered{Layer: images.Layer(t, images.File("etc/os-release", osRelease), images.File("var/lib/dpkg/status", status1), images.File("bin/bash", "ELF")), CreatedBy: "ADD rootfs.tar /"},
		images.Layered{Layer: images.Layer(t,
			images.File("var/lib/dpkg/status", status2),
			images.File("srv/keep/Cargo.lock", lock),
			images.File("srv/gone/Cargo.lock", lock),
			images.File("opt/hidden/Cargo.lock", lock),
		), CreatedBy: "RUN apt-get install -y libssl3"},
		images.Layered{Layer: images.Layer(t, images.Whiteout("srv/gone"), images.Opaque("opt/hidden"), images.File("opt/hidden/README", "x")), CreatedBy: "RUN rm -rf /srv/gone /opt/hidden/*"},
	)
}

func TestLayersWhiteoutsAndAttribution(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "img.tar")
	img := testImage(t)
	images.DockerArchive(t, archive, "example.com/app:1", img)

	res, err := Scan(context.Background(), archive, analyzers(), Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.OS == nil || res.OS.Family != "debian" || res.OS.Version != "12" {
		t.Fatalf("OS %+v", res.OS)
	}
	layers, _ := img.Layers()
	diff := func(i int) string { d, _ := layers[i].DiffID(); return d.String() }
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name+"@"+p.Locations[0].Path] = p
	}
	want := map[string]struct {
		layer     int
		createdBy string
	}{
		"libc6@var/lib/dpkg/status":   {0, "ADD rootfs.tar /"},
		"bash@var/lib/dpkg/status":    {0, "ADD rootfs.tar /"},
		"libssl3@var/lib/dpkg/status": {1, "RUN apt-get install -y libssl3"},
		"serde@srv/keep/Cargo.lock":   {1, "RUN apt-get install -y libssl3"},
	}
	if len(got) != len(want) {
		t.Errorf("got %d packages, want %d: %v", len(got), len(want), keys(got))
	}
	for k, w := range want {
		p, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if p.Layer == nil || p.Layer.DiffID != diff(w.layer) || p.Layer.CreatedBy != w.createdBy {
			t.Errorf("%s: layer %+v, want %d (%s)", k, p.Layer, w.layer, w.createdBy)
		}
	}
	if p := got["libc6@var/lib/dpkg/status"]; p.Purl != "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc" {
		t.Errorf("purl %s", p.Purl)
	}
	im := res.Image
	if im.User != "" || strings.Join(im.ExposedPorts, ",") != "22/tcp,8080/tcp" || im.BaseImage != "debian:12" || len(im.Layers) != 3 {
		t.Errorf("image %+v", im)
	}
	for _, e := range im.Env {
		if strings.Contains(e, "hunter2-very-secret") {
			t.Errorf("secret env not redacted: %s", e)
		}
	}
	if im.Env[1] != "DB_PASSWORD=hunt… (19 chars)" {
		t.Errorf("env %v", im.Env)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	img := testImage(t)
	arm := images.Image(t, v1.Config{}, images.Layered{Layer: images.Layer(t, images.File("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"))})

	docker := filepath.Join(dir, "docker.tar")
	images.DockerArchive(t, docker, "example.com/app:1", img)
	data, _ := os.ReadFile(docker)
	gz := filepath.Join(dir, "docker.tar.gz")
	os.WriteFile(gz, images.Gzip(data), 0o644)

	layoutDir := filepath.Join(dir, "layout")
	images.OCILayout(t, layoutDir,
		images.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Image: img},
		images.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, Image: arm})
	layoutTar := filepath.Join(dir, "layout.tar")
	os.WriteFile(layoutTar, tarDir(t, layoutDir), 0o644)

	host := images.Registry(t)
	images.PushIndex(t, host+"/app:multi",
		images.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Image: img},
		images.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, Image: arm})

	zstdDir := filepath.Join(dir, "zstd-layout")
	zimg := images.Image(t, v1.Config{}, images.Layered{Layer: images.ZstdLayer(t, images.File("etc/os-release", "ID=wolfi\nVERSION_ID=20230201\n"), images.File("lib/apk/db/installed", "P:glibc\nV:2.40-r1\nA:x86_64\n\n"))})
	images.OCILayout(t, zstdDir, images.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Image: zimg})

	tests := []struct {
		name, ref string
		platform  *v1.Platform
		kind, os  string
	}{
		{"zstd layer", zstdDir, nil, "oci-layout", "wolfi"},
		{"docker-archive", docker, nil, "docker-archive", "debian"},
		{"gzip docker-archive", gz, nil, "docker-archive", "debian"},
		{"oci layout dir", layoutDir, nil, "oci-layout", "debian"},
		{"oci layout dir arm64", layoutDir, &v1.Platform{OS: "linux", Architecture: "arm64"}, "oci-layout", "alpine"},
		{"oci layout tar", layoutTar, nil, "oci-layout", "debian"},
		{"registry", host + "/app:multi", nil, "registry", "debian"},
		{"registry arm64", host + "/app:multi", &v1.Platform{OS: "linux", Architecture: "arm64"}, "registry", "alpine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(context.Background(), tt.ref, SourceOptions{Platform: tt.platform, Insecure: []string{host}, TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Kind != tt.kind {
				t.Errorf("kind %s, want %s", src.Kind, tt.kind)
			}
			res, err := ScanImage(context.Background(), src, analyzers(), Options{TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if res.OS == nil || res.OS.Family != tt.os {
				t.Errorf("OS %+v, want %s", res.OS, tt.os)
			}
			if tt.kind == "registry" && (len(res.Image.RepoDigests) != 1 || !strings.Contains(res.Image.RepoDigests[0], "@sha256:")) {
				t.Errorf("repo digests %v", res.Image.RepoDigests)
			}
		})
	}
	t.Run("docker daemon", func(t *testing.T) {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			t.Skip("no Docker daemon socket here (/var/run/docker.sock): the daemon source is not tested")
		}
	})
}

func tarDir(t *testing.T, dir string) []byte {
	var entries []images.Entry
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			entries = append(entries, images.Entry{Name: rel + "/", Type: tar.TypeDir})
			return nil
		}
		b, _ := os.ReadFile(p)
		entries = append(entries, images.File(rel, string(b)))
		return nil
	})
	return images.Tar(t, entries...)
}

func TestLayerCache(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	archive := filepath.Join(dir, "img.tar")
	images.DockerArchive(t, archive, "example.com/app:1", testImage(t))
	first, err := Scan(context.Background(), archive, analyzers(), Options{CacheDir: cache, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if first.CacheHits != 0 {
		t.Errorf("first scan: %d cache hits", first.CacheHits)
	}
	second, err := Scan(context.Background(), archive, analyzers(), Options{CacheDir: cache, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if second.CacheHits != 3 || len(second.Packages) != len(first.Packages) {
		t.Errorf("second scan: %d hits, %d packages (first %d)", second.CacheHits, len(second.Packages), len(first.Packages))
	}
	// Another analyzer set does not reuse the results.
	third, err := Scan(context.Background(), archive, Analyzers(), Options{CacheDir: cache, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if third.CacheHits != 0 {
		t.Errorf("different analyzers: %d hits", third.CacheHits)
	}
	// Results are served only to the build that wrote them, with the same
	// limits: a fixed analyzer must not be shadowed by an older build's
	// results, nor a raised file size limit by results that skipped files.
	for _, tt := range []struct {
		name     string
		opts     Options
		wantHits int
	}{
		{"build a writes", Options{BuildID: "go:a"}, 0},
		{"build a reads", Options{BuildID: "go:a"}, 3},
		{"build b", Options{BuildID: "go:b"}, 0},
		{"build a, other file size limit", Options{BuildID: "go:a", MaxFileSize: 1 << 20}, 0},
		{"build a, other layer limit", Options{BuildID: "go:a", MaxLayerBytes: 1 << 30}, 0},
		// One result per layer is kept: the last writer's.
		{"build a after the others", Options{BuildID: "go:a"}, 0},
		{"build a once more", Options{BuildID: "go:a"}, 3},
	} {
		tt.opts.CacheDir, tt.opts.TempDir = cache, dir
		res, err := Scan(context.Background(), archive, analyzers(), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.CacheHits != tt.wantHits {
			t.Errorf("%s: %d hits, want %d", tt.name, res.CacheHits, tt.wantHits)
		}
	}
}

// TestHostileLayers: each bad layer is reported against the image and the
// other layers are still analysed; nothing is written outside the
// temporary directory.
func TestHostileLayers(t *testing.T) {
	outside := t.TempDir()
	good := images.Layered{Layer: images.Layer(t, images.File("etc/os-release", osRelease), images.File("var/lib/dpkg/status", status1))}
	zeros := make([]byte, 32<<20)
	tests := []struct {
		name    string
		layer   v1.Layer
		wantErr string
	}{
		{"corrupt gzip", images.RawLayer(t, []byte("\x1f\x8b\x08\x00garbage-not-deflate")), "layer"},
		{"truncated", images.RawLayer(t, images.Gzip(images.Tar(t, images.Entry{Name: "var/lib/dpkg/status", Body: "Package: x\n", Size: 4096}))), "layer"},
		{"decompression bomb", images.RawLayer(t, images.Gzip(append(images.Tar(t, images.File("a", "x")), zeros...))), "decompression bomb"},
		// Valid content under another layer's diffID must not poison the
		// layer cache.
		{"content does not match its diffID", images.RawLayer(t, images.Gzip(images.Tar(t, images.File("var/lib/dpkg/status", status2)))), "does not match its diffID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := images.Image(t, v1.Config{}, good, images.Layered{Layer: tt.layer})
			archive := filepath.Join(t.TempDir(), "img.tar")
			images.DockerArchive(t, archive, "example.com/bad:1", img)
			cache := t.TempDir()
			res, err := Scan(context.Background(), archive, analyzers(), Options{TempDir: t.TempDir(), MaxLayerBytes: 8 << 20, CacheDir: cache})
			if entries, _ := os.ReadDir(filepath.Join(cache, "layers")); len(entries) > 1 {
				t.Errorf("the bad layer was cached: %d entries", len(entries))
			}
			if err != nil {
				// The archive itself may refuse a broken blob up front.
				if !strings.Contains(err.Error(), "layer") && !strings.Contains(err.Error(), "gzip") {
					t.Fatalf("unclear error: %v", err)
				}
				return
			}
			var msgs []string
			for _, a := range res.Analyzers {
				for _, e := range a.Errors {
					msgs = append(msgs, e.Path+": "+e.Message)
				}
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tt.wantErr) {
				t.Errorf("errors %v do not mention %q", msgs, tt.wantErr)
			}
			if len(res.Packages) != 2 {
				t.Errorf("the good layer's packages are lost: %d", len(res.Packages))
			}
		})
	}

	t.Run("path traversal and links", func(t *testing.T) {
		evil := images.Layer(t,
			images.File("../../../../"+outside+"/escaped", "x"),
			images.File("/"+outside+"/absolute", "x"),
			images.Entry{Name: "var/lib/dpkg/status.d", Type: tar.TypeSymlink, Link: outside},
			images.Entry{Name: "lib/apk/db/installed", Type: tar.TypeSymlink, Link: "/etc/shadow"},
			images.File("../var/lib/dpkg/status", status2),
		)
		img := images.Image(t, v1.Config{}, images.Layered{Layer: evil})
		archive := filepath.Join(t.TempDir(), "img.tar")
		images.DockerArchive(t, archive, "example.com/evil:1", img)
		res, err := Scan(context.Background(), archive, analyzers(), Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Errorf("wrote outside: %v", entries)
		}
		// "../var/lib/dpkg/status" is confined to var/lib/dpkg/status.
		if len(res.Packages) != 3 {
			t.Errorf("got %d packages", len(res.Packages))
		}
	})

	t.Run("huge sparse file", func(t *testing.T) {
		l := images.Layer(t, images.Entry{Name: "var/lib/dpkg/status", Body: "x", Size: 10 << 30})
		img := images.Image(t, v1.Config{}, good, images.Layered{Layer: l})
		archive := filepath.Join(t.TempDir(), "img.tar")
		images.DockerArchive(t, archive, "example.com/big:1", img)
		res, err := Scan(context.Background(), archive, analyzers(), Options{TempDir: t.TempDir(), MaxFileSize: 1 << 20})
		if err != nil {
			t.Logf("refused up front: %v", err)
			return
		}
		// Either the file is reported as too large or the layer as broken
		// (the entry claims 10 GiB it does not hold); never silently kept.
		var msgs []string
		for _, a := range res.Analyzers {
			for _, e := range a.Errors {
				msgs = append(msgs, e.Message)
			}
		}
		if all := strings.Join(msgs, "\n"); !strings.Contains(all, "too large") && !strings.Contains(all, "layer") {
			t.Errorf("the 10 GiB entry is not reported: %v", msgs)
		}
	})

	t.Run("manifest names a missing blob", func(t *testing.T) {
		dir := t.TempDir()
		img := images.Image(t, v1.Config{}, good)
		images.OCILayout(t, dir, images.PlatformImage{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Image: img})
		layers, _ := img.Layers()
		d, _ := layers[0].Digest()
		os.Remove(filepath.Join(dir, "blobs", d.Algorithm, d.Hex))
		res, err := Scan(context.Background(), dir, analyzers(), Options{TempDir: t.TempDir()})
		if err != nil {
			if !strings.Contains(err.Error(), d.Hex[:12]) && !strings.Contains(err.Error(), "layer") {
				t.Errorf("unclear error: %v", err)
			}
			return
		}
		found := false
		for _, a := range res.Analyzers {
			for _, e := range a.Errors {
				found = found || a.Name == "image-layers" && strings.Contains(e.Message, "no such file")
			}
		}
		if !found {
			t.Errorf("the missing blob is not reported: %+v", res.Analyzers)
		}
	})
}
