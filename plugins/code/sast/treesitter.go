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
	// parts are the queries of the plan's rules, idx their indices in
	// Analyzer.rules and counts their pattern counts: the pieces of the
	// narrower plans.
	parts       []string
	idx, counts []int

	mu sync.Mutex
	// subsets are the plans of the subsets of the rules that the keyword
	// prefilter left, by subsetKey (at most maxSubsetPlans).
	subsets map[string]*queryPlan
}

// maxSubsetPlans bounds the narrowed plans kept per grammar: each is a
// query compiled in every engine instance, which keeps at most 64; past
// the bound a file runs the full plan and the matches of the rules the
// prefilter dropped are discarded.
const maxSubsetPlans = 8

// narrow returns the plan of the rules of p that active allows (all of
// them when active is nil): p itself when none was dropped, nil when none
// is left (the file need not be parsed).
func (p *queryPlan) narrow(active []bool) *queryPlan {
	if active == nil {
		return p
	}
	key := make([]byte, len(p.idx))
	n := 0
	for k, ri := range p.idx {
		key[k] = '0'
		if active[ri] {
			key[k] = '1'
			n++
		}
	}
	switch n {
	case 0:
		return nil
	case len(p.idx):
		return p
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if sp := p.subsets[string(key)]; sp != nil {
		return sp
	}
	if len(p.subsets) >= maxSubsetPlans {
		return p
	}
	sp := &queryPlan{}
	var parts []string
	for k, ri := range p.idx {
		if key[k] == '1' {
			parts = append(parts, p.parts[k])
			for range p.counts[k] {
				sp.rule = append(sp.rule, ri)
			}
		}
	}
	sp.query = strings.Join(parts, "\n")
	if p.subsets == nil {
		p.subsets = map[string]*queryPlan{}
	}
	p.subsets[string(key)] = sp
	return sp
}

// tsState is the analyzer's tree-sitter engine, created on first need, and
// each grammar's plan, compiled on the first file of that grammar (query
// compilation is a large part of tree-sitter's fixed cost: a scan that
// meets only Python never compiles the Java queries).
type tsState struct {
	once sync.Once
	eng  *treesitter.Engine
	own  bool
	err  error
	// cacheDir is the compilation cache of an engine created here.
	cacheDir string

	mu    sync.Mutex
	plans map[string]*planState

	// checked guards the one-time check of the caller's own queries.
	checked  sync.Once
	checkErr error
}

// planState is one grammar's plan, built once.
type planState struct {
	once sync.Once
	plan *queryPlan
	err  error
}

// engine creates the engine (unless one was given) on first need.
func (a *Analyzer) engine(ctx context.Context) error {
	ts := a.ts
	ts.once.Do(func() {
		if ts.eng != nil {
			return
		}
		eng, err := treesitter.New(context.WithoutCancel(ctx), treesitter.Config{MaxSourceSize: int(a.maxSize), CacheDir: ts.cacheDir})
		if err != nil {
			ts.err = fmt.Errorf("sast: %w", err)
			return
		}
		ts.eng, ts.own = eng, true
	})
	return ts.err
}

// plan returns the plan of grammar g (nil when no query rule applies to
// it), compiling its combined query on first use. When tree-sitter refuses
// the combined query, each rule's query is compiled alone to name the rule
// at fault.
func (a *Analyzer) plan(ctx context.Context, g string) (*queryPlan, error) {
	ts := a.ts
	ts.mu.Lock()
	if ts.plans == nil {
		ts.plans = map[string]*planState{}
	}
	st := ts.plans[g]
	if st == nil {
		st = &planState{}
		ts.plans[g] = st
	}
	ts.mu.Unlock()
	st.once.Do(func() {
		var parts []string
		var idx []int
		for i := range a.rules {
			r := &a.rules[i]
			if r.Query != "" && r.appliesTo(grammarLang(g)) {
				parts = append(parts, r.Query)
				idx = append(idx, i)
			}
		}
		if len(parts) == 0 {
			return
		}
		if st.err = a.engine(ctx); st.err != nil {
			return
		}
		plan := &queryPlan{query: strings.Join(parts, "\n"), parts: parts, idx: idx}
		info, err := ts.eng.Compile(ctx, g, plan.query)
		if err == nil {
			// Pattern indices follow the order of the parts. Each rule's
			// patterns are counted from its text; should that count
			// disagree with tree-sitter's, each query is compiled alone.
			counts := make([]int, len(parts))
			total := 0
			for k, q := range parts {
				counts[k] = countPatterns(q)
				total += counts[k]
			}
			if total != info.Patterns {
				for k, q := range parts {
					qi, qerr := ts.eng.Compile(ctx, g, q)
					if qerr != nil {
						err = qerr
						break
					}
					counts[k] = qi.Patterns
				}
			}
			plan.counts = counts
			for k, n := range counts {
				for range n {
					plan.rule = append(plan.rule, idx[k])
				}
			}
			if err == nil && info.Patterns != len(plan.rule) {
				err = fmt.Errorf("%d patterns, want %d", info.Patterns, len(plan.rule))
			}
		}
		if err != nil {
			for k, q := range parts {
				if _, qerr := ts.eng.Compile(ctx, g, q); qerr != nil {
					st.err = ruleError{fmt.Errorf("sast: rule %s: %s query: %w", a.rules[idx[k]].Meta.ID, g, qerr)}
					return
				}
			}
			st.err = ruleError{fmt.Errorf("sast: %s rules combined: %w", g, err)}
			return
		}
		st.plan = plan
	})
	return st.plan, st.err
}

// ruleError is a query tree-sitter refuses: an error of the rules, not of
// the file, so the analyzer fails with it.
type ruleError struct{ error }

func (e ruleError) Unwrap() error { return e.error }

// checkCustom compiles the queries of the caller's rules (--rules) for
// every grammar they apply to, once, so that a broken custom rule is an
// error naming it whatever files the scan meets.
func (a *Analyzer) checkCustom(ctx context.Context) error {
	ts := a.ts
	ts.checked.Do(func() {
		for _, i := range a.custom {
			r := &a.rules[i]
			if r.Query == "" {
				continue
			}
			if ts.checkErr = a.engine(ctx); ts.checkErr != nil {
				return
			}
			for _, g := range treesitter.Languages() {
				if !r.appliesTo(grammarLang(g)) {
					continue
				}
				if _, err := ts.eng.Compile(ctx, g, r.Query); err != nil {
					ts.checkErr = ruleError{fmt.Errorf("sast: rule %s: %s query: %w", r.Meta.ID, g, err)}
					return
				}
			}
		}
	})
	return ts.checkErr
}

// countPatterns counts the top-level patterns of a tree-sitter query: the
// parenthesised or bracketed groups, wildcards and anonymous-node strings at
// nesting depth zero (tree-sitter counts a top-level predicate group as a
// pattern of its own too). Comments (";" to the end of the line) and
// strings are skipped.
func countPatterns(q string) int {
	n, depth := 0, 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case ';':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case '"':
			if depth == 0 {
				n++
			}
			for i++; i < len(q) && q[i] != '"'; i++ {
				if q[i] == '\\' {
					i++
				}
			}
		case '(', '[':
			if depth == 0 {
				n++
			}
			depth++
		case ')', ']':
			depth--
		case '@':
			for i+1 < len(q) && (isIdent(q[i+1]) || q[i+1] == '.') {
				i++ // a capture name
			}
		case '_':
			standalone := (i == 0 || !isIdent(q[i-1])) && (i+1 == len(q) || !isIdent(q[i+1]))
			if depth == 0 && standalone {
				n++
			}
		}
	}
	return n
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
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

