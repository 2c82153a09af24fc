package vulndb

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// LayerMediaType is the media type of the db.tar.gz layer in the trivy-db
// OCI artifact.
const LayerMediaType = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"

// DefaultMaxSize caps the uncompressed size of a downloaded database (and
// the compressed layer size) against decompression bombs.
const DefaultMaxSize int64 = 10 << 30

// defaultTag is appended to repositories given without a tag or digest.
const defaultTag = "2"

// DefaultRepositories returns the repositories tried in order when
// UpdateOptions.Repositories is empty.
func DefaultRepositories() []string {
	return []string{"mirror.gcr.io/aquasec/trivy-db:2", "ghcr.io/aquasecurity/trivy-db:2"}
}

// RetryPolicy bounds retries of one repository on transient errors (HTTP 408,
// 429, 5xx, network errors). Zero fields take the defaults.
type RetryPolicy struct {
	// Attempts is the number of tries per repository (default 4).
	Attempts int
	// InitialBackoff is the first wait (default 1s); it doubles each retry
	// with full jitter.
	InitialBackoff time.Duration
	// MaxBackoff caps one wait (default 30s).
	MaxBackoff time.Duration
	// MaxElapsed caps the time spent on one repository, waits included
	// (default 5m); no retry starts after it.
	MaxElapsed time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = time.Second
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 30 * time.Second
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 5 * time.Minute
	}
	return p
}

// backoff returns the jittered wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	// Full jitter in [d/2, d].
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// UpdateOptions configures Update. The zero value downloads from
// DefaultRepositories with the default keychain and limits.
type UpdateOptions struct {
	// Repositories are OCI references tried in order; a reference without a
	// tag gets ":2". Empty means DefaultRepositories().
	Repositories []string
	// Insecure allows plain HTTP (and unverified TLS) registries.
	Insecure bool
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
	// MaxSize caps the uncompressed archive size (default DefaultMaxSize).
	MaxSize int64
	// Retry bounds retries per repository.
	Retry RetryPolicy
	// Keychain resolves registry credentials (default authn.DefaultKeychain:
	// docker config and credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport (default remote.DefaultTransport).
	Transport http.RoundTripper
	// OnlyIfNeeded skips the download when, once the update lock is held,
	// NeedsUpdate reports the database is current (another process may have
	// just updated it).
	OnlyIfNeeded bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *UpdateOptions) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

