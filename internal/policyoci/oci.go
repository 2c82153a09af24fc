// Package policyoci stores Shipgate policies (WebAssembly modules, sdk/ABI.md)
// in OCI registries as artifacts, the way Kubewarden and ORAS distribute
// WebAssembly: an OCI image manifest whose config is a small JSON document
// of our own (ConfigMediaType: the module's shape, digest, size and the
// metadata read by policy.Inspect) and whose single layer is the raw module
// (LayerMediaType, the wasm-to-oci media type Kubewarden's policies use).
//
// References are written oci://REGISTRY/REPO:TAG, oci://REGISTRY/REPO@sha256:HEX
// or oci://REGISTRY/REPO:TAG@sha256:HEX. Push returns the digest-pinned
// reference. Pull verifies the manifest digest (for a digest reference), the
// layer's size and digest, that the layer is a WebAssembly module, and, for
// TAG@DIGEST, that the tag still points at DIGEST (a moved tag is an error).
// Pulled blobs are kept in a content-addressed cache, so a digest reference
// works offline once pulled. Credentials come from authn.DefaultKeychain
// (docker config and credential helpers).
package policyoci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipgate/shipgate/internal/policy"
)

// Media types of a policy artifact.
const (
	// ConfigMediaType is the manifest config: a JSON Config.
	ConfigMediaType = "application/vnd.shipgate.policy.config.v1+json"
	// LayerMediaType is the module layer (the raw .wasm bytes, uncompressed),
	// as pushed by wasm-to-oci and Kubewarden's kwctl.
	LayerMediaType = "application/vnd.wasm.content.layer.v1+wasm"
	// AltLayerMediaType is the CNCF TAG Runtime "Wasm OCI artifact" layer
	// type; Pull accepts it too.
	AltLayerMediaType = "application/wasm"
	// Scheme prefixes a policy reference.
	Scheme = "oci://"
)

// Size limits.
const (
	// DefaultMaxSize caps the module layer (the same cap as a policy file).
	DefaultMaxSize = 64 << 20
	// maxConfigSize caps the config blob.
	maxConfigSize = 1 << 20
	// maxManifestSize caps the manifest.
	maxManifestSize = 4 << 20
)

// ConfigAPIVersion is Config.APIVersion.
const ConfigAPIVersion = "shipgate.dev/v1"

