// Package suppress applies what users say should not count: ignore files
// (.shipgateignore with an id a line; .shipgateignore.yaml with scopes,
// reasons and expiry dates) and VEX documents (CycloneDX VEX and OpenVEX).
//
// Suppressed vulnerabilities and findings stay in the report, marked with
// the reason and where it came from; an expired ignore entry stops
// suppressing and says so in the report's warnings. Nothing silently
// vanishes.
package suppress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/report"
)

// File names looked up in the scanned root.
const (
	IgnoreFile     = ".shipgateignore"
	IgnoreYAMLFile = ".shipgateignore.yaml"
)

// Kinds of suppression, as report.Suppression.Kind holds them.
const (
	KindIgnore = "ignore-file"
	KindVEX    = "vex"
)

// Rule is one suppression.
type Rule struct {
	// ID matches a vulnerability id or alias, or a finding's rule, id or
	// fingerprint.
	ID string
	// Purl, if set, limits the rule to packages with this purl (a purl
	// without version matches every version; qualifiers are ignored).
	Purl string
	// Path, if set, limits the rule to locations matching this glob.
	Path string
	// Reason (or VEX justification) is kept in the report.
	Reason string
	// Expires is the day after which the rule no longer applies.
	Expires time.Time
	// Kind and Source say where the rule came from.
	Kind, Source string
	// Line is the rule's line in its file, when known.
	Line int
}

// Set is the rules in force for one scan.
type Set struct {
	Rules []Rule
}

// Load reads the ignore files in dir (missing ones are fine) and the given
// VEX documents.
func Load(dir string, vex []string) (*Set, error) {
	s := &Set{}
	if dir != "" {
		if err := s.loadIgnore(filepath.Join(dir, IgnoreFile)); err != nil {
			return nil, err
		}
		if err := s.loadIgnoreYAML(filepath.Join(dir, IgnoreYAMLFile)); err != nil {
			return nil, err
		}
	}
	for _, v := range vex {
		if err := s.loadVEX(v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Set) loadIgnore(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		reason := ""
		if i := strings.Index(line, "#"); i >= 0 {
			line, reason = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		}
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return fmt.Errorf("%s:%d: one id a line, got %q", path, n, line)
		}
		s.Rules = append(s.Rules, Rule{ID: line, Reason: firstNonEmpty(reason, "listed in "+IgnoreFile), Kind: KindIgnore, Source: IgnoreFile, Line: n})
	}
	return nil
}

type yamlEntry struct {
	ID      string `yaml:"id"`
	Purl    string `yaml:"purl"`
	Path    string `yaml:"path"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`
}

