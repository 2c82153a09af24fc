// Package sast is Shipgate's rule engine for Python, JavaScript/TypeScript
// and Java source code.
//
// Rules are written in a small YAML format (plugins/code/sast/docs/rules.md): metadata plus
// token-sequence patterns such as `subprocess.$F(... shell=True ...)` or
// `$C.execute($STR + ...)`. The built-in rules live in rules/*.yaml and are
// embedded; LoadRules reads a user's rule file in the same format.
//
// Engines: a rule with a `query:` (a tree-sitter query) runs on the real
// parser (plugins/code/treesitter: tree-sitter compiled to WASI, run in
// wazero, in the same sandbox style as the policies); every built-in rule
// (Python, JavaScript/TypeScript, Java) is written that way. A rule with
// only `patterns:` runs on a tokenizer per language family. The tokenizers
// know comments and every string form (Python prefixes, triple quotes and
// f-strings, JavaScript template literals and regular-expression literals,
// Java text blocks and char literals), so a dangerous call written inside a
// string or a comment never matches; what a token matcher cannot see: the
// code inside `${...}` of a template literal and `{...}` of an f-string,
// scope, and statements continued over a line break outside brackets in
// JavaScript. Neither engine follows data flow (a query built on one line
// and executed on the next) or aliases (`import subprocess as sp`). Each
// finding's Analyzer field names the engine that produced it:
// sast/tree-sitter or sast/tokens. When the parser fails on a file
// (deadline, memory limit), a query rule falls back to its patterns if it
// has any, and the file gets a Result.Errors entry.
//
// Prefilter: a rule's `keywords:` are strings every match contains. One
// Aho-Corasick pass over a file finds which occur; a rule with none of its
// keywords is skipped, a file left with no query rule of its grammar is
// not parsed, and otherwise only the remaining rules' patterns are queried
// (parsing, at a few MB/s, is the cost that matters).
//
// Findings: kind code, the rule's id, references, severity and CWEs,
// 1-based line and column of the first matched token and the end of the
// last, a snippet in which every string literal is elided, and a
// fingerprint sha256(rule, path, matched tokens) that survives line moves.
// A line containing `shipgate:ignore` marks its finding Suppressed (inline).
package sast

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/rules"
	"github.com/shipgate/shipgate/plugins/code/treesitter"
)

// Name is the analyzer's id.
const Name = "sast"

// Engine names the token engine, recorded in the Analyzer field of the
// findings of pattern rules as Name + "/" + Engine.
const Engine = "tokens"

// DefaultMaxSize is the largest source file scanned by default.
const DefaultMaxSize = 2 << 20

// Options configure the analyzer.
type Options struct {
	// Rules are added to the built-in rules; a rule with a built-in's id
	// replaces it.
	Rules []Rule
	// NoBuiltin drops the built-in rules (only Rules run).
	NoBuiltin bool
	// MaxSize is the largest file scanned (DefaultMaxSize when 0).
	MaxSize int64
	// TreeSitter is the engine for query rules, shared with the caller
	// (who closes it); when nil the analyzer creates one on first need
	// (Analyzer.Close releases it).
	TreeSitter *treesitter.Engine
	// CacheDir, when set, keeps the compiled tree-sitter module on disk
	// between runs (for the engine the analyzer creates itself): compiling
	// it takes over a second, reading it back a few milliseconds.
	CacheDir string
}

// Analyzer runs query rules on the tree-sitter parser and pattern rules on
// the tokenizer.
type Analyzer struct {
	rules   []Rule
	maxSize int64
	err     error
	ts      *tsState
	// custom holds the indices in rules of the caller's rules (Options.Rules),
	// whose queries are checked for every grammar on first use; built-in
	// queries are tested, and compiled per grammar only when needed.
	custom []int
	// noPrefilter turns the keyword prefilter off (tests compare findings
	// with and without it).
	noPrefilter bool
	// prefilters are the keyword prefilters per rule language.
	prefilters map[string]*prefilter
	// cacheKey names the rule set and limits (CacheKey); empty when the
	// rules could not be loaded.
	cacheKey string
}