// Config is the artifact's config blob.
type Config struct {
	// APIVersion is ConfigAPIVersion.
	APIVersion string `json:"apiVersion"`
	// Shape is the module's shape (reactor, command or opa).
	Shape policy.Shape `json:"shape"`
	// Digest is the module's "sha256:HEX" (equal to the layer digest).
	Digest string `json:"digest"`
	// Size is the module size in bytes.
	Size int `json:"size"`
	// Metadata is the module's shipgate.metadata section, if any.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Options configure Push and Pull. The zero value uses the default keychain
// and transport, no cache and DefaultMaxSize.
type Options struct {
	// Insecure lists registries (HOST[:PORT]) reached over plain HTTP (and
	// unverified TLS), like scan's --insecure-registry.
	Insecure []string
	// Keychain resolves credentials (default authn.DefaultKeychain).
	Keychain authn.Keychain
	// Transport overrides the HTTP transport.
	Transport http.RoundTripper
	// CacheDir keeps pulled blobs by digest; empty disables the cache.
	CacheDir string
	// MaxSize caps the module layer in bytes (default DefaultMaxSize).
	MaxSize int64
	// Metadata is recorded by Push in the config when the module has no
	// shipgate.metadata section (e.g. what a reactor's shipgate_metadata
	// export returned); the section wins when present. Must be valid JSON.
	Metadata json.RawMessage
}

// Policy is a pulled policy module.
type Policy struct {
	// Ref is the digest-pinned reference, oci://REGISTRY/REPO@sha256:HEX.
	Ref string
	// ManifestDigest is the manifest's "sha256:HEX".
	ManifestDigest string
	// Digest is the module's "sha256:HEX" (the layer digest).
	Digest string
	// Wasm is the module.
	Wasm []byte
	// Config is the artifact's config (zero when the artifact carries
	// another config type, e.g. one pushed by other Wasm tooling).
	Config Config
	// Cached reports whether the module came from the cache without
	// reaching the registry.
	Cached bool
}

// IsRef reports whether s is an oci:// reference.
func IsRef(s string) bool { return strings.HasPrefix(s, Scheme) }

// parsed is a reference split into what Pull needs.
type parsed struct {
	ref name.Reference // the reference to fetch (the digest when given)
	tag *name.Tag      // the tag, when TAG@DIGEST was given
}

// parse reads oci://REGISTRY/REPO[:TAG][@DIGEST].
func parse(s string, insecure []string) (parsed, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return parsed{}, fmt.Errorf("policy reference %q: must start with %s", s, Scheme)
	}
	if rest == "" {
		return parsed{}, fmt.Errorf("policy reference %q: empty", s)
	}
	host, path, _ := strings.Cut(rest, "/")
	if path == "" {
		return parsed{}, fmt.Errorf("policy reference %q: want %sREGISTRY/REPO:TAG or @sha256:DIGEST", s, Scheme)
	}
	if last := path[strings.LastIndex(path, "/")+1:]; !strings.ContainsAny(last, ":@") {
		return parsed{}, fmt.Errorf("policy reference %q: give a tag (:TAG) or a digest (@sha256:HEX)", s)
	}
	var nopts []name.Option
	if slices.Contains(insecure, host) {
		nopts = append(nopts, name.Insecure)
	}
	// Require an explicit registry and tag (or digest): a policy reference
	// never means Docker Hub or :latest by accident.
	nopts = append(nopts, name.StrictValidation)
	base, dgst, hasDigest := strings.Cut(rest, "@")
	if !hasDigest {
		ref, err := name.NewTag(rest, nopts...)
		if err != nil {
			return parsed{}, fmt.Errorf("policy reference %q: %w", s, err)
		}
		return parsed{ref: ref}, nil
	}
	repoPart := base
	var tag *name.Tag
	if i := strings.LastIndex(base, ":"); i > strings.LastIndex(base, "/") {
		t, err := name.NewTag(base, nopts...)
		if err != nil {
			return parsed{}, fmt.Errorf("policy reference %q: %w", s, err)
		}
		tag = &t
		repoPart = base[:i]
	}
	d, err := name.NewDigest(repoPart+"@"+dgst, nopts...)
	if err != nil {
		return parsed{}, fmt.Errorf("policy reference %q: %w", s, err)
	}
	return parsed{ref: d, tag: tag}, nil
}

func (o *Options) remoteOptions(ctx context.Context, reg name.Registry) []remote.Option {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("shipgate")}
	switch {
	case o.Transport != nil:
		ropts = append(ropts, remote.WithTransport(o.Transport))
	case slices.Contains(o.Insecure, reg.RegistryStr()):
		tr := remote.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // explicitly requested with --insecure-registry
		ropts = append(ropts, remote.WithTransport(tr))
	}
	return ropts
}

func (o *Options) maxSize() int64 {
	if o.MaxSize > 0 {
		return o.MaxSize
	}
	return DefaultMaxSize
}

