// Package image is the image stage: it opens a container image (a
// docker-archive tarball, an OCI layout, a registry reference or the local
// Docker daemon), streams each layer once, runs the same file analyzers as
// the other stages over the files they claim (plus the OS package
// databases), applies whiteouts to keep only what the final filesystem
// holds, and attributes every package to the layer that brought it.
//
// Layers are independent units of work: they are decompressed and analysed
// in parallel and their results cached by diffID, so a second scan of an
// image that shares base layers skips them.
package image

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipgate/shipgate/internal/buildid"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Defaults for Options.
const (
	DefaultMaxFileSize   = 512 << 20
	DefaultMaxLayerBytes = 16 << 30
	DefaultMaxRatio      = 100
)

// Options configures an image scan.
type Options struct {
	Source SourceOptions
	// CacheDir holds per-layer results by diffID; empty disables the cache.
	CacheDir string
	// BuildID identifies the build of the analyzers (internal/buildid);
	// cached layer results are served only to the same build. Empty means
	// the running executable's (buildid.Self); when that cannot be read,
	// the cache is not used.
	BuildID string
	// MaxFileSize bounds a file handed to analyzers.
	MaxFileSize int64
	// MaxLayerBytes bounds a layer's uncompressed size; MaxRatio bounds its
	// uncompressed/compressed ratio (decompression bombs).
	MaxLayerBytes int64
	MaxRatio      int64
	// Workers bounds the layers processed at once (default GOMAXPROCS).
	Workers int
	// TempDir holds temporary files.
	TempDir string
	// VerifyKey, if set, checks the image's cosign signature with this key.
	VerifyKey *ecdsa.PublicKey
	// ScanText, if set, finds secrets in image metadata (env values and
	// history lines); name is where the text came from. It returns the
	// findings and the text with every secret found replaced by its
	// redacted form, which is what the report shows of that text.
	ScanText func(ctx context.Context, name, text string) ([]report.Finding, string)
}

// Result is what an image scan adds to a report.
type Result struct {
	Image     *report.Image
	OS        *report.OS
	Packages  []report.Package
	Findings  []report.Finding
	Analyzers []report.AnalyzerStatus
	// CacheHits is the number of layers whose results came from the cache.
	CacheHits int
	// Layers is the number of layers.
	Layers int
}

// Scan opens ref and scans it with analyzers.
func Scan(ctx context.Context, ref string, analyzers []plugins.Analyzer, o Options) (*Result, error) {
	if o.Source.TempDir == "" {
		o.Source.TempDir = o.TempDir
	}
	src, err := Open(ctx, ref, o.Source)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return ScanImage(ctx, src, analyzers, o)
}

// ScanImage scans an opened image.
func ScanImage(ctx context.Context, src *Source, analyzers []plugins.Analyzer, o Options) (*Result, error) {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxLayerBytes <= 0 {
		o.MaxLayerBytes = DefaultMaxLayerBytes
	}
	if o.MaxRatio == 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	img := src.Image
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", src.Name, err)
	}
	// Secrets in the config's env and history are looked for first, so
	// that every place the report shows those texts (the image's env and
	// history, the layers' and packages' created-by lines) shows them
	// redacted.
	var secretFindings []report.Finding
	if o.ScanText != nil {
		secretFindings, cf = scanMetadata(ctx, o.ScanText, cf)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image %s: layers: %w", src.Name, err)
	}
	cache := layerCache{dir: o.CacheDir}
	if cache.dir != "" && o.BuildID == "" {
		if o.BuildID, err = buildid.Self(); err != nil {
			cache.dir = ""
		}
	}
	key := cacheKey(analyzers, o)

	// The config's diff_ids name the layers; asking a docker-archive layer
	// for its diffID would hash it. scanLayer checks the content against
	// the claimed diffID while it streams, so the cache only ever holds
	// results of verified content.
	diffIDs := cf.RootFS.DiffIDs
	if len(diffIDs) != len(layers) {
		diffIDs = make([]v1.Hash, len(layers))
		for i, l := range layers {
			if diffIDs[i], err = l.DiffID(); err != nil {
				return nil, fmt.Errorf("image %s: layer %d: diffID: %w", src.Name, i+1, err)
			}
		}
	}
	results := make([]*layerResult, len(layers))
	errs := make([]error, len(layers))
	hits := make([]bool, len(layers))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			diffID := diffIDs[i]
			if r := cache.get(diffID.String(), key); r != nil {
				results[i], hits[i] = r, true
				return
			}
			r, err := scanLayer(ctx, l, diffID, analyzers, o)
			if err != nil {
				errs[i] = err
				return
			}
			r.Key = key
			cache.put(r)
			results[i] = r
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	meta := layerMeta(src, cf, diffIDs)
	res := &Result{Layers: len(layers)}
	for _, h := range hits {
		if h {
			res.CacheHits++
		}
	}
	// A layer that cannot be read is reported, never silently dropped; the
	// rest of the image is still analysed.
	var layerErrs []report.FileError
	for i, err := range errs {
		if err != nil {
			layerErrs = append(layerErrs, report.FileError{Path: "layer " + meta[i].DiffID, Message: err.Error()})
		}
	}
	merge(res, results, meta, analyzers)
	qualifyOSPackages(res.Packages, res.OS)
	if len(layerErrs) > 0 {
		res.Analyzers = append(res.Analyzers, report.AnalyzerStatus{Name: "image-layers", Stage: report.StageImage, Status: report.StatusError, Files: len(layers), Errors: layerErrs})
	}
	res.Image = imageMeta(src, img, cf, meta)
	if o.VerifyKey != nil {
		res.Image.Signature, res.Image.SignatureReason = VerifySignature(ctx, src, o.VerifyKey, o.Source)
	}
	res.Findings = append(res.Findings, secretFindings...)
	return res, nil
}

