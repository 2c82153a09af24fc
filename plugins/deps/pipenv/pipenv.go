// Package pipenv extracts Python packages from Pipfile.lock files.
//
// Format: Pipfile.lock "_meta.pipfile-spec" 6
// (https://pipenv.pypa.io/en/latest/pipfile.html and
// https://github.com/pypa/pipfile): a JSON object whose "default" and
// "develop" sections (and, since pipenv 2023.10, any other package
// category) map each package name to {"version": "==1.2.3", "hashes":
// ["sha256:..."], "markers": ...}. Packages of "develop" and of the other
// non-default categories are dev; a package locked in several sections is
// reported once, dev only if it is never in "default".
//
// Entries without a pinned version (VCS, editable, file and path
// dependencies) are reported in Result.Errors and skipped. The lockfile
// records no dependency graph. Direct dependencies are the packages listed
// in the sibling Pipfile ([packages], [dev-packages] and category
// sections); without a Pipfile the relationship is unknown.
package pipenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/jsontok"
)

// Name is the analyzer's id.
const Name = "pipenv-lock"

// maxSize is the largest Pipfile.lock or Pipfile read, in bytes.
const maxSize = 64 << 20

// Analyzer reads Pipfile.lock files.
type Analyzer struct{}

// New returns the Pipfile.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named Pipfile.lock.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "Pipfile.lock")
}

type lockEntry struct {
	Version  string   `json:"version"`
	Hashes   []string `json:"hashes"`
	Git      string   `json:"git"`
	Path     string   `json:"path"`
	File     string   `json:"file"`
	Editable bool     `json:"editable"`
}

var (
	// normRe matches the runs that PEP 503 normalisation replaces by "-".
	normRe = regexp.MustCompile(`[-_.]+`)
	// versionRe matches a PEP 440 version (loosely).
	versionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+!_-]*$`)
	// hashAlgs maps pip hash names to CycloneDX algorithm names.
	hashAlgs = map[string]string{"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "sha1": "SHA-1", "md5": "MD5"}
)

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := readAll(in.Reader)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	res := &plugins.Result{}
	manifest := plugins.Join(plugins.Dir(in.Path), "Pipfile")
	direct, err := readPipfile(in.FS, manifest)
	if err != nil {
		res.Errors = append(res.Errors, report.FileError{Path: manifest, Line: plugins.ErrorLine(err), Message: fmt.Sprintf("direct dependencies unknown: %v", cause(err))})
	}

	lc := jsontok.NewLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) (*plugins.Result, error) {
		line := lc.At(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = lc.At(se.Offset)
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return res, &plugins.ParseError{Path: in.Path, Line: line, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if err := jsontok.Delim(dec, '{'); err != nil {
		return fail(err)
	}
	byRef := map[string]int{}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		section, _ := tok.(string)
		if section == "_meta" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
			continue
		}
		dev := section != "default"
		if err := jsontok.Delim(dec, '{'); err != nil {
			return fail(fmt.Errorf("section %q: %w", section, err))
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			name, _ := tok.(string)
			line := lc.At(dec.InputOffset())
			var e lockEntry
			if err := dec.Decode(&e); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return fail(err)
				}
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s: %s: unexpected %s for %s", section, name, te.Value, te.Field)})
				continue
			}
			version, ok := strings.CutPrefix(e.Version, "==")
			switch {
			case name == "":
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s: entry without a name", section)})
				continue
			case e.Git != "" || e.Path != "" || e.File != "" || e.Editable:
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s: %s is a VCS, file or path dependency without a version: skipped", section, name)})
				continue
			case !ok || !versionRe.MatchString(version):
				res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s: %s has no pinned version (%q): skipped", section, name, clip(e.Version))})
				continue
			}
			purl := purls.Build(report.EcosystemPyPI, name, version)
			ref := plugins.Ref(in.Path, purl)
			loc := report.Location{Path: in.Path, Line: line}
			if i, ok := byRef[ref]; ok {
				p := &res.Packages[i]
				p.Locations = append(p.Locations, loc)
				p.Dev = p.Dev && dev
				continue
			}
			pkg := report.Package{
				BOMRef:       ref,
				Name:         name,
				Version:      version,
				Purl:         purl,
				Ecosystem:    report.EcosystemPyPI,
				Type:         report.TypeLibrary,
				Locations:    []report.Location{loc},
				Relationship: report.RelationshipUnknown,
				Dev:          dev,
			}
			if direct != nil {
				pkg.Relationship = report.RelationshipTransitive
				if direct[normalize(name)] {
					pkg.Relationship = report.RelationshipDirect
				}
			}
			for _, h := range e.Hashes {
				alg, v, _ := strings.Cut(h, ":")
				if a, known := hashAlgs[strings.ToLower(alg)]; known && isHex(v) {
					pkg.Hashes = append(pkg.Hashes, report.Hash{Algorithm: a, Value: strings.ToLower(v)})
				} else {
					res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: fmt.Sprintf("%s: unsupported hash %q", name, clip(h))})
				}
			}
			byRef[ref] = len(res.Packages)
			res.Packages = append(res.Packages, pkg)
		}
		if err := jsontok.Delim(dec, '}'); err != nil {
			return fail(err)
		}
	}
	if err := jsontok.Delim(dec, '}'); err != nil {
		return fail(err)
	}
	return res, nil
}

// readPipfile returns the normalised names of the packages the Pipfile at
// name declares, or nil, nil when there is none.
func readPipfile(fsys fs.FS, name string) (map[string]bool, error) {
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
	var pf map[string]any
	if _, err := toml.Decode(string(data), &pf); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &plugins.ParseError{Path: name, Line: pe.Position.Line, Err: fmt.Errorf("invalid TOML: %s", pe.Message)}
		}
		return nil, fmt.Errorf("invalid TOML: %w", err)
	}
	direct := map[string]bool{}
	for section, v := range pf {
		switch section {
		case "source", "requires", "pipenv", "scripts":
			continue
		}
		if tbl, ok := v.(map[string]any); ok {
			for n := range tbl {
				direct[normalize(n)] = true
			}
		}
	}
	return direct, nil
}

// cause returns the error of a *plugins.ParseError, or err itself.
func cause(err error) error {
	var pe *plugins.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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

// normalize is the PEP 503 name normalisation.
func normalize(name string) string {
	return strings.ToLower(normRe.ReplaceAllString(strings.TrimSpace(name), "-"))
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