// Push stores wasm at ref (oci://REGISTRY/REPO:TAG) and returns the
// digest-pinned reference oci://REGISTRY/REPO@sha256:HEX. The module must be
// a WebAssembly module of a known shape. The same bytes always give the same
// manifest digest (nothing time-dependent goes into the artifact).
func Push(ctx context.Context, ref string, wasm []byte, o Options) (string, error) {
	p, err := parse(ref, o.Insecure)
	if err != nil {
		return "", err
	}
	if _, isDigest := p.ref.(name.Digest); isDigest {
		return "", fmt.Errorf("push %s: give a tag (oci://REGISTRY/REPO:TAG), not a digest", ref)
	}
	if int64(len(wasm)) > o.maxSize() {
		return "", fmt.Errorf("push %s: module is %d bytes, over the %d-byte cap", ref, len(wasm), o.maxSize())
	}
	info, err := policy.Inspect(wasm)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	if info.Shape == "" {
		return "", fmt.Errorf("push %s: the module has no known policy shape (sdk/ABI.md §3)", ref)
	}
	if info.Metadata == nil && len(o.Metadata) > 0 {
		if !json.Valid(o.Metadata) {
			return "", fmt.Errorf("push %s: metadata is not valid JSON", ref)
		}
		info.Metadata = o.Metadata
	}
	img, err := newArtifact(wasm, info)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.Write(p.ref, img, o.remoteOptions(ctx, p.ref.Context().Registry)...); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, describe(err))
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	return Scheme + p.ref.Context().Digest(d.String()).String(), nil
}

// artifact is a policy artifact as a v1.Image (for remote.Write).
type artifact struct {
	manifest []byte
	config   []byte
	layer    v1.Layer
	digest   v1.Hash
}

func newArtifact(wasm []byte, info policy.Info) (v1.Image, error) {
	cfg, err := json.Marshal(Config{APIVersion: ConfigAPIVersion, Shape: info.Shape, Digest: info.Digest, Size: info.Size, Metadata: info.Metadata})
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	layer := static.NewLayer(wasm, LayerMediaType)
	ld, err := layer.Digest()
	if err != nil {
		return nil, err
	}
	cd, _, err := v1.SHA256(bytes.NewReader(cfg))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: ConfigMediaType, Size: int64(len(cfg)), Digest: cd},
		Layers:        []v1.Descriptor{{MediaType: LayerMediaType, Size: int64(len(wasm)), Digest: ld}},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return partial.CompressedToImage(&artifact{manifest: raw, config: cfg, layer: layer, digest: ld})
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return a.config, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == a.digest {
		return a.layer, nil
	}
	return nil, fmt.Errorf("artifact has no layer %s", h)
}

// Pull fetches the policy at ref (a tag, a digest or TAG@DIGEST) and
// verifies it. A digest reference is served from the cache when present.
func Pull(ctx context.Context, ref string, o Options) (*Policy, error) {
	p, err := parse(ref, o.Insecure)
	if err != nil {
		return nil, err
	}
	cache := blobCache(o.CacheDir)
	d, pinned := p.ref.(name.Digest)
	if pinned && p.tag == nil {
		if pol, err := fromCache(cache, d, o.maxSize()); err == nil {
			return pol, nil
		}
	}
	ropts := o.remoteOptions(ctx, p.ref.Context().Registry)
	if p.tag != nil {
		desc, err := remote.Head(*p.tag, ropts...)
		if err != nil {
			return nil, fmt.Errorf("pull %s: resolve tag %s: %w", ref, p.tag.TagStr(), describe(err))
		}
		if desc.Digest.String() != d.DigestStr() {
			return nil, fmt.Errorf("pull %s: tag %s moved: it now points at %s, the reference pins %s", ref, p.tag.TagStr(), desc.Digest, d.DigestStr())
		}
	}
	desc, err := remote.Get(p.ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, describe(err))
	}
	if desc.Size > maxManifestSize || len(desc.Manifest) > maxManifestSize {
		return nil, fmt.Errorf("pull %s: manifest over %d bytes", ref, maxManifestSize)
	}
	if pinned && desc.Digest.String() != d.DigestStr() {
		return nil, fmt.Errorf("pull %s: manifest digest %s does not match the reference", ref, desc.Digest)
	}
	m, layer, err := checkManifest(desc.MediaType, desc.Manifest, o.maxSize())
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	repo := p.ref.Context()
	wasm, err := fetchBlob(repo, layer, o.maxSize(), ropts)
	if err != nil {
		return nil, fmt.Errorf("pull %s: layer %s: %w", ref, layer.Digest, err)
	}
	var cfgRaw []byte
	if m.Config.MediaType == ConfigMediaType {
		if cfgRaw, err = fetchBlob(repo, m.Config, maxConfigSize, ropts); err != nil {
			return nil, fmt.Errorf("pull %s: config %s: %w", ref, m.Config.Digest, err)
		}
	}
	pol, err := assemble(repo, desc.Digest, layer, wasm, cfgRaw)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if cache != "" {
		// A failed cache write costs a download next time, nothing else.
		_ = putBlob(cache, desc.Digest, desc.Manifest)
		_ = putBlob(cache, layer.Digest, wasm)
		if cfgRaw != nil {
			_ = putBlob(cache, m.Config.Digest, cfgRaw)
		}
	}
	return pol, nil
}

