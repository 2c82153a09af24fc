package treesitter

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// QueryError is a query that tree-sitter (or the predicate check) refused.
type QueryError struct {
	// Kind is tree-sitter's error kind: syntax, node type, field, capture,
	// structure, language, or predicate.
	Kind string
	// Offset is the byte offset of the error in the query; Line and Column
	// are 1-based.
	Offset, Line, Column int
	// Detail is set for predicate errors.
	Detail string
}

// Error implements error.
func (e *QueryError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("query: %s error: %s", e.Kind, e.Detail)
	}
	return fmt.Sprintf("query: %s error at line %d column %d", e.Kind, e.Line, e.Column)
}

var queryErrorKinds = []string{"none", "syntax", "node type", "field", "capture", "structure", "language"}

func newQueryError(query string, typ, off uint32) *QueryError {
	kind := "unknown"
	if int(typ) < len(queryErrorKinds) {
		kind = queryErrorKinds[typ]
	}
	o := min(int(off), len(query))
	line := 1 + strings.Count(query[:o], "\n")
	col := o - strings.LastIndexByte(query[:o], '\n')
	return &QueryError{Kind: kind, Offset: o, Line: line, Column: col}
}

// predicate is one host-side predicate of a pattern.
type predicate struct {
	op      string // eq, match, any-of
	negate  bool
	capture int            // the first argument: a capture id
	other   int            // eq: a second capture id, or -1
	values  []string       // eq (string), any-of
	re      *regexp.Regexp // match
}

// queryInfo is the decoded sg_query_info buffer plus compiled predicates.
type queryInfo struct {
	patterns   int
	captures   []string
	predicates [][]predicate // by pattern
}

// Predicate step types of tree-sitter's TSQueryPredicateStepType.
const (
	stepDone    = 0
	stepCapture = 1
	stepString  = 2
)

// decodeInfo decodes the shim's query-info buffer (shim/sg.c).
func decodeInfo(w []uint32) (*queryInfo, error) {
	bad := errors.New("treesitter: corrupt query info")
	if len(w) < 4 {
		return nil, bad
	}
	np, nc, ns := int(w[1]), int(w[2]), int(w[3])
	w = w[4:]
	readStr := func() (string, bool) {
		if len(w) < 1 {
			return "", false
		}
		n := int(w[0])
		words := (n + 3) / 4
		if len(w) < 1+words {
			return "", false
		}
		b := make([]byte, 0, 4*words)
		for _, v := range w[1 : 1+words] {
			b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
		w = w[1+words:]
		return string(b[:n]), true
	}
	info := &queryInfo{patterns: np}
	for range nc {
		s, ok := readStr()
		if !ok {
			return nil, bad
		}
		info.captures = append(info.captures, s)
	}
	strs := make([]string, 0, ns)
	for range ns {
		s, ok := readStr()
		if !ok {
			return nil, bad
		}
		strs = append(strs, s)
	}
	for p := range np {
		if len(w) < 1 || len(w) < 1+2*int(w[0]) {
			return nil, bad
		}
		n := int(w[0])
		steps := w[1 : 1+2*n]
		w = w[1+2*n:]
		var preds []predicate
		for start := 0; start < n; {
			end := start
			for end < n && steps[2*end] != stepDone {
				end++
			}
			var args []step
			for i := start; i < end; i++ {
				typ, v := steps[2*i], int(steps[2*i+1])
				if typ == stepCapture && v >= nc || typ == stepString && v >= ns {
					return nil, bad
				}
				args = append(args, step{capture: typ == stepCapture, id: v})
			}
			pr, err := compilePredicate(args, strs, info.captures)
			if err != nil {
				return nil, &QueryError{Kind: "predicate", Detail: fmt.Sprintf("pattern %d: %v", p+1, err)}
			}
			preds = append(preds, pr)
			start = end + 1
		}
		info.predicates = append(info.predicates, preds)
	}
	return info, nil
}

type step struct {
	capture bool
	id      int
}

func compilePredicate(args []step, strs, captures []string) (predicate, error) {
	if len(args) == 0 || args[0].capture {
		return predicate{}, errors.New("empty predicate")
	}
	name := strs[args[0].id]
	args = args[1:]
	p := predicate{other: -1}
	switch name {
	case "eq?", "not-eq?", "match?", "not-match?", "any-of?", "not-any-of?":
	default:
		return p, fmt.Errorf("#%s is not supported (use #eq?, #not-eq?, #match?, #not-match?, #any-of?, #not-any-of?)", name)
	}
	p.negate = strings.HasPrefix(name, "not-")
	p.op = strings.TrimSuffix(strings.TrimPrefix(name, "not-"), "?")
	if len(args) < 2 || !args[0].capture {
		return p, fmt.Errorf("#%s wants a capture and at least one more argument", name)
	}
	p.capture = args[0].id
	rest := args[1:]
	switch p.op {
	case "eq":
		if len(rest) != 1 {
			return p, fmt.Errorf("#%s wants two arguments", name)
		}
		if rest[0].capture {
			p.other = rest[0].id
		} else {
			p.values = []string{strs[rest[0].id]}
		}
	case "match":
		if len(rest) != 1 || rest[0].capture {
			return p, fmt.Errorf("#%s wants a capture and a regular expression", name)
		}
		re, err := regexp.Compile(strs[rest[0].id])
		if err != nil {
			return p, fmt.Errorf("#%s @%s: %w", name, captures[p.capture], err)
		}
		p.re = re
	case "any-of":
		for _, a := range rest {
			if a.capture {
				return p, fmt.Errorf("#%s wants strings after the capture", name)
			}
			p.values = append(p.values, strs[a.id])
		}
	}
	return p, nil
}

// holds reports whether every predicate of m's pattern holds. A predicate
// on a capture holds when it holds for every node captured under that name
// in the match (none: it holds).
func (q *queryInfo) holds(m Match, src []byte) bool {
	if m.Pattern >= len(q.predicates) {
		return true
	}
	for _, p := range q.predicates[m.Pattern] {
		name := q.captures[p.capture]
		for _, c := range m.Captures {
			if c.Name != name {
				continue
			}
			text := c.Text(src)
			var ok bool
			switch p.op {
			case "eq":
				if p.other >= 0 {
					o, found := m.Capture(q.captures[p.other])
					ok = !found || bytes.Equal(text, o.Text(src))
				} else {
					ok = string(text) == p.values[0]
				}
			case "match":
				ok = p.re.Match(text)
			case "any-of":
				ok = slices.Contains(p.values, string(text))
			}
			if ok == p.negate {
				return false
			}
		}
	}
	return true
}
