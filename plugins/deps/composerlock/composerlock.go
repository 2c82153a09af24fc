// Package composerlock extracts PHP packages from composer.lock files, with
// the dependency graph they record.
//
// Format: composer.lock as written by Composer 1.x and 2.x
// (https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control;
// "plugin-api-version" 2.x): a JSON object whose "packages" and
// "packages-dev" arrays hold one object per locked package with its name
// ("vendor/name"), version, license array, dist (with a SHA-1 "shasum",
// often empty) and "require" map. Packages of "packages-dev" are dev.
//
// Requirements on the platform (php, php-64bit, hhvm, ext-*, lib-*,
// composer, composer-plugin-api, composer-runtime-api) are not packages and
// are skipped; a requirement satisfied through another package's "provide"
// or "replace" points at that package. Direct dependencies are the
// "require" and "require-dev" entries of the sibling composer.json; without
// it the relationship is unknown.
package composerlock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/jsontok"
)

// Name is the analyzer's id.
const Name = "composer-lock"

// maxSize is the largest composer.lock or composer.json read, in bytes.
const maxSize = 64 << 20

// Analyzer reads composer.lock files.
type Analyzer struct{}

// New returns the composer.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named composer.lock outside vendor directories.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "composer.lock") && !strings.HasPrefix(path, "vendor/") && !strings.Contains(path, "/vendor/")
}

type lockPackage struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	License licenses          `json:"license"`
	Require map[string]string `json:"require"`
	Provide map[string]string `json:"provide"`
	Replace map[string]string `json:"replace"`
	Dist    struct {
		Shasum string `json:"shasum"`
	} `json:"dist"`
}

// licenses is a license array, also accepted as a single string.
type licenses []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *licenses) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = licenses{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*l = list
	return nil
}

// entry is a decoded package with where it was found.
type entry struct {
	lockPackage
	dev  bool
	line int
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := readAll(in.Reader)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	res := &plugins.Result{}
	entries, err := decode(ctx, data, in.Path, res)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		// Report what was read before the error.
		build(in, entries, nil, res)
		return res, err
	}
	manifest := plugins.Join(plugins.Dir(in.Path), "composer.json")
	direct, derr := readManifest(in.FS, manifest)
	if derr != nil {
		res.Errors = append(res.Errors, report.FileError{Path: manifest, Message: fmt.Sprintf("direct dependencies unknown: %v", derr)})
	}
	build(in, entries, direct, res)
	return res, nil
}

