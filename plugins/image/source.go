package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Source is an opened image and what is known of where it came from.
type Source struct {
	Image v1.Image
	// Name is the reference as the user gave it.
	Name string
	// Kind is registry, docker-archive, oci-layout or docker-daemon.
	Kind string
	// RepoDigest is name@digest for registry images.
	RepoDigest string
	// Ref is the parsed reference for registry images.
	Ref name.Reference
	// cleanup removes temporary files.
	cleanup func()
}

// Close releases temporary files.
func (s *Source) Close() {
	if s.cleanup != nil {
		s.cleanup()
	}
}

// SourceOptions configures how images are opened.
type SourceOptions struct {
	// Platform selects an image of a multi-platform index (default linux/amd64
	// or the host's).
	Platform *v1.Platform
	// Insecure lists registries (host[:port]) reached over plain HTTP.
	Insecure []string
	// Keychain resolves registry credentials (default: docker config and
	// credential helpers).
	Keychain authn.Keychain
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
	// DockerHost is the Docker daemon's socket (default
	// $DOCKER_HOST or /var/run/docker.sock).
	DockerHost string
	// TempDir holds temporary files (default os.TempDir()).
	TempDir string
}

// Open opens the image ref: a docker-archive tarball (gzip'd or not), an
// OCI image layout (directory or tar), "docker:NAME" from the local Docker
// daemon, or else a registry reference.
func Open(ctx context.Context, ref string, o SourceOptions) (*Source, error) {
	switch {
	case strings.HasPrefix(ref, "docker:"):
		return openDaemon(ctx, strings.TrimPrefix(ref, "docker:"), o)
	case strings.HasPrefix(ref, "oci:"), strings.HasPrefix(ref, "oci-dir:"):
		_, p, _ := strings.Cut(ref, ":")
		return openPath(ref, p, o)
	case strings.HasPrefix(ref, "docker-archive:"):
		return openPath(ref, strings.TrimPrefix(ref, "docker-archive:"), o)
	}
	if _, err := os.Stat(ref); err == nil {
		return openPath(ref, ref, o)
	}
	return openRemote(ctx, ref, o)
}

func openPath(display, p string, o SourceOptions) (*Source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", p, err)
	}
	if fi.IsDir() {
		img, err := fromLayout(p, o.Platform)
		if err != nil {
			return nil, fmt.Errorf("open OCI layout %s: %w", p, err)
		}
		return &Source{Image: img, Name: display, Kind: "oci-layout"}, nil
	}
	// A tar: gunzip it to a temporary file first if needed (the tarball
	// package seeks), then tell docker-archive from OCI layout by content.
	file, cleanup, err := maybeGunzip(p, o.TempDir)
	if err != nil {
		return nil, fmt.Errorf("open image %s: %w", p, err)
	}
	// One pass over the archive's headers tells an OCI layout from a
	// docker-archive and locates the docker-archive's entries.
	index, err := indexTar(file)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("open image %s: %w", p, err)
	}
	if _, isOCI := index["oci-layout"]; isOCI {
		dir, err := os.MkdirTemp(o.TempDir, "shipgate-oci-")
		if err != nil {
			cleanup()
			return nil, err
		}
		clean := func() { cleanup(); os.RemoveAll(dir) }
		if err := untarLayout(file, dir); err != nil {
			clean()
			return nil, fmt.Errorf("open OCI layout archive %s: %w", p, err)
		}
		img, err := fromLayout(dir, o.Platform)
		if err != nil {
			clean()
			return nil, fmt.Errorf("open OCI layout archive %s: %w", p, err)
		}
		return &Source{Image: img, Name: display, Kind: "oci-layout", cleanup: clean}, nil
	}
	img, err := openArchiveImage(file, index)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("open docker archive %s: %w", p, err)
	}
	return &Source{Image: img, Name: display, Kind: "docker-archive", cleanup: cleanup}, nil
}

// maybeGunzip returns a path to the uncompressed tar.
func maybeGunzip(p, tmp string) (string, func(), error) {
	f, err := os.Open(p)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return p, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return "", nil, fmt.Errorf("gunzip: %w", err)
	}
	out, err := os.CreateTemp(tmp, "shipgate-image-*.tar")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(out.Name()) }
	if _, err := io.Copy(out, io.LimitReader(zr, maxArchiveBytes+1)); err != nil {
		out.Close()
		cleanup()
		return "", nil, fmt.Errorf("gunzip: %w", err)
	}
	if fi, _ := out.Stat(); fi != nil && fi.Size() > maxArchiveBytes {
		out.Close()
		cleanup()
		return "", nil, fmt.Errorf("gunzip: archive larger than %d bytes", int64(maxArchiveBytes))
	}
	return out.Name(), cleanup, out.Close()
}

