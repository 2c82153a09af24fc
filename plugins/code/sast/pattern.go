package sast

import (
	"fmt"
	"regexp"
	"strings"
)

// elemKind is the kind of one pattern element.
type elemKind uint8

const (
	elLit      elemKind = iota + 1 // an identifier or punctuation, by text
	elIdentVar                     // $NAME: one identifier, bound by name
	elAny                          // $_: any one token
	elStr                          // $STR: any plain string literal
	elFStr                         // $FSTR: any interpolated string
	elConst                        // $LIT: any string or number literal
	elStrEq                        // "text": a string literal with this content
	elStrRe                        // "~re": a string literal whose content matches re
	elEllipsis                     // ...: any balanced sequence, possibly empty
	elExpr                         // $EXPR: a non-empty balanced sequence that is not only literals
)

// elem is one compiled pattern element.
type elem struct {
	kind elemKind
	text string
	re   *regexp.Regexp
}

// pattern is a compiled token pattern.
type pattern struct {
	src   string
	elems []elem
}

// literals are identifiers that are constants, not variables, for $EXPR.
var literals = map[string]bool{
	"True": true, "False": true, "None": true, "true": true, "false": true,
	"null": true, "undefined": true,
}

// compilePattern parses the pattern syntax documented in docs/rules.md.
// Patterns are tokenized with the JavaScript tokenizer, so spaces between
// tokens are optional.
func compilePattern(src string) (pattern, error) {
	p := pattern{src: src}
	for _, t := range Tokenize(LangJavaScript, src) {
		switch {
		case t.Kind == String:
			v := t.Value()
			if strings.HasPrefix(v, "~") {
				re, err := regexp.Compile(v[1:])
				if err != nil {
					return p, fmt.Errorf("pattern %q: string regexp: %w", src, err)
				}
				p.elems = append(p.elems, elem{kind: elStrRe, text: v, re: re})
			} else {
				p.elems = append(p.elems, elem{kind: elStrEq, text: v})
			}
		case t.Kind == FString || t.Kind == Regex:
			return p, fmt.Errorf("pattern %q: unsupported token %s", src, t.Text)
		case t.Text == "...":
			p.elems = append(p.elems, elem{kind: elEllipsis})
		case t.Kind == Ident && strings.HasPrefix(t.Text, "$$"):
			p.elems = append(p.elems, elem{kind: elLit, text: t.Text[1:]}) // $$name: a literal $name
		case t.Kind == Ident && strings.HasPrefix(t.Text, "$") && len(t.Text) > 1:
			switch t.Text {
			case "$_":
				p.elems = append(p.elems, elem{kind: elAny})
			case "$STR":
				p.elems = append(p.elems, elem{kind: elStr})
			case "$FSTR":
				p.elems = append(p.elems, elem{kind: elFStr})
			case "$LIT":
				p.elems = append(p.elems, elem{kind: elConst})
			case "$EXPR":
				p.elems = append(p.elems, elem{kind: elExpr})
			default:
				p.elems = append(p.elems, elem{kind: elIdentVar, text: t.Text})
			}
		default:
			p.elems = append(p.elems, elem{kind: elLit, text: t.Text})
		}
	}
	if len(p.elems) == 0 {
		return p, fmt.Errorf("pattern %q is empty", src)
	}
	if k := p.elems[0].kind; k == elEllipsis || k == elExpr {
		return p, fmt.Errorf("pattern %q: must not start with ... or $EXPR", src)
	}
	return p, nil
}

// file is a tokenized source file ready for matching.
type file struct {
	toks []Token
	// closer[i] is the index of the bracket closing toks[i] when toks[i]
	// opens one, -1 when it is unclosed; 0 otherwise.
	closer []int
	// byText indexes identifier and punctuation tokens by text.
	byText map[string][]int
}

func newFile(toks []Token) *file {
	f := &file{toks: toks, closer: make([]int, len(toks)), byText: map[string][]int{}}
	var stack []int
	for i, t := range toks {
		if t.Kind == Ident || t.Kind == Punct {
			f.byText[t.Text] = append(f.byText[t.Text], i)
		}
		if t.Kind != Punct {
			continue
		}
		switch t.Text {
		case "(", "[", "{":
			f.closer[i] = -1
			stack = append(stack, i)
		case ")", "]", "}":
			if n := len(stack); n > 0 && matches(toks[stack[n-1]].Text, t.Text) {
				f.closer[stack[n-1]] = i
				stack = stack[:n-1]
			}
		}
	}
	return f
}

func matches(open, close string) bool {
	return open == "(" && close == ")" || open == "[" && close == "]" || open == "{" && close == "}"
}

func isOpen(t Token) bool {
	return t.Kind == Punct && (t.Text == "(" || t.Text == "[" || t.Text == "{")
}