// layerMeta returns the report's description of each layer, with the
// history line that created it (empty-layer history entries skipped). The
// compressed digest is taken from the manifest where there is one: a
// docker-archive stores layers uncompressed, and computing their digest
// would mean compressing every layer.
func layerMeta(src *Source, cf *v1.ConfigFile, diffIDs []v1.Hash) []report.Layer {
	var createdBy []string
	for _, h := range cf.History {
		if !h.EmptyLayer {
			createdBy = append(createdBy, h.CreatedBy)
		}
	}
	var digests []v1.Hash
	if src.Kind == "registry" || src.Kind == "oci-layout" {
		if m, err := src.Image.Manifest(); err == nil && len(m.Layers) == len(diffIDs) {
			for _, d := range m.Layers {
				digests = append(digests, d.Digest)
			}
		}
	}
	out := make([]report.Layer, len(diffIDs))
	for i, id := range diffIDs {
		out[i] = report.Layer{DiffID: id.String()}
		if i < len(digests) {
			out[i].Digest = digests[i].String()
		}
		if i < len(createdBy) {
			out[i].CreatedBy = createdBy[i]
		}
	}
	return out
}

// merge applies the layers in order: a result from layer i for file p
// survives only if no later layer replaces p, deletes it (whiteout) or
// hides its directory (opaque whiteout). Each surviving package is then
// attributed to the lowest layer whose copy of the same file already held
// the same package (a dpkg status rewritten by a later layer does not move
// the packages installed before it).
func merge(res *Result, layers []*layerResult, meta []report.Layer, analyzers []plugins.Analyzer) {
	n := len(layers)
	// hidden[i] tells whether path p as of layer i is gone from the final view.
	present := make([]map[string]bool, n)
	for i, l := range layers {
		if l == nil {
			continue
		}
		present[i] = make(map[string]bool, len(l.Paths))
		for _, p := range l.Paths {
			present[i][p] = true
		}
	}
	hidden := func(i int, p string) bool {
		for j := i + 1; j < n; j++ {
			l := layers[j]
			if l == nil {
				continue
			}
			if present[j][p] {
				return true
			}
			for _, w := range l.Whiteouts {
				if p == w || strings.HasPrefix(p, w+"/") {
					return true
				}
			}
			for _, d := range l.Opaque {
				if d == "" || strings.HasPrefix(p, d+"/") {
					return true
				}
			}
		}
		return false
	}
	filePath := func(locs []report.Location) string {
		if len(locs) == 0 {
			return ""
		}
		p, _, _ := strings.Cut(locs[0].Path, "!") // nested archives: the outer file
		return p
	}
	// first[(path, name, version)] is the lowest layer holding that package
	// in that file.
	type pkgKey struct{ path, eco, name, version string }
	first := map[pkgKey]int{}
	for i, l := range layers {
		if l == nil {
			continue
		}
		for _, p := range l.Packages {
			k := pkgKey{filePath(p.Locations), p.Ecosystem, p.Name, p.Version}
			if _, ok := first[k]; !ok {
				first[k] = i
			}
		}
	}

	statuses := map[string]*report.AnalyzerStatus{}
	for _, a := range analyzers {
		statuses[a.Name()] = &report.AnalyzerStatus{Name: a.Name(), Stage: a.Stage(), Status: report.StatusOK}
	}
	for i, l := range layers {
		if l == nil {
			continue
		}
		for _, p := range l.Packages {
			if hidden(i, filePath(p.Locations)) {
				continue
			}
			at := i
			if f, ok := first[pkgKey{filePath(p.Locations), p.Ecosystem, p.Name, p.Version}]; ok {
				at = f
			}
			lay := meta[at]
			p.Layer = &lay
			res.Packages = append(res.Packages, p)
		}
		for _, f := range l.Findings {
			if !hidden(i, f.Location.Path) {
				res.Findings = append(res.Findings, f)
			}
		}
		if l.OS != nil {
			res.OS = l.OS // the topmost layer that has one
		}
		for _, st := range l.Analyzers {
			s, ok := statuses[st.Name]
			if !ok {
				continue
			}
			s.Files += st.Files
			for _, e := range st.Errors {
				e.Message = fmt.Sprintf("%s (layer %s)", e.Message, shortID(meta[i].DiffID))
				s.Errors = append(s.Errors, e)
			}
			for _, n := range st.Notes {
				n.Message = fmt.Sprintf("%s (layer %s)", n.Message, shortID(meta[i].DiffID))
				s.Notes = append(s.Notes, n)
			}
			if len(s.Errors) > 0 {
				s.Status = report.StatusError
			}
		}
	}
	for _, a := range analyzers {
		res.Analyzers = append(res.Analyzers, *statuses[a.Name()])
	}
	// Packages of the OS depend on nothing here; the SBOM links them to the
	// operating-system component.
	sort.SliceStable(res.Packages, func(a, b int) bool {
		pa, pb := res.Packages[a], res.Packages[b]
		return cmp.Or(cmp.Compare(filePath(pa.Locations), filePath(pb.Locations)), cmp.Compare(pa.Name, pb.Name), cmp.Compare(pa.Version, pb.Version)) < 0
	})
}