// checkManifest parses a manifest and returns it and its module layer.
func checkManifest(mt types.MediaType, raw []byte, maxSize int64) (*v1.Manifest, v1.Descriptor, error) {
	switch mt {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	case types.OCIImageIndex, types.DockerManifestList:
		return nil, v1.Descriptor{}, fmt.Errorf("is an image index (%s), not a policy artifact", mt)
	default:
		return nil, v1.Descriptor{}, fmt.Errorf("manifest media type %q is not an OCI image manifest", mt)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("parse manifest: %w", err)
	}
	var found []v1.Descriptor
	var kinds []string
	for _, l := range m.Layers {
		kinds = append(kinds, string(l.MediaType))
		if l.MediaType == LayerMediaType || l.MediaType == AltLayerMediaType {
			found = append(found, l)
		}
	}
	switch {
	case len(found) == 0:
		return nil, v1.Descriptor{}, fmt.Errorf("not a policy artifact: no %s layer (config %s, layers [%s])", LayerMediaType, m.Config.MediaType, strings.Join(kinds, ", "))
	case len(found) > 1:
		return nil, v1.Descriptor{}, fmt.Errorf("ambiguous policy artifact: %d WebAssembly layers", len(found))
	}
	l := found[0]
	if l.Size < 0 || l.Size > maxSize {
		return nil, v1.Descriptor{}, fmt.Errorf("layer %s is %d bytes, over the %d-byte cap", l.Digest, l.Size, maxSize)
	}
	if l.Digest.Algorithm != "sha256" {
		return nil, v1.Descriptor{}, fmt.Errorf("layer digest algorithm %q: only sha256 is supported", l.Digest.Algorithm)
	}
	return m, l, nil
}

// fetchBlob downloads one blob, at most limit bytes, and checks its size
// and digest against the descriptor.
func fetchBlob(repo name.Repository, desc v1.Descriptor, limit int64, ropts []remote.Option) ([]byte, error) {
	if desc.Size > limit {
		return nil, fmt.Errorf("%d bytes, over the %d-byte cap", desc.Size, limit)
	}
	l, err := remote.Layer(repo.Digest(desc.Digest.String()), ropts...)
	if err != nil {
		return nil, describe(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, describe(err)
	}
	defer rc.Close()
	// remote's reader verifies the digest at EOF; read one byte past the cap
	// so an oversized blob is refused without reading it all.
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download: %w", describe(err))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("over the %d-byte cap", limit)
	}
	if err := verify(desc, b); err != nil {
		return nil, err
	}
	return b, nil
}

// verify checks b against the descriptor's size and sha256 digest.
func verify(desc v1.Descriptor, b []byte) error {
	if int64(len(b)) != desc.Size {
		return fmt.Errorf("size %d, the manifest says %d", len(b), desc.Size)
	}
	sum := sha256.Sum256(b)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != desc.Digest.String() {
		return fmt.Errorf("digest mismatch: content is %s", got)
	}
	return nil
}