func (s *Set) loadIgnoreYAML(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var doc struct {
		Ignore []yaml.Node `yaml:"ignore"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && err.Error() != "EOF" {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	for _, node := range doc.Ignore {
		var e yamlEntry
		if err := node.Decode(&e); err != nil {
			return fmt.Errorf("parse %s:%d: %w", path, node.Line, err)
		}
		if e.ID == "" {
			return fmt.Errorf("%s:%d: an ignore entry needs an id", path, node.Line)
		}
		if e.Path != "" && !doublestar.ValidatePattern(e.Path) {
			return fmt.Errorf("%s:%d: invalid path glob %q", path, node.Line, e.Path)
		}
		r := Rule{ID: e.ID, Purl: e.Purl, Path: e.Path, Reason: firstNonEmpty(e.Reason, "listed in "+IgnoreYAMLFile), Kind: KindIgnore, Source: IgnoreYAMLFile, Line: node.Line}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return fmt.Errorf("%s:%d: expires must be YYYY-MM-DD, got %q", path, node.Line, e.Expires)
			}
			r.Expires = t
		}
		s.Rules = append(s.Rules, r)
	}
	return nil
}

// loadVEX reads a CycloneDX VEX (JSON) or an OpenVEX document; only
// statements that say a product is not affected, or that the issue is
// fixed, suppress.
func (s *Set) loadVEX(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read VEX %s: %w", path, err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("parse VEX %s: %w", path, err)
	}
	name := filepath.Base(path)
	switch {
	case probe["bomFormat"] != nil:
		var doc struct {
			Vulnerabilities []struct {
				ID       string `json:"id"`
				Analysis struct {
					State         string `json:"state"`
					Justification string `json:"justification"`
					Detail        string `json:"detail"`
				} `json:"analysis"`
				Affects []struct {
					Ref string `json:"ref"`
				} `json:"affects"`
			} `json:"vulnerabilities"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("parse CycloneDX VEX %s: %w", path, err)
		}
		for _, v := range doc.Vulnerabilities {
			switch v.Analysis.State {
			case "not_affected", "resolved", "false_positive":
			default:
				continue
			}
			reason := strings.TrimSpace(v.Analysis.State + ": " + firstNonEmpty(v.Analysis.Justification, v.Analysis.Detail))
			if len(v.Affects) == 0 {
				s.Rules = append(s.Rules, Rule{ID: v.ID, Reason: reason, Kind: KindVEX, Source: name})
			}
			for _, a := range v.Affects {
				s.Rules = append(s.Rules, Rule{ID: v.ID, Purl: a.Ref, Reason: reason, Kind: KindVEX, Source: name})
			}
		}
	case probe["statements"] != nil:
		var doc struct {
			Statements []struct {
				Vulnerability json.RawMessage   `json:"vulnerability"`
				Products      []json.RawMessage `json:"products"`
				Status        string            `json:"status"`
				Justification string            `json:"justification"`
				Impact        string            `json:"impact_statement"`
			} `json:"statements"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("parse OpenVEX %s: %w", path, err)
		}
		for _, st := range doc.Statements {
			if st.Status != "not_affected" && st.Status != "fixed" {
				continue
			}
			id := stringOrField(st.Vulnerability, "name")
			if id == "" {
				return fmt.Errorf("parse OpenVEX %s: a statement has no vulnerability name", path)
			}
			reason := strings.TrimSpace(st.Status + ": " + firstNonEmpty(st.Justification, st.Impact))
			if len(st.Products) == 0 {
				s.Rules = append(s.Rules, Rule{ID: id, Reason: reason, Kind: KindVEX, Source: name})
			}
			for _, p := range st.Products {
				s.Rules = append(s.Rules, Rule{ID: id, Purl: stringOrField(p, "@id"), Reason: reason, Kind: KindVEX, Source: name})
			}
		}
	default:
		return fmt.Errorf("VEX %s: neither CycloneDX (bomFormat) nor OpenVEX (statements)", path)
	}
	return nil
}

// stringOrField reads a JSON string, or field of a JSON object.
func stringOrField(raw json.RawMessage, field string) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		if v, ok := m[field].(string); ok {
			return v
		}
	}
	return ""
}

// Apply marks the report's suppressed vulnerabilities and findings, and
// adds a warning for each expired rule that would have applied.
func (s *Set) Apply(r *report.Report, now time.Time) {
	byRef := map[string]*report.Package{}
	for i := range r.Packages {
		byRef[r.Packages[i].BOMRef] = &r.Packages[i]
	}
	warned := map[int]bool{}
	match := func(pred func(Rule) bool) *report.Suppression {
		for i, rule := range s.Rules {
			if !pred(rule) {
				continue
			}
			if !rule.Expires.IsZero() && now.After(rule.Expires.AddDate(0, 0, 1)) {
				if !warned[i] {
					warned[i] = true
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s:%d: the ignore entry for %s expired on %s and no longer suppresses it", rule.Source, rule.Line, rule.ID, rule.Expires.Format("2006-01-02")))
				}
				continue
			}
			return &report.Suppression{Kind: rule.Kind, Source: rule.Source, Reason: rule.Reason}
		}
		return nil
	}
	for i := range r.Vulnerabilities {
		v := &r.Vulnerabilities[i]
		pkg := byRef[v.PackageRef]
		path := ""
		if v.Location != nil {
			path = v.Location.Path
		}
		v.Suppressed = match(func(rule Rule) bool {
			if rule.ID != v.ID && !contains(v.Aliases, rule.ID) {
				return false
			}
			if rule.Purl != "" && (pkg == nil || !purlMatches(rule.Purl, pkg.Purl, pkg.BOMRef)) {
				return false
			}
			return rule.Path == "" || globMatch(rule.Path, path)
		})
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Suppressed != nil {
			continue // inline suppressions stay
		}
		f.Suppressed = match(func(rule Rule) bool {
			if rule.ID != f.Rule && rule.ID != f.ID && rule.ID != f.Fingerprint {
				return false
			}
			return rule.Path == "" || globMatch(rule.Path, f.Location.Path)
		})
	}
}

// purlMatches compares a rule's purl (or bom-ref) with a package's: the
// type, namespace and name must agree, the version too when the rule has
// one; qualifiers and subpaths are ignored.
func purlMatches(rule, purl, bomRef string) bool {
	if rule == bomRef {
		return true
	}
	strip := func(p string) string {
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		return p
	}
	rp, pp := strip(rule), strip(purl)
	if strings.Contains(rp, "@") {
		return rp == pp
	}
	base, _, _ := strings.Cut(pp, "@")
	return rp == base
}

func globMatch(pattern, path string) bool {
	ok, _ := doublestar.Match(pattern, path)
	return ok
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