func isClose(t Token) bool {
	return t.Kind == Punct && (t.Text == ")" || t.Text == "]" || t.Text == "}")
}

// binding is one metavariable binding.
type binding struct{ name, value string }

// matcher matches one pattern at one position.
type matcher struct {
	f     *file
	p     []elem
	binds []binding
	steps int
}

// maxSteps bounds the work of one match attempt (ellipses backtrack).
const maxSteps = 20000

// matchAt returns the end (exclusive) of a match of p starting at token i,
// or -1.
func (f *file) matchAt(p pattern, i int) int {
	if i > 0 && p.elems[0].kind == elLit {
		if prev := f.toks[i-1]; prev.Kind == Punct && (prev.Text == "." || prev.Text == "?." || prev.Text == "->" || prev.Text == "::") {
			if t := f.toks[i]; t.Kind == Ident {
				return -1 // an anchored name does not match a member of something else
			}
		}
	}
	m := matcher{f: f, p: p.elems}
	return m.match(0, i)
}

// next returns the index after the balanced unit at k, or -1 when the unit
// ends the enclosing region (a closing bracket, a ';' or a statement break
// at depth 0) or is unbalanced.
func (m *matcher) next(k, start int) int {
	t := m.f.toks[k]
	if isClose(t) {
		return -1
	}
	if t.Kind == Punct && t.Text == ";" {
		return -1
	}
	if k > start && t.NL && t.Depth == 0 {
		return -1
	}
	if isOpen(t) {
		c := m.f.closer[k]
		if c <= 0 {
			return -1
		}
		return c + 1
	}
	return k + 1
}

func (m *matcher) match(pi, ti int) int {
	m.steps++
	if m.steps > maxSteps {
		return -1
	}
	if pi == len(m.p) {
		return ti
	}
	e := m.p[pi]
	toks := m.f.toks
	switch e.kind {
	case elEllipsis:
		for k := ti; ; {
			if end := m.match(pi+1, k); end >= 0 {
				return end
			}
			if k >= len(toks) {
				return -1
			}
			if k = m.next(k, ti); k < 0 {
				return -1
			}
		}
	case elExpr:
		last := pi == len(m.p)-1
		valid := false
		for k := ti; k < len(toks); {
			nk := m.next(k, ti)
			if nk < 0 {
				break
			}
			for j := k; j < nk; j++ {
				t := toks[j]
				if t.Kind == FString || t.Kind == Ident && !literals[t.Text] {
					valid = true
				}
			}
			k = nk
			if last {
				if valid && (k >= len(toks) || m.next(k, ti) < 0) {
					return k
				}
				continue
			}
			if valid {
				if end := m.match(pi+1, k); end >= 0 {
					return end
				}
			}
		}
		return -1
	}
	if ti >= len(toks) {
		return -1
	}
	t := toks[ti]
	ok := false
	switch e.kind {
	case elLit:
		ok = (t.Kind == Ident || t.Kind == Punct || t.Kind == Number) && t.Text == e.text
	case elAny:
		ok = !isClose(t)
	case elStr:
		ok = t.Kind == String
	case elFStr:
		ok = t.Kind == FString
	case elConst:
		ok = t.Kind == String || t.Kind == Number
	case elStrEq:
		ok = t.Kind == String && t.Value() == e.text
	case elStrRe:
		ok = t.Kind == String && e.re.MatchString(t.Value())
	case elIdentVar:
		if t.Kind != Ident {
			return -1
		}
		for _, b := range m.binds {
			if b.name == e.text {
				if b.value != t.Text {
					return -1
				}
				return m.match(pi+1, ti+1)
			}
		}
		n := len(m.binds)
		m.binds = append(m.binds, binding{e.text, t.Text})
		end := m.match(pi+1, ti+1)
		if end < 0 {
			m.binds = m.binds[:n]
		}
		return end
	}
	if !ok {
		return -1
	}
	return m.match(pi+1, ti+1)
}

// starts returns the candidate start positions of p in f: the positions of
// the rarest literal token at a fixed offset in p's prefix (before any
// ... or $EXPR), shifted back by that offset; every position when p has no
// such literal.
func (f *file) starts(p pattern) []int {
	best, bestOff := []int(nil), -1
	for off, e := range p.elems {
		if e.kind == elEllipsis || e.kind == elExpr {
			break
		}
		if e.kind != elLit {
			continue
		}
		pos := f.byText[e.text]
		if bestOff < 0 || len(pos) < len(best) {
			best, bestOff = pos, off
		}
	}
	if bestOff == 0 {
		return best
	}
	if bestOff > 0 {
		out := make([]int, 0, len(best))
		for _, i := range best {
			if i >= bestOff {
				out = append(out, i-bestOff)
			}
		}
		return out
	}
	all := make([]int, len(f.toks))
	for i := range all {
		all[i] = i
	}
	return all
}
