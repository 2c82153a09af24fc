// Package secrets finds hard-coded secrets (API keys, tokens, private keys)
// in text files with gitleaks' detector (github.com/zricethezav/gitleaks/v8
// v8.30.1, default configuration, 222 rules), kept behind our own Detector
// interface so that another engine can replace it.
//
// Build with `-tags gore2regex` to run gitleaks' regular expressions on RE2
// compiled to WebAssembly (wazero; still CGO-free), which is several times
// faster than Go's regexp on large trees. Without the tag Go's regexp is
// used; both give the same findings.
//
// What is scanned (FileRequired): regular files up to Options.MaxSize
// (10 MiB by default) except
//   - lockfiles and checksum files, whose hashes are false positives:
//     package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml,
//     bun.lock, deno.lock, go.sum, go.work.sum, Cargo.lock, poetry.lock,
//     Pipfile.lock, uv.lock, Gemfile.lock, composer.lock, packages.lock.json,
//     gradle.lockfile, verification-metadata.xml;
//   - installed third-party trees: node_modules/, bower_components/, .git/
//     (the deps stage covers the packages; gitleaks skips them too). vendor/
//     IS scanned, because vendored code is committed by the project; gitleaks'
//     own allowlist still skips the well-known Go module paths under it;
//   - files whose extension marks them as binary (images, fonts, archives,
//     compiled objects). Analyze also skips any file with a NUL byte in its
//     first 8 KiB.
//
// Findings: kind secret, rule = the gitleaks rule id, CWE-798, severity HIGH,
// or CRITICAL for private keys and cloud-provider credentials (see
// CriticalRule). Line and column are 1-based and point at the secret.
// Message and snippet carry only Redact(secret): its first 4 characters and
// its length. The fingerprint is sha256(rule, path, sha256(secret)), so it
// survives the line moving.
//
// Suppression: a line containing `shipgate:ignore` (or gitleaks'
// `gitleaks:allow`), typically in a trailing comment, marks the finding
// Suppressed{Kind: "inline"}. Files under a test-fixture directory
// (Options.FixtureDirs: testdata, fixtures, __fixtures__, __snapshots__,
// test-fixtures by default) are still scanned, but their findings are
// Suppressed{Kind: "allowlist"}, so they stay visible without failing a gate.
package secrets

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// Name is the analyzer's id.
const Name = "secrets"

// CWE is the CWE of every secret finding: use of hard-coded credentials.
const CWE = "CWE-798"

// DefaultMaxSize is the default size cap of a scanned file.
const DefaultMaxSize = 10 << 20

// SuppressionAllowlist is the Suppression.Kind of findings in fixture paths.
const SuppressionAllowlist = "allowlist"

// Options configure the analyzer.
type Options struct {
	// MaxSize is the largest file scanned, in bytes (DefaultMaxSize when 0).
	MaxSize int64
	// FixtureDirs are directory names whose files' findings are suppressed
	// as test fixtures (DefaultFixtureDirs when nil).
	FixtureDirs []string
}

// DefaultFixtureDirs are the default test-fixture directory names.
var DefaultFixtureDirs = []string{"testdata", "fixtures", "__fixtures__", "__snapshots__", "test-fixtures"}

// lockfiles are base names never scanned (hash-heavy files).
var lockfiles = []string{
	"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "deno.lock",
	"go.sum", "go.work.sum", "Cargo.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "Gemfile.lock",
	"composer.lock", "packages.lock.json", "gradle.lockfile", "verification-metadata.xml",
}

// skippedDirs are path segments never scanned.
var skippedDirs = []string{"node_modules", "bower_components", ".git"}

// binaryExt are extensions of files that are never text.
var binaryExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".ico": true, ".webp": true, ".tif": true, ".tiff": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".zst": true, ".7z": true, ".rar": true, ".tar": true,
	".jar": true, ".war": true, ".class": true, ".so": true, ".dll": true, ".exe": true, ".dylib": true, ".a": true, ".o": true,
	".pdf": true, ".wasm": true, ".pyc": true, ".mp3": true, ".mp4": true, ".mov": true, ".avi": true,
}

// defaultDetector is built once: compiling gitleaks' rules is costly and the
// detector is immutable and safe for concurrent use afterwards.
var defaultDetector = sync.OnceValues(func() (Detector, error) { return NewGitleaks() })

// Default returns the shared gitleaks-backed Detector.
func Default() (Detector, error) { return defaultDetector() }

// Analyzer finds secrets in text files.
type Analyzer struct {
	det  func() (Detector, error)
	opts Options
	// custom is set when det is the caller's, whose configuration the
	// analyzer cannot name (CacheKey).
	custom bool
}

