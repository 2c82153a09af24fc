package sast

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// Languages.
const (
	LangPython     = "python"
	LangJavaScript = "javascript"
	LangTypeScript = "typescript"
	LangJava       = "java"
)

// MaxRuleFileSize caps a rule file read by LoadRules.
const MaxRuleFileSize = 1 << 20

//go:embed rules/*.yaml
var builtinFS embed.FS

// Rule is one SAST rule: metadata plus compiled token patterns.
type Rule struct {
	// Meta is the rule's metadata (id, title, help, severity, CWEs,
	// references); Meta.Kind is always report.KindCode.
	Meta rules.Rule
	// Languages the rule applies to (python, javascript, typescript, java).
	Languages []string
	// Message is the finding message.
	Message string
	// Patterns: the rule fires where any of them matches.
	Patterns []string
	// Not: a match is dropped when one of these matches at the same token.
	Not []string
	// Unless: the rule is skipped for a file where one of these matches
	// anywhere (e.g. a parser hardened with setFeature).
	Unless []string
	// Near, a regular expression, restricts matches to those with an
	// identifier or string matching it on the matched lines.
	Near string
	// Query is a tree-sitter query (S-expression patterns with #eq?,
	// #not-eq?, #match?, #not-match?, #any-of?, #not-any-of? predicates)
	// run on the real parser of each of Languages. A match is reported at
	// its @match capture (the span of all its captures when there is
	// none). A pattern with an @unless capture reports nothing: when it
	// matches, the rule reports nothing in that file. When a rule has both,
	// Query runs and Patterns (with Not and Unless) are its fallback for a
	// file the parser could not handle.
	Query string
	// Keywords prefilter the rule: a file that contains none of these
	// strings (byte for byte) cannot match it, so the rule is skipped for
	// that file, and a file where no query rule of its grammar survives is
	// not parsed at all. Every match of the rule must contain one of them
	// in the source text; a rule without keywords always runs.
	Keywords []string

	pats, nots, unless []pattern
	near               *regexp.Regexp
}

// ruleYAML is a rule as written in a rule file.
type ruleYAML struct {
	ID         string   `yaml:"id"`
	Title      string   `yaml:"title"`
	Languages  []string `yaml:"languages"`
	Severity   string   `yaml:"severity"`
	CWE        []string `yaml:"cwe"`
	Message    string   `yaml:"message"`
	Help       string   `yaml:"help"`
	References []string `yaml:"references"`
	Patterns   []string `yaml:"patterns"`
	Not        []string `yaml:"not"`
	Unless     []string `yaml:"unless"`
	Near       string   `yaml:"near"`
	Query      string   `yaml:"query"`
	Keywords   []string `yaml:"keywords"`
}

type ruleFile struct {
	Rules []ruleYAML `yaml:"rules"`
}

var cweRe = regexp.MustCompile(`^CWE-[0-9]+$`)

// LoadRules reads a rule file (the format of docs/rules.md) and returns its
// compiled rules. Errors name the file and, where known, the line.
func LoadRules(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRuleFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	if len(data) > MaxRuleFileSize {
		return nil, fmt.Errorf("rules %s: larger than %d bytes", path, MaxRuleFileSize)
	}
	return ParseRules(path, data)
}

// ParseRules parses rule-file content; name is used in errors.
func ParseRules(name string, data []byte) ([]Rule, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var rf ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("rules %s: empty file", name)
		}
		return nil, fmt.Errorf("rules %s: %w", name, err)
	}
	// A second pass for the line of each rule.
	var lines struct {
		Rules []yaml.Node `yaml:"rules"`
	}
	_ = yaml.Unmarshal(data, &lines)
	if len(rf.Rules) == 0 {
		return nil, fmt.Errorf("rules %s: no rules (want a top-level \"rules:\" list)", name)
	}
	out := make([]Rule, 0, len(rf.Rules))
	seen := map[string]bool{}
	for i, ry := range rf.Rules {
		line := 0
		if i < len(lines.Rules) {
			line = lines.Rules[i].Line
		}
		r, err := ry.compile()
		if err != nil {
			return nil, fmt.Errorf("rules %s:%d: rule %d (%s): %w", name, line, i+1, ry.ID, err)
		}
		if seen[r.Meta.ID] {
			return nil, fmt.Errorf("rules %s:%d: duplicate rule id %q", name, line, r.Meta.ID)
		}
		seen[r.Meta.ID] = true
		out = append(out, r)
	}
	return out, nil
}