// New returns the analyzer with the built-in rules plus any extra rules
// (from LoadRules); an extra rule with a built-in's id replaces it. This is
// what `--rules FILE` uses:
//
//	rs, err := sast.LoadRules(file)
//	a := sast.New(rs)
func New(extra ...[]Rule) *Analyzer {
	var all []Rule
	for _, rs := range extra {
		all = append(all, rs...)
	}
	return NewWith(Options{Rules: all})
}

// NewWith returns the analyzer configured by opts.
func NewWith(opts Options) *Analyzer {
	a := &Analyzer{maxSize: opts.MaxSize, ts: &tsState{eng: opts.TreeSitter, cacheDir: opts.CacheDir}}
	if a.maxSize <= 0 {
		a.maxSize = DefaultMaxSize
	}
	if !opts.NoBuiltin {
		b, err := Builtin()
		if err != nil {
			a.err = err
		}
		a.rules = b
	}
	for _, r := range opts.Rules {
		replaced := false
		for i := range a.rules {
			if a.rules[i].Meta.ID == r.Meta.ID {
				a.rules[i], replaced = r, true
				a.custom = append(a.custom, i)
			}
		}
		if !replaced {
			a.custom = append(a.custom, len(a.rules))
			a.rules = append(a.rules, r)
		}
	}
	a.prefilters = newPrefilters(a.rules)
	if a.err == nil {
		if b, err := json.Marshal(a.rules); err == nil {
			sum := sha256.Sum256(b)
			a.cacheKey = fmt.Sprintf("rules=%x max=%d", sum, a.maxSize)
		}
	}
	return a
}

// CacheKey implements plugins.Cacheable: a file's findings depend on its
// path and content, the rules (the caller's included) and the size limit.
// A file the parser failed on is reported with Result.Errors, which the
// core never caches, so a deadline met once is not remembered.
func (a *Analyzer) CacheKey(_ fs.FS, _ string) (string, bool) {
	return a.cacheKey, a.cacheKey != "" && !a.noPrefilter
}

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageCode }

// Rules returns the metadata of the rules this analyzer runs.
func (a *Analyzer) Rules() []rules.Rule {
	out := make([]rules.Rule, 0, len(a.rules))
	for _, r := range a.rules {
		out = append(out, r.Meta)
	}
	return out
}

// skipDirs are directories of third-party or generated code.
var skipDirs = map[string]bool{
	"node_modules": true, "bower_components": true, "vendor": true, ".git": true,
	"site-packages": true, "__pycache__": true, ".venv": true, "venv": true, ".tox": true,
}

// Language returns the language of path by extension, or "".
func Language(path string) string {
	base := path[strings.LastIndexByte(path, '/')+1:]
	if strings.HasSuffix(base, ".min.js") || strings.HasSuffix(base, ".d.ts") {
		return ""
	}
	ext := ""
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		ext = base[i:]
	}
	switch ext {
	case ".py", ".pyw":
		return LangPython
	case ".js", ".mjs", ".cjs", ".jsx":
		return LangJavaScript
	case ".ts", ".tsx", ".mts", ".cts":
		return LangTypeScript
	case ".java":
		return LangJava
	}
	return ""
}

// FileRequired claims Python, JavaScript, TypeScript and Java sources
// outside third-party directories (node_modules/, vendor/, site-packages/,
// virtualenvs), minified *.min.js and *.d.ts declaration files.
func (a *Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	if Language(path) == "" {
		return false
	}
	for _, d := range strings.Split(plugins.Dir(path), "/") {
		if skipDirs[d] {
			return false
		}
	}
	return true
}

// Analyze implements plugins.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	if a.err != nil {
		return nil, a.err
	}
	lang := Language(in.Path)
	if lang == "" {
		return nil, plugins.Errorf(in.Path, 0, "not a Python, JavaScript, TypeScript or Java file")
	}
	data, err := in.ReadAll(a.maxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if int64(len(data)) > a.maxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d bytes, not scanned", a.maxSize)
	}
	head := data
	if len(head) > 8192 {
		head = head[:8192]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, plugins.Errorf(in.Path, 0, "binary content (NUL byte), not scanned")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	return a.scan(ctx, in.Path, lang, string(data))
}

