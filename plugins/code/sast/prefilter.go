package sast

import (
	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// prefilter is the keyword prefilter of one rule language: one
// Aho-Corasick automaton over the keywords of the language's rules, so a
// file is searched once whatever the number of rules (semgrep's literal
// prefilter, on the raw bytes).
type prefilter struct {
	trie *ahocorasick.Trie
	// rules[k] are the indices (in Analyzer.rules) of the rules keyword k
	// of the automaton belongs to.
	rules [][]int
	// gated counts the language's rules that have keywords.
	gated int
}

// newPrefilters builds the prefilter of each language that has a rule with
// keywords.
func newPrefilters(rs []Rule) map[string]*prefilter {
	out := map[string]*prefilter{}
	for _, lang := range []string{LangPython, LangJavaScript, LangTypeScript, LangJava} {
		p := &prefilter{}
		kwIndex := map[string]int{}
		var kws []string
		for i := range rs {
			r := &rs[i]
			if len(r.Keywords) == 0 || !r.appliesTo(lang) {
				continue
			}
			p.gated++
			for _, k := range r.Keywords {
				n, ok := kwIndex[k]
				if !ok {
					n = len(kws)
					kwIndex[k] = n
					kws = append(kws, k)
					p.rules = append(p.rules, nil)
				}
				p.rules[n] = append(p.rules[n], i)
			}
		}
		if p.gated == 0 {
			continue
		}
		p.trie = ahocorasick.NewTrieBuilder().AddStrings(kws).Build()
		out[lang] = p
	}
	return out
}

// active reports, per index of a.rules, whether the rule may match src: a
// rule with keywords is active only when one of them occurs in src. It
// returns nil (every rule active) when the prefilter is off or lang has no
// rule with keywords.
func (a *Analyzer) active(lang string, src []byte) []bool {
	p := a.prefilters[lang]
	if p == nil || a.noPrefilter {
		return nil
	}
	act := make([]bool, len(a.rules))
	for i := range a.rules {
		act[i] = len(a.rules[i].Keywords) == 0
	}
	left := p.gated
	p.trie.Walk(src, func(_, _, kw int64) bool {
		for _, ri := range p.rules[kw] {
			if !act[ri] {
				act[ri] = true
				left--
			}
		}
		return left > 0
	})
	return act
}