// decode reads the "packages" and "packages-dev" arrays.
func decode(ctx context.Context, data []byte, path string, res *plugins.Result) ([]entry, error) {
	lc := jsontok.NewLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	var entries []entry
	fail := func(err error) ([]entry, error) {
		line := lc.At(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = lc.At(se.Offset)
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return entries, &plugins.ParseError{Path: path, Line: line, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if err := jsontok.Delim(dec, '{'); err != nil {
		return fail(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		if key != "packages" && key != "packages-dev" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
			continue
		}
		if err := jsontok.Delim(dec, '['); err != nil {
			return fail(fmt.Errorf("%s: %w", key, err))
		}
		for i := 0; dec.More(); i++ {
			if err := ctx.Err(); err != nil {
				return entries, err
			}
			line := lc.At(int64(nextValue(data, int(dec.InputOffset()))))
			var p lockPackage
			if err := dec.Decode(&p); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return fail(err)
				}
				res.Errors = append(res.Errors, report.FileError{Path: path, Line: line, Message: fmt.Sprintf("%s[%d]: unexpected %s for %s: skipped", key, i, te.Value, te.Field)})
				continue
			}
			entries = append(entries, entry{lockPackage: p, dev: key == "packages-dev", line: line})
		}
		if err := jsontok.Delim(dec, ']'); err != nil {
			return fail(err)
		}
	}
	if err := jsontok.Delim(dec, '}'); err != nil {
		return fail(err)
	}
	return entries, nil
}

// build turns the entries into packages. direct is nil when unknown.
func build(in *plugins.Input, entries []entry, direct map[string]bool, res *plugins.Result) {
	refs := make([]string, len(entries))
	byName := map[string]int{}
	provided := map[string][]int{} // provide/replace name -> entries
	for i, e := range entries {
		refs[i] = plugins.Ref(in.Path, purls.Build(report.EcosystemComposer, e.Name, e.Version))
		n := strings.ToLower(e.Name)
		if _, ok := byName[n]; !ok {
			byName[n] = i
		}
		for _, m := range []map[string]string{e.Provide, e.Replace} {
			for k := range m {
				provided[strings.ToLower(k)] = append(provided[strings.ToLower(k)], i)
			}
		}
	}
	seen := map[string]bool{}
	for i, e := range entries {
		if e.Name == "" || e.Version == "" {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: "package entry has no name or version: skipped"})
			continue
		}
		if seen[refs[i]] {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("%s %s is locked twice", e.Name, e.Version)})
			continue
		}
		seen[refs[i]] = true
		purl := purls.Build(report.EcosystemComposer, e.Name, e.Version)
		pkg := report.Package{
			BOMRef:       refs[i],
			Name:         e.Name,
			Version:      e.Version,
			Purl:         purl,
			Ecosystem:    report.EcosystemComposer,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: in.Path, Line: e.line}},
			Relationship: report.RelationshipUnknown,
			Dev:          e.dev,
		}
		for _, l := range e.License {
			if l = strings.TrimSpace(l); l != "" {
				pkg.Licenses = append(pkg.Licenses, l)
			}
		}
		if s := strings.ToLower(e.Dist.Shasum); len(s) == 40 && isHex(s) {
			pkg.Hashes = []report.Hash{{Algorithm: "SHA-1", Value: s}}
		}
		if direct != nil {
			pkg.Relationship = report.RelationshipTransitive
			if direct[strings.ToLower(e.Name)] {
				pkg.Relationship = report.RelationshipDirect
			}
		}
		names := make([]string, 0, len(e.Require))
		for d := range e.Require {
			names = append(names, d)
		}
		sort.Strings(names)
		added := map[string]bool{}
		for _, d := range names {
			n := strings.ToLower(d)
			if isPlatform(n) {
				continue
			}
			var targets []int
			if j, ok := byName[n]; ok {
				targets = []int{j}
			} else {
				targets = provided[n]
			}
			if len(targets) == 0 {
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: e.line, Message: fmt.Sprintf("%s %s: dependency %q is not in the lockfile", e.Name, e.Version, d)})
				continue
			}
			for _, j := range targets {
				if j != i && !added[refs[j]] {
					added[refs[j]] = true
					pkg.DependsOn = append(pkg.DependsOn, refs[j])
				}
			}
		}
		res.Packages = append(res.Packages, pkg)
	}
}

// isPlatform reports whether a (lower-case) requirement is a platform
// package rather than a Composer package.
func isPlatform(n string) bool {
	switch n {
	case "php", "php-64bit", "php-ipv6", "php-zts", "php-debug", "hhvm", "composer", "composer-plugin-api", "composer-runtime-api":
		return true
	}
	return strings.HasPrefix(n, "ext-") || strings.HasPrefix(n, "lib-")
}

// readManifest returns the lower-cased names composer.json requires, or
// nil, nil when there is none.
func readManifest(fsys fs.FS, name string) (map[string]bool, error) {
	if fsys == nil {
		return nil, nil
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, err
	}
	var m struct {
		Require    map[string]any `json:"require"`
		RequireDev map[string]any `json:"require-dev"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	direct := map[string]bool{}
	for _, r := range []map[string]any{m.Require, m.RequireDev} {
		for k := range r {
			direct[strings.ToLower(k)] = true
		}
	}
	return direct, nil
}

// nextValue returns the offset of the next value after off, skipping
// whitespace and a separating comma.
func nextValue(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// readAll reads at most maxSize bytes, without a UTF-8 byte order mark.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxSize)
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}