// maxArchiveBytes bounds an uncompressed image archive.
const maxArchiveBytes = 64 << 30

// untarLayout extracts an OCI layout archive: only regular files and
// directories, every name confined to dir.
func untarLayout(p, dir string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		rel, ok := cleanPath(h.Name)
		if !ok {
			return fmt.Errorf("unsafe path %q in archive", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(rel, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if d := filepath.Dir(rel); d != "." {
				if err := root.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			out, err := root.Create(rel)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
		default:
			// Links and devices have no place in an OCI layout.
		}
	}
}

func fromLayout(dir string, platform *v1.Platform) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	return imageFromIndex(idx, platform)
}

// imageFromIndex picks the image for platform from an index, descending
// into nested indexes.
func imageFromIndex(idx v1.ImageIndex, platform *v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var candidates []v1.Descriptor
	for _, d := range m.Manifests {
		if d.MediaType.IsImage() || d.MediaType.IsIndex() {
			candidates = append(candidates, d)
		}
	}
	if len(candidates) == 0 {
		return nil, errors.New("no image in the index")
	}
	pick := candidates[0]
	if len(candidates) > 1 {
		want := platformOrDefault(platform)
		found := false
		for _, d := range candidates {
			if d.Platform != nil && d.Platform.Satisfies(want) {
				pick, found = d, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no image for platform %s in the index", want)
		}
	}
	if pick.MediaType.IsIndex() {
		child, err := idx.ImageIndex(pick.Digest)
		if err != nil {
			return nil, err
		}
		return imageFromIndex(child, platform)
	}
	return idx.Image(pick.Digest)
}

func platformOrDefault(p *v1.Platform) v1.Platform {
	if p != nil {
		return *p
	}
	return v1.Platform{OS: "linux", Architecture: "amd64"}
}

func openRemote(ctx context.Context, ref string, o SourceOptions) (*Source, error) {
	r, err := parseRef(ref, o.Insecure)
	if err != nil {
		return nil, fmt.Errorf("image %s: not a file, directory or valid reference: %w", ref, err)
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithPlatform(platformOrDefault(o.Platform))}
	if o.Transport != nil {
		ropts = append(ropts, remote.WithTransport(o.Transport))
	}
	img, err := remote.Image(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	return &Source{Image: img, Name: ref, Kind: "registry", Ref: r, RepoDigest: r.Context().Name() + "@" + d.String()}, nil
}

// openDaemon exports the image from the Docker daemon's API (GET
// /images/NAME/get, a docker-archive) into a temporary file.
func openDaemon(ctx context.Context, ref string, o SourceOptions) (*Source, error) {
	sock := o.DockerHost
	if sock == "" {
		sock = os.Getenv("DOCKER_HOST")
	}
	if sock == "" {
		sock = "unix:///var/run/docker.sock"
	}
	path, ok := strings.CutPrefix(sock, "unix://")
	if !ok {
		return nil, fmt.Errorf("docker:%s: only unix sockets are supported (DOCKER_HOST=%s)", ref, sock)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("docker:%s: no Docker daemon at %s: %w", ref, path, err)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/images/"+url.PathEscape(ref)+"/get", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker:%s: %w", ref, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("docker:%s: daemon answered %s: %s", ref, resp.Status, strings.TrimSpace(string(b)))
	}
	out, err := os.CreateTemp(o.TempDir, "shipgate-docker-*.tar")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.Remove(out.Name()) }
	if _, err := io.Copy(out, io.LimitReader(resp.Body, maxArchiveBytes)); err != nil {
		out.Close()
		cleanup()
		return nil, fmt.Errorf("docker:%s: %w", ref, err)
	}
	out.Close()
	img, err := openArchiveImage(out.Name(), nil)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("docker:%s: %w", ref, err)
	}
	return &Source{Image: img, Name: "docker:" + ref, Kind: "docker-daemon", cleanup: cleanup}, nil
}
