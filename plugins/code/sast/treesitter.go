package sast

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/code/rules"
	"github.com/shipgate/shipgate/plugins/code/treesitter"
)

// EngineTreeSitter names the real-parser engine, recorded in the Analyzer
// field of the findings of query rules as Name + "/" + EngineTreeSitter.
const EngineTreeSitter = "tree-sitter"

// grammar returns the tree-sitter grammar of a file of lang at path.
func grammar(lang, path string) string {
	if lang == LangTypeScript {
		if strings.HasSuffix(path, ".tsx") {
			return treesitter.LangTSX
		}
		return treesitter.LangTypeScript
	}
	return lang
}

// grammarLang maps a grammar back to the rule language.
func grammarLang(g string) string {
	if g == treesitter.LangTSX {
		return LangTypeScript
	}
	return g
}

// queryPlan is every query rule of one grammar concatenated into one
// query, so that a file is parsed once and queried once.
type queryPlan struct {
	query string
	// rule maps a pattern index of query to the index of its rule.
	rule []int
}

// tsState is the analyzer's tree-sitter engine, created on first need.
type tsState struct {
	once  sync.Once
	eng   *treesitter.Engine
	own   bool
	plans map[string]*queryPlan
	err   error
}

// prepare creates the engine (unless one was given) and compiles each
// grammar's plan, naming the rule whose query tree-sitter refuses.
func (a *Analyzer) prepare(ctx context.Context) error {
	ts := a.ts
	ts.once.Do(func() {
		ts.plans = map[string]*queryPlan{}
		need := false
		for _, r := range a.rules {
			need = need || r.Query != ""
		}
		if !need {
			return
		}
		if ts.eng == nil {
			eng, err := treesitter.New(context.WithoutCancel(ctx), treesitter.Config{MaxSourceSize: int(a.maxSize)})
			if err != nil {
				ts.err = fmt.Errorf("sast: %w", err)
				return
			}
			ts.eng, ts.own = eng, true
		}
		for _, g := range treesitter.Languages() {
			plan := &queryPlan{}
			var parts []string
			for i := range a.rules {
				r := &a.rules[i]
				if r.Query == "" || !r.appliesTo(grammarLang(g)) {
					continue
				}
				info, err := ts.eng.Compile(ctx, g, r.Query)
				if err != nil {
					ts.err = fmt.Errorf("sast: rule %s: %s query: %w", r.Meta.ID, g, err)
					return
				}
				parts = append(parts, r.Query)
				for range info.Patterns {
					plan.rule = append(plan.rule, i)
				}
			}
			if len(parts) == 0 {
				continue
			}
			plan.query = strings.Join(parts, "\n")
			info, err := ts.eng.Compile(ctx, g, plan.query)
			if err == nil && info.Patterns != len(plan.rule) {
				err = fmt.Errorf("%d patterns, want %d", info.Patterns, len(plan.rule))
			}
			if err != nil {
				ts.err = fmt.Errorf("sast: %s rules combined: %w", g, err)
				return
			}
			ts.plans[g] = plan
		}
	})
	return ts.err
}

// Close releases the tree-sitter engine the analyzer created (not one
// passed in Options.TreeSitter).
func (a *Analyzer) Close(ctx context.Context) error {
	if a.ts.own && a.ts.eng != nil {
		return a.ts.eng.Close(ctx)
	}
	return nil
}

// tsSpan is one query-rule match: a byte span of the source.
type tsSpan struct {
	start, end                 int
	line, col, endLine, endCol int
}

// runQueries runs the plan of the file's grammar and returns the matches
// per rule index, sorted and one per start byte. ok is false when no rule
// ran on the parser (no plan, or the parse failed: err says why).
func (a *Analyzer) runQueries(ctx context.Context, path, lang, src string) (map[int][]tsSpan, bool, error) {
	if err := a.prepare(ctx); err != nil {
		return nil, false, err
	}
	g := grammar(lang, path)
	plan := a.ts.plans[g]
	if plan == nil {
		return nil, false, nil
	}
	res, err := a.ts.eng.Run(ctx, g, []byte(src), plan.query)
	if err != nil {
		return nil, false, err
	}
	byRule := map[int][]tsSpan{}
	seen := map[[2]int]bool{}
	for _, m := range res.Matches {
		if m.Pattern >= len(plan.rule) || len(m.Captures) == 0 {
			continue
		}
		ri := plan.rule[m.Pattern]
		c, ok := m.Capture("match")
		if !ok {
			c = m.Captures[0]
			for _, o := range m.Captures[1:] {
				if o.StartByte < c.StartByte {
					c.StartByte, c.StartLine, c.StartCol = o.StartByte, o.StartLine, o.StartCol
				}
				if o.EndByte > c.EndByte {
					c.EndByte, c.EndLine, c.EndCol = o.EndByte, o.EndLine, o.EndCol
				}
			}
		}
		if seen[[2]int{ri, c.StartByte}] {
			continue
		}
		seen[[2]int{ri, c.StartByte}] = true
		byRule[ri] = append(byRule[ri], tsSpan{c.StartByte, c.EndByte, c.StartLine, c.StartCol, c.EndLine, c.EndCol})
	}
	for _, spans := range byRule {
		sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	}
	return byRule, true, nil
}

// tsFinding builds the finding of a query-rule match. The snippet and the
// fingerprint come from the tokens of the matched text, as for the token
// engine, so string literals never show.
func (a *Analyzer) tsFinding(r *Rule, path, lang, src string, m tsSpan, lines []string, dedup rules.Dedup) report.Finding {
	stable, snippet := renderTokens(Tokenize(lang, src[m.start:m.end]))
	fd := r.Meta.Finding(Name+"/"+EngineTreeSitter, path, m.line, m.col, r.Message, snippet, dedup.Key(r.Meta.ID, stable))
	fd.Location.EndLine, fd.Location.EndColumn = m.endLine, m.endCol
	if m.line-1 < len(lines) && strings.Contains(lines[m.line-1], "shipgate:ignore") {
		fd.Suppressed = &report.Suppression{Kind: "inline", Reason: "shipgate:ignore"}
	}
	return fd
}

// renderTokens returns the stable text of toks (for the fingerprint) and
// the snippet, in which every string literal is elided.
func renderTokens(toks []Token) (stable, snippet string) {
	var text, sn []string
	for _, t := range toks {
		text = append(text, t.Text)
		switch t.Kind {
		case String, FString:
			sn = append(sn, `"…"`)
		default:
			sn = append(sn, t.Text)
		}
	}
	snippet = strings.Join(sn, " ")
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	return strings.Join(text, " "), snippet
}

// nearLines reports whether an identifier or string token on lines
// [first, last] matches r.near.
func (f *file) nearLines(r *Rule, first, last int) bool {
	i := sort.Search(len(f.toks), func(i int) bool { return f.toks[i].EndLine >= first })
	for ; i < len(f.toks) && f.toks[i].Line <= last; i++ {
		t := f.toks[i]
		if (t.Kind == Ident || t.Kind == String) && r.near.MatchString(t.Value()) {
			return true
		}
	}
	return false
}

// interrupted tells a cancelled scan from a parser failure.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled)
}