func (o *UpdateOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Update downloads the trivy-db artifact into dir (DefaultDir when empty).
// It holds an exclusive cross-process lock for the whole operation, tries
// each repository with bounded retries, verifies the layer digest, extracts
// only trivy.db and metadata.json (rejecting unsafe paths, links and
// oversized content), validates the result and swaps it in atomically. On
// any failure the previous database is left untouched.
func Update(ctx context.Context, dir string, opts UpdateOptions) error {
	dir, err := resolveDir(dir)
	if err != nil {
		return err
	}
	parent, base := filepath.Split(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("update vulnerability database: create %s: %w", parent, err)
	}
	unlock, err := lockFile(ctx, dir+".lock", true)
	if err != nil {
		return fmt.Errorf("update vulnerability database: %w", err)
	}
	defer unlock()
	removeLeftovers(parent, base)

	if opts.OnlyIfNeeded && !NeedsUpdate(dir, opts.now()) {
		opts.logf("vulnerability database in %s is up to date", dir)
		return nil
	}
	repos := opts.Repositories
	if len(repos) == 0 {
		repos = DefaultRepositories()
	}
	var errs []error
	for _, repo := range repos {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		err := updateFrom(ctx, dir, repo, &opts)
		if err == nil {
			return nil
		}
		opts.logf("download from %s failed: %v", repo, err)
		errs = append(errs, fmt.Errorf("%s: %w", repo, err))
	}
	return fmt.Errorf("update vulnerability database %s: %w", dir, errors.Join(errs...))
}

// removeLeftovers deletes temporary and set-aside directories left by an
// interrupted Update. The caller holds the update lock.
func removeLeftovers(parent, base string) {
	for _, pat := range []string{"." + base + ".tmp-*", "." + base + ".old-*"} {
		m, _ := filepath.Glob(filepath.Join(parent, pat))
		for _, p := range m {
			_ = os.RemoveAll(p)
		}
	}
}

// updateFrom downloads from one repository with retries and swaps the result in.
func updateFrom(ctx context.Context, dir, repo string, opts *UpdateOptions) error {
	pol := opts.Retry.withDefaults()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		tmp, err := downloadOnce(ctx, dir, repo, opts)
		if err == nil {
			if err := swapIn(ctx, dir, tmp); err != nil {
				_ = os.RemoveAll(tmp)
				return err
			}
			opts.logf("vulnerability database updated from %s", repo)
			return nil
		}
		if !retryable(ctx, err) || attempt >= pol.Attempts {
			return err
		}
		wait := pol.backoff(attempt)
		if time.Since(start)+wait > pol.MaxElapsed {
			return fmt.Errorf("giving up after %s: %w", time.Since(start).Round(time.Millisecond), err)
		}
		opts.logf("download from %s failed (attempt %d/%d), retrying in %s: %v", repo, attempt, pol.Attempts, wait.Round(time.Millisecond), err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// retryable reports whether err is transient: HTTP 408/429/5xx or a network
// failure, and the caller's context is still live.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode == http.StatusRequestTimeout || te.StatusCode == http.StatusTooManyRequests || te.StatusCode >= 500 || te.Temporary()
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return true
	}
	return false
}

// permanentError marks a failure that retrying the same repository cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err: err} }

// parseRepository parses repo, defaulting the tag to "2".
func parseRepository(repo string, insecure bool) (name.Reference, error) {
	var nopts []name.Option
	if insecure {
		nopts = append(nopts, name.Insecure)
	}
	last := repo[strings.LastIndex(repo, "/")+1:]
	if !strings.ContainsAny(last, ":@") {
		repo += ":" + defaultTag
	}
	ref, err := name.ParseReference(repo, nopts...)
	if err != nil {
		return nil, fmt.Errorf("parse repository %q: %w", repo, err)
	}
	return ref, nil
}

// downloadOnce fetches and extracts the artifact into a new temporary
// directory beside dir, validates it and returns its path.
func downloadOnce(ctx context.Context, dir, repo string, opts *UpdateOptions) (_ string, err error) {
	ref, err := parseRepository(repo, opts.Insecure)
	if err != nil {
		return "", err
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithUserAgent("shipgate"),
		// Retries are ours (logged, bounded, jittered); disable the library's.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
	}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	} else if opts.Insecure {
		tr := remote.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // explicitly requested with --insecure-registry
		ropts = append(ropts, remote.WithTransport(tr))
	}
	img, err := remote.Image(ref, ropts...)
	if err != nil {
		return "", fmt.Errorf("fetch manifest %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return "", fmt.Errorf("read manifest %s: %w", ref, err)
	}
	var desc *v1.Descriptor
	for i := range m.Layers {
		if string(m.Layers[i].MediaType) == LayerMediaType {
			desc = &m.Layers[i]
			break
		}
	}
	if desc == nil {
		return "", permanent(fmt.Errorf("%s: no layer of media type %s", ref, LayerMediaType))
	}
	maxSize := opts.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if desc.Size > maxSize {
		return "", permanent(fmt.Errorf("%s: layer is %d bytes, over the %d byte limit", ref, desc.Size, maxSize))
	}
	layer, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return "", fmt.Errorf("%s: layer %s: %w", ref, desc.Digest, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return "", fmt.Errorf("fetch layer %s@%s: %w", ref.Context(), desc.Digest, err)
	}
	defer rc.Close()

	parent, base := filepath.Split(dir)
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return "", fmt.Errorf("create temporary directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	opts.logf("downloading %s@%s (%d bytes)", ref.Context(), desc.Digest, desc.Size)
	if err := extract(ctx, rc, tmp, maxSize, opts.logf); err != nil {
		return "", fmt.Errorf("layer %s@%s: %w", ref.Context(), desc.Digest, err)
	}
	// Read to the end so the digest and size are verified even if the
	// archive ended early (go-containerregistry checks them at EOF).
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return "", fmt.Errorf("layer %s@%s: %w", ref.Context(), desc.Digest, err)
	}
	meta, err := validate(tmp)
	if err != nil {
		// The digest matched: this is what was published, retrying won't help.
		return "", permanent(fmt.Errorf("downloaded database from %s is not usable: %w", ref, err))
	}
	meta.DownloadedAt = opts.now().UTC()
	if err := writeMetadata(tmp, meta); err != nil {
		return "", err
	}
	return tmp, nil
}

// errTooLarge reports content over the size cap.
var errTooLarge = errors.New("archive exceeds the size limit")

// capReader returns errTooLarge once more than left bytes are read.
type capReader struct {
	r    io.Reader
	left int64
	ctx  context.Context
}

func (c *capReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, permanent(errTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// extract unpacks the gzipped tar r into dst, writing only regular files
// named trivy.db and metadata.json. Absolute paths, ".." components, links
// and device entries are errors; other regular files and directories are
// skipped. At most maxSize uncompressed bytes are read.
func extract(ctx context.Context, r io.Reader, dst string, maxSize int64, logf func(string, ...any)) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("gunzip: %w", err)
	}
	defer gz.Close()
	cr := &capReader{r: gz, left: maxSize, ctx: ctx}
	tr := tar.NewReader(cr)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		n, err := entryName(h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // TypeRegA still appears in old archives
			if n != dbFile && n != metadataFile {
				logf("skipping unexpected archive entry %q", h.Name)
				continue
			}
			if seen[n] {
				return permanent(fmt.Errorf("archive entry %q appears twice", h.Name))
			}
			seen[n] = true
			if err := writeEntry(filepath.Join(dst, n), tr); err != nil {
				return err
			}
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		case tar.TypeSymlink, tar.TypeLink:
			return permanent(fmt.Errorf("archive entry %q is a link (to %q), not allowed", h.Name, h.Linkname))
		default:
			return permanent(fmt.Errorf("archive entry %q has unsupported type %q", h.Name, h.Typeflag))
		}
	}
	// Drain the rest of the gzip stream (bounded) so its CRC and the layer
	// digest get checked.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return fmt.Errorf("gunzip: %w", err)
	}
	for _, want := range []string{dbFile, metadataFile} {
		if !seen[want] {
			return permanent(fmt.Errorf("archive has no %s", want))
		}
	}
	return nil
}