func shortID(s string) string {
	if len(s) > 19 {
		return s[:19]
	}
	return s
}

// cacheKey identifies what a layer result depends on besides the layer's
// content: the cache format, the build of the analyzers (a fixed or new
// analyzer finds other things in the same layer), the analyzer set and the
// limits that decide which files are read.
func cacheKey(analyzers []plugins.Analyzer, o Options) string {
	names := make([]string, 0, len(analyzers))
	for _, a := range analyzers {
		names = append(names, a.Name())
	}
	slices.Sort(names)
	h := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%d %d %d\n%s", cacheFormat, o.BuildID, o.MaxFileSize, o.MaxLayerBytes, o.MaxRatio, strings.Join(names, "\n")))
	return hex.EncodeToString(h[:16])
}

// imageMeta fills the report's image section from the config.
func imageMeta(src *Source, img v1.Image, cf *v1.ConfigFile, layers []report.Layer) *report.Image {
	im := &report.Image{
		Name:         src.Name,
		Architecture: cf.Architecture,
		OSName:       cf.OS,
		User:         cf.Config.User,
		Entrypoint:   cf.Config.Entrypoint,
		Cmd:          cf.Config.Cmd,
		WorkingDir:   cf.Config.WorkingDir,
		Labels:       cf.Config.Labels,
		Layers:       layers,
		Signature:    "not-checked",
	}
	if id, err := img.ConfigName(); err == nil {
		im.ID = id.String()
	}
	if src.RepoDigest != "" {
		im.RepoDigests = []string{src.RepoDigest}
	}
	if !cf.Created.IsZero() {
		t := cf.Created.UTC()
		im.Created = &t
	}
	for p := range cf.Config.ExposedPorts {
		im.ExposedPorts = append(im.ExposedPorts, p)
	}
	slices.Sort(im.ExposedPorts)
	for _, e := range cf.Config.Env {
		im.Env = append(im.Env, RedactEnv(e))
	}
	if hc := cf.Config.Healthcheck; hc != nil {
		im.Healthcheck = hc.Test
	}
	for _, h := range cf.History {
		im.History = append(im.History, h.CreatedBy)
	}
	im.BaseImage = baseImage(cf)
	return im
}

// baseImage guesses the base image from well-known labels.
func baseImage(cf *v1.ConfigFile) string {
	for _, k := range []string{"org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"} {
		if v := cf.Config.Labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// secretKeyWords mark environment variables whose values are secrets.
var secretKeyWords = []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL", "AUTH"}

// IsSecretKey reports whether an environment variable's name suggests a
// secret value.
func IsSecretKey(k string) bool {
	up := strings.ToUpper(k)
	for _, w := range secretKeyWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	return false
}

// RedactEnv redacts the value of a KEY=VALUE entry whose key looks secret:
// the first 4 characters and the length stay.
func RedactEnv(kv string) string {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || !IsSecretKey(k) || v == "" {
		return kv
	}
	return k + "=" + Redact(v)
}

// Redact shows the first 4 characters of a secret and its length.
func Redact(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return fmt.Sprintf("… (%d chars)", len(r))
	}
	return fmt.Sprintf("%s… (%d chars)", string(r[:4]), len(r))
}

// scanMetadata looks for secrets in the config's env and history and
// returns the findings and a copy of the config whose env and history texts
// have every secret found replaced by its redacted form.
func scanMetadata(ctx context.Context, scan func(context.Context, string, string) ([]report.Finding, string), cf *v1.ConfigFile) ([]report.Finding, *v1.ConfigFile) {
	var out []report.Finding
	red := *cf
	red.Config.Env = slices.Clone(cf.Config.Env)
	red.History = slices.Clone(cf.History)
	for i, e := range cf.Config.Env {
		fs, text := scan(ctx, fmt.Sprintf("image config env[%d]", i), e)
		out = append(out, fs...)
		red.Config.Env[i] = text
	}
	for i, h := range cf.History {
		if h.CreatedBy != "" {
			fs, text := scan(ctx, fmt.Sprintf("image history[%d]", i), h.CreatedBy)
			out = append(out, fs...)
			red.History[i].CreatedBy = text
		}
	}
	return out, &red
}