// New returns the analyzer with the default detector and options.
func New() *Analyzer { return &Analyzer{det: Default} }

// NewWith returns an analyzer using det (the default detector when nil)
// and opts.
func NewWith(det Detector, opts Options) *Analyzer {
	a := &Analyzer{det: Default, opts: opts}
	if det != nil {
		a.det = func() (Detector, error) { return det, nil }
		a.custom = true
	}
	return a
}

// CacheKey implements plugins.Cacheable: the findings in a file depend on
// its path (fixture directories, the fingerprint) and content, the options
// and the detector, which is the build's own unless the caller gave one
// (then nothing is cached).
func (a *Analyzer) CacheKey(_ fs.FS, _ string) (string, bool) {
	if a.custom {
		return "", false
	}
	dirs := a.opts.FixtureDirs
	if dirs == nil {
		dirs = DefaultFixtureDirs
	}
	return fmt.Sprintf("max=%d fixtures=%q", a.maxSize(), dirs), true
}

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageCode }

func (a *Analyzer) maxSize() int64 {
	if a.opts.MaxSize > 0 {
		return a.opts.MaxSize
	}
	return DefaultMaxSize
}

// FileRequired claims text-like files under the size cap that are not
// lockfiles nor inside installed third-party trees (see the package doc).
func (a *Analyzer) FileRequired(path string, info fs.FileInfo) bool {
	if info != nil && (!info.Mode().IsRegular() || info.Size() > a.maxSize() || info.Size() == 0) {
		return false
	}
	if plugins.HasBase(path, lockfiles...) {
		return false
	}
	for _, seg := range strings.Split(path, "/") {
		if slices.Contains(skippedDirs, seg) {
			return false
		}
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	if i := strings.LastIndexByte(base, '.'); i >= 0 && binaryExt[strings.ToLower(base[i:])] {
		return false
	}
	return true
}

// CriticalRule reports whether a gitleaks rule is rated CRITICAL rather than
// HIGH: private keys (private-key, age-secret-key, pkcs12-file) and
// credentials of cloud providers that grant infrastructure access (AWS,
// GCP, Azure, Alibaba, DigitalOcean, Cloudflare, Heroku, Fly.io).
func CriticalRule(id string) bool {
	switch id {
	case "private-key", "age-secret-key", "pkcs12-file":
		return true
	}
	for _, p := range []string{"aws-", "gcp-", "azure-", "alibaba-", "digitalocean-", "cloudflare-", "heroku-", "flyio-"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// Rule returns the metadata of a gitleaks rule id.
func Rule(id, description string) rules.Rule {
	sev := report.SeverityHigh
	if CriticalRule(id) {
		sev = report.SeverityCritical
	}
	if description == "" {
		description = "Hard-coded secret (" + id + ")"
	}
	return rules.Rule{
		ID:       id,
		Kind:     report.KindSecret,
		Title:    description,
		Help:     description + ". Remove the secret from the file, rotate it, and load it at run time from a secret store or the environment. Mark a false positive with a `shipgate:ignore` comment on the same line.",
		Severity: sev,
		CWEs:     []string{CWE},
		References: []string{
			"gitleaks:" + id,
		},
	}
}

// Rules returns the metadata of every rule of the default detector, sorted
// by id (nil if the detector cannot be built).
func Rules() []rules.Rule {
	d, err := Default()
	if err != nil {
		return nil
	}
	ids := d.RuleIDs()
	out := make([]rules.Rule, 0, len(ids))
	for id, desc := range ids {
		out = append(out, Rule(id, desc))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Analyze implements plugins.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	det, err := a.det()
	if err != nil {
		return nil, fmt.Errorf("secrets detector: %w", err)
	}
	max := a.maxSize()
	data, err := in.ReadAll(max + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	res := &plugins.Result{}
	if int64(len(data)) > max {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Message: fmt.Sprintf("file larger than %d bytes: not scanned for secrets", max)})
		return res, nil
	}
	if IsBinary(data) {
		return res, nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	content := string(data)
	res.Findings = a.findings(ctx, det, in.Path, content)
	return res, nil
}

// IsBinary reports whether data looks binary: a NUL byte in its first 8 KiB.
func IsBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0
}

func (a *Analyzer) findings(ctx context.Context, det Detector, path, content string) []report.Finding {
	matches := det.Detect(ctx, path, content)
	if len(matches) == 0 {
		return nil
	}
	fixture := a.inFixtureDir(path)
	dedup := rules.Dedup{}
	out := make([]report.Finding, 0, len(matches))
	var lines lineIndex
	ignored := map[int]bool{} // by line: a long line is searched once
	for _, m := range matches {
		f := FindingFor(m, Name, path, dedup)
		line, ok := lines.line(content, m.Line)
		ign, seen := ignored[m.Line]
		if ok && !seen {
			ign = Ignored(line)
			ignored[m.Line] = ign
		}
		if ok && ign {
			f.Suppressed = &report.Suppression{Kind: "inline", Source: path, Reason: "shipgate:ignore comment"}
		} else if ok && publicFingerprint(m, line) {
			f.Suppressed = &report.Suppression{Kind: SuppressionAllowlist, Source: path, Reason: "a public OpenPGP key fingerprint, not a secret"}
		} else if fixture {
			f.Suppressed = &report.Suppression{Kind: SuppressionAllowlist, Source: path, Reason: "test fixture path"}
		}
		out = append(out, f)
	}
	return out
}

// FindingFor turns a detector match into a finding of analyzer at path.
// dedup (may be nil) separates two occurrences of the same secret in one
// file.
func FindingFor(m Match, analyzer, path string, dedup rules.Dedup) report.Finding {
	r := Rule(m.RuleID, m.Description)
	stable := m.SHA256
	if dedup != nil {
		stable = dedup.Key(m.RuleID, stable)
	}
	msg := fmt.Sprintf("%s: %s", r.Title, m.Redacted)
	return r.Finding(analyzer, path, m.Line, m.Column, msg, m.Redacted, stable)
}

// RedactText returns text with the secret of each match (found in text by
// Detect) replaced by its redacted form, for places that show the text
// itself (an image's history lines). Matches are located by their line,
// column and length in runes.
func RedactText(text string, matches []Match) string {
	if len(matches) == 0 {
		return text
	}
	runes := []rune(text)
	// Rune offset of the start of each line.
	starts := []int{0}
	for i, r := range runes {
		if r == '\n' {
			starts = append(starts, i+1)
		}
	}
	type span struct {
		from, to int
		with     string
	}
	var spans []span
	for _, m := range matches {
		if m.Line < 1 || m.Line > len(starts) {
			continue
		}
		from := starts[m.Line-1] + m.Column - 1
		to := min(from+m.Length, len(runes))
		if from < 0 || from >= to {
			continue
		}
		spans = append(spans, span{from, to, m.Redacted})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from > spans[j].from })
	last := len(runes) + 1
	for _, sp := range spans { // from the end, so earlier offsets stay valid
		if sp.to > last {
			sp.to = last // overlapping matches: the later one already covers the rest
		}
		if sp.from >= sp.to {
			continue
		}
		runes = append(runes[:sp.from], append([]rune(sp.with), runes[sp.to:]...)...)
		last = sp.from
	}
	return string(runes)
}

// Ignored reports whether a source line carries an inline suppression:
// `shipgate:ignore` or gitleaks' `gitleaks:allow`.
func Ignored(line string) bool {
	return strings.Contains(line, "shipgate:ignore") || strings.Contains(line, "gitleaks:allow")
}

func (a *Analyzer) inFixtureDir(path string) bool {
	dirs := a.opts.FixtureDirs
	if dirs == nil {
		dirs = DefaultFixtureDirs
	}
	segs := strings.Split(path, "/")
	for _, s := range segs[:len(segs)-1] {
		if slices.Contains(dirs, s) {
			return true
		}
	}
	return false
}

// gpgName matches the names official images give OpenPGP key fingerprints
// they verify downloads with (ENV GPG_KEY, GPG_KEYS, NODE_GPG_KEY_ID,
// PGP_FINGERPRINT, ...).
var gpgName = regexp.MustCompile(`(?i)(gpg|pgp)[_.-]?(keys?|key[_.-]?ids?|fingerprints?)\b|fingerprints?\b`)

// fingerprintValue matches an OpenPGP v4 fingerprint or a long key id.
var fingerprintValue = regexp.MustCompile(`^(0x)?([0-9A-Fa-f]{40}|[0-9A-Fa-f]{16})$`)

// publicFingerprint reports whether m, a match of gitleaks' generic rule on
// line, is the value of a GPG key name and has the shape of a key
// fingerprint: public data (the official python images carry
// `ENV GPG_KEY A035C8C1...`), reported as allowlisted rather than as a
// leaked secret.
func publicFingerprint(m Match, line string) bool {
	switch {
	case m.RuleID != "generic-api-key" || m.Column < 1 || len(line) > 4096:
		return false
	case m.Length != 16 && m.Length != 18 && m.Length != 40 && m.Length != 42:
		return false
	}
	r := []rune(line)
	start := m.Column - 1
	if start+m.Length > len(r) {
		return false
	}
	return fingerprintValue.MatchString(string(r[start:start+m.Length])) && gpgName.MatchString(string(r[:start]))
}