// entryName validates a tar entry name and returns it cleaned, without a
// leading "./".
func entryName(raw string) (string, error) {
	if raw == "" || strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, `\`) || filepath.IsAbs(raw) || filepath.VolumeName(raw) != "" {
		return "", permanent(fmt.Errorf("archive entry %q: absolute or empty path not allowed", raw))
	}
	for _, el := range strings.FieldsFunc(raw, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return "", permanent(fmt.Errorf("archive entry %q: path traversal not allowed", raw))
		}
	}
	return path.Clean(raw), nil
}

// writeEntry copies r into a new file at p.
func writeEntry(p string, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p, err)
	}
	return nil
}

// swapIn replaces dir by tmp: the old directory is renamed aside, tmp
// renamed in, and the old one removed; if the second rename fails the old
// directory is put back. Readers (Open) are excluded during the swap.
func swapIn(ctx context.Context, dir, tmp string) error {
	unlock, err := lockFile(ctx, dir+".swap.lock", true)
	if err != nil {
		return fmt.Errorf("swap in database: %w", err)
	}
	parent, base := filepath.Split(dir)
	old := ""
	if _, err := os.Lstat(dir); err == nil {
		o, err := os.MkdirTemp(parent, "."+base+".old-")
		if err != nil {
			unlock()
			return fmt.Errorf("swap in database: %w", err)
		}
		// MkdirTemp reserved a unique name; rename needs it absent.
		if err := os.Remove(o); err != nil {
			unlock()
			return fmt.Errorf("swap in database: %w", err)
		}
		if err := os.Rename(dir, o); err != nil {
			unlock()
			return fmt.Errorf("swap in database: move old %s aside: %w", dir, err)
		}
		old = o
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		unlock()
		return fmt.Errorf("swap in database: %w", err)
	}
	unlock()
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}
