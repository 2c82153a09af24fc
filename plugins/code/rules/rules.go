// Package rules holds the metadata shared by Shipgate's code-stage analyzers:
// one Rule per check (id, title, help, severity, CWEs and the ids of the same
// check in other tools) and the helper that turns a rule and a location into
// a report.Finding with a stable fingerprint.
//
// SARIF and the GitLab formats read the metadata through each analyzer
// package's Rules function.
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// Rule describes one check.
type Rule struct {
	// ID is the stable rule id, e.g. "dockerfile-user-root".
	ID string `json:"id"`
	// Kind is report.KindSecret, report.KindConfig or report.KindCode.
	Kind string `json:"kind"`
	// Title is a short description.
	Title string `json:"title"`
	// Help explains the risk and the fix.
	Help string `json:"help"`
	// Severity is one of the report.Severity* values.
	Severity string `json:"severity"`
	// CWEs are CWE ids like "CWE-250".
	CWEs []string `json:"cwes"`
	// References are ids of the same check in other tools.
	References []string `json:"references,omitempty"`
}

// Fingerprint returns the hex sha256 of the parts joined by NUL bytes. Callers
// pass the rule id, the path and content that does not depend on the line.
func Fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// Finding builds a finding of rule r at path:line:col (1-based). stable is
// the content that identifies the occurrence independently of its line (the
// offending text, a YAML path); it is hashed with the rule id and path into
// the fingerprint. When two occurrences share the same stable content the
// caller should make it unique (e.g. append an ordinal).
func (r Rule) Finding(analyzer, path string, line, col int, message, snippet, stable string) report.Finding {
	fp := Fingerprint(r.ID, path, stable)
	return report.Finding{
		ID:          r.ID + ":" + fp[:16],
		Kind:        r.Kind,
		Rule:        r.ID,
		References:  append([]string(nil), r.References...),
		Severity:    r.Severity,
		Title:       r.Title,
		Message:     message,
		Location:    report.Location{Path: path, Line: line, Column: col},
		CWEs:        append([]string(nil), r.CWEs...),
		Fingerprint: fp,
		Snippet:     snippet,
		Analyzer:    analyzer,
	}
}

// Index returns the rules keyed by id.
func Index(rs []Rule) map[string]Rule {
	m := make(map[string]Rule, len(rs))
	for _, r := range rs {
		m[r.ID] = r
	}
	return m
}

// Dedup makes the stable keys of findings unique: the n-th repetition of the
// same (rule, stable) pair gets "#n" appended. Use it before Finding when a
// file can contain the same offending text twice.
type Dedup map[string]int

// Key returns stable, made unique for rule.
func (d Dedup) Key(rule, stable string) string {
	k := rule + "\x00" + stable
	n := d[k]
	d[k] = n + 1
	if n == 0 {
		return stable
	}
	return stable + "#" + strconv.Itoa(n)
}