// assemble checks the module and the config and builds the Policy.
func assemble(repo name.Repository, manifest v1.Hash, layer v1.Descriptor, wasm, cfgRaw []byte) (*Policy, error) {
	if len(wasm) < 4 || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("layer %s (%s) is not a WebAssembly module (no \\0asm magic)", layer.Digest, layer.MediaType)
	}
	info, err := policy.Inspect(wasm)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", layer.Digest, err)
	}
	pol := &Policy{
		Ref:            Scheme + repo.Digest(manifest.String()).String(),
		ManifestDigest: manifest.String(),
		Digest:         info.Digest,
		Wasm:           wasm,
	}
	if cfgRaw != nil {
		if err := json.Unmarshal(cfgRaw, &pol.Config); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if pol.Config.Digest != "" && pol.Config.Digest != info.Digest {
			return nil, fmt.Errorf("config names module %s, the layer is %s", pol.Config.Digest, info.Digest)
		}
	}
	return pol, nil
}

// blobCache is the content-addressed blob directory under dir.
func blobCache(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "blobs", "sha256")
}

// errNotCached means a blob is absent from the cache (or fails to verify).
var errNotCached = errors.New("not cached")

// fromCache builds a Policy from cached blobs only.
func fromCache(cache string, d name.Digest, maxSize int64) (*Policy, error) {
	if cache == "" {
		return nil, errNotCached
	}
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return nil, err
	}
	raw, err := getBlob(cache, h, maxManifestSize)
	if err != nil {
		return nil, err
	}
	mt := types.MediaType(mediaTypeOf(raw))
	m, layer, err := checkManifest(mt, raw, maxSize)
	if err != nil {
		return nil, err
	}
	wasm, err := getBlob(cache, layer.Digest, maxSize)
	if err != nil {
		return nil, err
	}
	if err := verify(layer, wasm); err != nil {
		return nil, err
	}
	var cfgRaw []byte
	if m.Config.MediaType == ConfigMediaType {
		if cfgRaw, err = getBlob(cache, m.Config.Digest, maxConfigSize); err != nil {
			return nil, err
		}
	}
	pol, err := assemble(d.Context(), h, layer, wasm, cfgRaw)
	if err != nil {
		return nil, err
	}
	pol.Cached = true
	return pol, nil
}

func mediaTypeOf(raw []byte) string {
	var v struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(raw, &v)
	if v.MediaType == "" {
		return string(types.OCIManifestSchema1)
	}
	return v.MediaType
}

// getBlob reads a cached blob and checks its digest (a corrupt entry is a
// miss, not an error).
func getBlob(cache string, h v1.Hash, limit int64) ([]byte, error) {
	if h.Algorithm != "sha256" {
		return nil, errNotCached
	}
	b, err := readCapped(filepath.Join(cache, h.Hex), limit)
	if err != nil {
		return nil, errNotCached
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != h.Hex {
		return nil, errNotCached
	}
	return b, nil
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: over %d bytes", path, limit)
	}
	return b, nil
}

// putBlob writes a blob atomically (temporary file, then rename).
func putBlob(cache string, h v1.Hash, b []byte) error {
	if h.Algorithm != "sha256" {
		return nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("policy cache: %w", err)
	}
	f, err := os.CreateTemp(cache, ".tmp-*")
	if err != nil {
		return fmt.Errorf("policy cache: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("policy cache: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(cache, h.Hex)); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("policy cache: %w", err)
	}
	return nil
}

// describe turns a registry error into a shorter message: a missing
// repository, tag or manifest says so plainly.
func describe(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return fmt.Errorf("not found in the registry (%s): %w", d.Code, err)
			}
		}
		if te.StatusCode == http.StatusNotFound {
			return fmt.Errorf("not found in the registry: %w", err)
		}
		if te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden {
			return fmt.Errorf("access denied (check docker login / credential helpers): %w", err)
		}
	}
	return err
}