// runQueries runs the plan of the file's grammar, narrowed to the rules
// active allows (nil: all), and returns the matches per rule index, sorted
// and one per start byte; a rule with an @unless match has none. ok is
// false when no rule ran on the parser (no plan, no active query rule, or
// the parse failed: err says why).
func (a *Analyzer) runQueries(ctx context.Context, path, lang, src string, active []bool) (map[int][]tsSpan, bool, error) {
	if err := a.checkCustom(ctx); err != nil {
		return nil, false, err
	}
	g := grammar(lang, path)
	plan, err := a.plan(ctx, g)
	if err != nil {
		return nil, false, err
	}
	if plan = plan.narrow(active); plan == nil {
		return nil, false, nil
	}
	res, err := a.ts.eng.Run(ctx, g, []byte(src), plan.query)
	if err != nil {
		return nil, false, err
	}
	byRule := map[int][]tsSpan{}
	unless := map[int]bool{}
	seen := map[[2]int]bool{}
	for _, m := range res.Matches {
		if m.Pattern >= len(plan.rule) || len(m.Captures) == 0 {
			continue
		}
		ri := plan.rule[m.Pattern]
		if active != nil && !active[ri] {
			continue
		}
		if _, ok := m.Capture("unless"); ok {
			unless[ri] = true
			continue
		}
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
	for ri := range unless {
		delete(byRule, ri)
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
