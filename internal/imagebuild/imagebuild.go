// Package imagebuild assembles Shipgate's GitLab CI job image without a
// Docker engine: a single layer with the static shipgate binary, a static
// busybox for /bin/sh, a non-root user with a writable HOME and cache
// directory, and no ENTRYPOINT (GitLab runners start jobs through a shell).
// It writes an OCI image layout archive and a docker-archive tarball with
// go-containerregistry. The result is reproducible: every timestamp is
// Options.Created.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// UID and GID of the image's user.
const (
	UID  = 10001
	GID  = 10001
	User = "shipgate"
	Home = "/home/shipgate"
)

// busyboxApplets are the commands linked to busybox: what job scripts and
// the runner's shell need.
var busyboxApplets = []string{"sh", "ash", "cat", "cp", "env", "echo", "grep", "gzip", "gunzip", "head", "id", "ls", "mkdir", "mv", "rm", "sed", "sort", "tail", "tar", "tee", "test", "[", "tr", "uname", "wc", "which", "xargs", "printf", "true", "false", "sleep", "chmod", "find", "date", "dirname", "basename", "wget", "base64", "mktemp", "stat", "chown", "whoami", "expr"}

// Options describes the image.
type Options struct {
	// Binary is the path of the static shipgate binary.
	Binary string
	// Busybox is the path of a static busybox binary.
	Busybox string
	// Version and Revision go into the OCI labels.
	Version, Revision string
	// Created is the image's (and every file's) timestamp.
	Created time.Time
	// Platform of the binaries (default linux/amd64).
	OS, Arch string
}

// Build returns the image.
func Build(o Options) (v1.Image, error) {
	if o.OS == "" {
		o.OS = "linux"
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("read shipgate binary: %w", err)
	}
	bb, err := os.ReadFile(o.Busybox)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	layerTar, err := rootfs(o, bin, bb)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: o.Created},
			CreatedBy: "shipgate imagebuild: busybox, shipgate " + o.Version,
			Comment:   "static shipgate binary, busybox /bin/sh, non-root user",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = o.OS, o.Arch
	cf.Created = v1.Time{Time: o.Created}
	cf.Config.User = fmt.Sprintf("%d:%d", UID, GID)
	cf.Config.WorkingDir = Home
	cf.Config.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + Home,
		"XDG_CACHE_HOME=" + Home + "/.cache",
	}
	cf.Config.Entrypoint = nil
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "shipgate",
		"org.opencontainers.image.description": "Shipgate security gate: scans, SBOM, WebAssembly policies",
		"org.opencontainers.image.source":      "https://github.com/shipgate/shipgate",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs writes the layer's tar: directories, busybox and its applet
// links, the shipgate binary, passwd and group.
func rootfs(o Options, bin, bb []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.AccessTime, h.ChangeTime = o.Created, time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if h.Uname == "" {
			h.Uname, h.Gname = "root", "root"
		}
		return tw.WriteHeader(h)
	}
	dir := func(p string, mode int64, uid int) error {
		u := "root"
		if uid != 0 {
			u = User
		}
		return hdr(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: mode, Uid: uid, Gid: uid, Uname: u, Gname: u})
	}
	file := func(p string, mode int64, data []byte) error {
		if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("bin", 0o755, 0) },
		func() error { return dir("etc", 0o755, 0) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir(Home[1:], 0o755, UID) },
		func() error { return dir(Home[1:]+"/.cache", 0o755, UID) },
		func() error { return dir(Home[1:]+"/.cache/shipgate", 0o755, UID) },
		func() error { return hdr(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}) },
		func() error { return dir("usr", 0o755, 0) },
		func() error { return dir("usr/bin", 0o755, 0) },
		func() error { return dir("usr/local", 0o755, 0) },
		func() error { return dir("usr/local/bin", 0o755, 0) },
		func() error { return file("bin/busybox", 0o755, bb) },
		func() error { return file("usr/local/bin/shipgate", 0o755, bin) },
		func() error {
			return file("etc/passwd", 0o644, fmt.Appendf(nil, "root:x:0:0:root:/root:/bin/sh\n%s:x:%d:%d:shipgate:%s:/bin/sh\n", User, UID, GID, Home))
		},
		func() error { return file("etc/group", 0o644, fmt.Appendf(nil, "root:x:0:\n%s:x:%d:\n", User, GID)) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, fmt.Errorf("rootfs: %w", err)
		}
	}
	for _, a := range busyboxApplets {
		if err := hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: path.Join("bin", a), Linkname: "busybox", Mode: 0o777}); err != nil {
			return nil, fmt.Errorf("rootfs: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteDockerArchive writes img as a `docker save` tarball tagged ref.
func WriteDockerArchive(file, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("tag %s: %w", ref, err)
	}
	return tarball.WriteToFile(file, tag, img)
}

// WriteOCILayout writes img into an OCI image layout directory, annotated
// with ref.
func WriteOCILayout(dir, ref string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("oci layout %s: %w", dir, err)
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
}