// scan runs every rule of lang on src: query rules on the parse tree,
// pattern rules (and query rules whose parse failed) on the tokens.
func (a *Analyzer) scan(ctx context.Context, path, lang, src string) (*plugins.Result, error) {
	res := &plugins.Result{}
	active := a.active(lang, []byte(src))
	byRule, parsed, err := a.runQueries(ctx, path, lang, src, active)
	if err != nil {
		if interrupted(ctx, err) {
			return nil, fmt.Errorf("sast %s: %w", path, err)
		}
		var re ruleError
		if a.ts.err != nil || errors.As(err, &re) {
			return nil, err
		}
		res.Errors = append(res.Errors, report.FileError{Path: path,
			Message: fmt.Sprintf("%v: query rules not run on the parser (their token patterns ran where they have any)", err)})
	}
	var f *file
	tokens := func() *file {
		if f == nil {
			f = newFile(Tokenize(lang, src))
		}
		return f
	}
	lines := strings.Split(src, "\n")
	dedup := rules.Dedup{}
	for i := range a.rules {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := &a.rules[i]
		if !r.appliesTo(lang) || active != nil && !active[i] {
			continue
		}
		if parsed && r.Query != "" {
			for _, m := range byRule[i] {
				if r.near != nil && !tokens().nearLines(r, m.line, m.endLine) {
					continue
				}
				res.Findings = append(res.Findings, a.tsFinding(r, path, lang, src, m, lines, dedup))
			}
			continue
		}
		if len(r.pats) == 0 || tokens().anyMatch(r.unless) {
			continue
		}
		for _, m := range tokens().ruleMatches(r) {
			res.Findings = append(res.Findings, a.finding(r, path, tokens(), m, lines, dedup))
		}
	}
	return res, nil
}

// span is a match: tokens [start, end).
type span struct{ start, end int }

// anyMatch reports whether any of ps matches anywhere in f.
func (f *file) anyMatch(ps []pattern) bool {
	for _, p := range ps {
		for _, i := range f.starts(p) {
			if f.matchAt(p, i) >= 0 {
				return true
			}
		}
	}
	return false
}

// ruleMatches returns r's matches in f, one per start token, in order.
func (f *file) ruleMatches(r *Rule) []span {
	byStart := map[int]int{}
	for _, p := range r.pats {
		for _, i := range f.starts(p) {
			if _, dup := byStart[i]; dup {
				continue
			}
			end := f.matchAt(p, i)
			if end <= i {
				continue
			}
			excluded := false
			for _, n := range r.nots {
				if f.matchAt(n, i) >= 0 {
					excluded = true
					break
				}
			}
			if excluded || r.near != nil && !f.near(r, i, end) {
				continue
			}
			byStart[i] = end
		}
	}
	out := make([]span, 0, len(byStart))
	for s, e := range byStart {
		out = append(out, span{s, e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// near reports whether an identifier or string on the lines of the match
// [start, end) matches r.near.
func (f *file) near(r *Rule, start, end int) bool {
	first, last := f.toks[start].Line, f.toks[end-1].EndLine
	i := start
	for i > 0 && f.toks[i-1].EndLine >= first {
		i--
	}
	for ; i < len(f.toks) && f.toks[i].Line <= last; i++ {
		t := f.toks[i]
		if (t.Kind == Ident || t.Kind == String) && r.near.MatchString(t.Value()) {
			return true
		}
	}
	return false
}

// finding builds the finding of match m of rule r.
func (a *Analyzer) finding(r *Rule, path string, f *file, m span, lines []string, dedup rules.Dedup) report.Finding {
	first, last := f.toks[m.start], f.toks[m.end-1]
	stable, sn := renderTokens(f.toks[m.start:m.end])
	fd := r.Meta.Finding(Name+"/"+Engine, path, first.Line, first.Col, r.Message, sn, dedup.Key(r.Meta.ID, stable))
	fd.Location.EndLine, fd.Location.EndColumn = last.EndLine, last.EndCol+1
	if first.Line-1 < len(lines) && strings.Contains(lines[first.Line-1], "shipgate:ignore") {
		fd.Suppressed = &report.Suppression{Kind: "inline", Reason: "shipgate:ignore"}
	}
	return fd
}