func (ry ruleYAML) compile() (Rule, error) {
	r := Rule{
		Meta: rules.Rule{ID: ry.ID, Kind: report.KindCode, Title: ry.Title, Help: ry.Help,
			Severity: strings.ToUpper(ry.Severity), CWEs: ry.CWE, References: ry.References},
		Languages: ry.Languages, Message: ry.Message, Patterns: ry.Patterns, Not: ry.Not, Unless: ry.Unless, Near: ry.Near,
		Query: strings.TrimSpace(ry.Query), Keywords: ry.Keywords,
	}
	if ry.ID == "" || strings.ContainsAny(ry.ID, " \t\n") {
		return r, fmt.Errorf("missing or invalid id %q", ry.ID)
	}
	if r.Meta.Title == "" {
		r.Meta.Title = ry.Message
	}
	if ry.Message == "" {
		return r, errors.New("missing message")
	}
	switch r.Meta.Severity {
	case report.SeverityCritical, report.SeverityHigh, report.SeverityMedium, report.SeverityLow:
	default:
		return r, fmt.Errorf("severity %q is not CRITICAL, HIGH, MEDIUM or LOW", ry.Severity)
	}
	if len(ry.Languages) == 0 {
		return r, errors.New("no languages")
	}
	for _, l := range ry.Languages {
		if !slices.Contains([]string{LangPython, LangJavaScript, LangTypeScript, LangJava}, l) {
			return r, fmt.Errorf("unknown language %q", l)
		}
	}
	for _, c := range ry.CWE {
		if !cweRe.MatchString(c) {
			return r, fmt.Errorf("CWE %q is not of the form CWE-<number>", c)
		}
	}
	if len(ry.Patterns) == 0 && r.Query == "" {
		return r, errors.New("no patterns and no query")
	}
	if len(ry.Patterns) == 0 && (len(ry.Not) > 0 || len(ry.Unless) > 0) {
		return r, errors.New("not and unless apply to patterns; in a query use #not-eq?, #not-match?, a negated field (!name) or an @unless pattern")
	}
	for _, k := range ry.Keywords {
		if k == "" {
			return r, errors.New("empty keyword (a rule without keywords always runs: drop the list instead)")
		}
	}
	var err error
	if r.pats, err = compileAll(ry.Patterns); err != nil {
		return r, err
	}
	if r.nots, err = compileAll(ry.Not); err != nil {
		return r, err
	}
	if r.unless, err = compileAll(ry.Unless); err != nil {
		return r, err
	}
	if ry.Near != "" {
		if r.near, err = regexp.Compile(ry.Near); err != nil {
			return r, fmt.Errorf("near: %w", err)
		}
	}
	return r, nil
}

func compileAll(srcs []string) ([]pattern, error) {
	out := make([]pattern, 0, len(srcs))
	for _, s := range srcs {
		p, err := compilePattern(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Builtin returns the built-in rules (rules/*.yaml, embedded).
func Builtin() ([]Rule, error) {
	entries, err := builtinFS.ReadDir("rules")
	if err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	var out []Rule
	for _, e := range entries {
		name := path.Join("rules", e.Name())
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err)
		}
		rs, err := ParseRules(name, data)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// appliesTo reports whether r applies to lang.
func (r *Rule) appliesTo(lang string) bool {
	return slices.Contains(r.Languages, lang)
}
