// Package shell parses shell scripts (RUN instructions, CI `run:` and
// `script:` entries) with mvdan.cc/sh/v3 and answers the questions the
// code-stage rules ask: which commands run, with which arguments, and whether
// a downloaded script is piped into a shell.
//
// Working on the syntax tree rather than on text means that "curl | sh"
// inside a quoted string, a comment or an echo never counts.
package shell

import (
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Call is one simple command.
type Call struct {
	// Name is the command name with any directory removed ("" when not a
	// literal, e.g. "$CMD").
	Name string
	// Args are the literal arguments after the name; non-literal words are
	// given as "" so that indices stay aligned.
	Args []string
	// Line and Col are 1-based positions in the script.
	Line, Col int
}

// Has reports whether one of the arguments equals one of opts.
func (c Call) Has(opts ...string) bool {
	for _, a := range c.Args {
		for _, o := range opts {
			if a == o {
				return true
			}
		}
	}
	return false
}

// Script is a parsed script.
type Script struct {
	file *syntax.File
}

// Parse parses src as a Bash script (a superset of POSIX sh that also
// accepts the common Bashisms). GitHub Actions `${{ }}` expressions must be
// masked by the caller (see MaskExpressions).
func Parse(src string) (*Script, error) {
	p := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(false))
	f, err := p.Parse(strings.NewReader(src), "")
	if err != nil {
		return nil, fmt.Errorf("parse shell: %w", err)
	}
	return &Script{file: f}, nil
}

// Calls returns every simple command in the script, in source order,
// including commands inside pipelines, subshells, command substitutions and
// `sudo`/`env` prefixes (which are reported as their own call as well).
func (s *Script) Calls() []Call {
	var out []Call
	syntax.Walk(s.file, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 {
			return true
		}
		out = append(out, callOf(ce))
		return true
	})
	return out
}

func callOf(ce *syntax.CallExpr) Call {
	c := Call{Line: int(ce.Args[0].Pos().Line()), Col: int(ce.Args[0].Pos().Col())}
	c.Name = path.Base(ce.Args[0].Lit())
	if ce.Args[0].Lit() == "" {
		c.Name = ""
	}
	for _, w := range ce.Args[1:] {
		c.Args = append(c.Args, literal(w))
	}
	return c
}

// literal returns the word's value when it is made of literals and quoted
// literals only, else "".
func literal(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return ""
				}
				b.WriteString(l.Value)
			}
		default:
			return ""
		}
	}
	return b.String()
}

// shells are interpreters that execute a script read from stdin.
var shells = map[string]bool{
	"sh": true, "bash": true, "zsh": true, "dash": true, "ash": true, "ksh": true,
	"fish": true, "python": true, "python3": true, "perl": true, "ruby": true, "node": true,
}

// downloaders fetch remote content.
var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "iwr": true, "Invoke-WebRequest": true}

// unwrap returns the command a wrapper such as sudo or env runs.
func unwrap(c Call) Call {
	for (c.Name == "sudo" || c.Name == "env" || c.Name == "exec" || c.Name == "command" || c.Name == "time") && len(c.Args) > 0 {
		i := 0
		for i < len(c.Args) && (strings.HasPrefix(c.Args[i], "-") || strings.Contains(c.Args[i], "=")) {
			i++
		}
		if i >= len(c.Args) || c.Args[i] == "" {
			return c
		}
		c = Call{Name: path.Base(c.Args[i]), Args: c.Args[i+1:], Line: c.Line, Col: c.Col}
	}
	return c
}

// Pipe is a download piped into an interpreter.
type Pipe struct {
	// Downloader and Shell are the two command names, e.g. curl and sh.
	Downloader, Shell string
	// Line and Col are the 1-based position of the downloader.
	Line, Col int
}

// DownloadPipes returns every place where the output of curl/wget reaches an
// interpreter: `curl URL | sh`, `sh -c "$(curl URL)"`, `bash <(curl URL)`.
func (s *Script) DownloadPipes() []Pipe {
	var out []Pipe
	syntax.Walk(s.file, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.BinaryCmd:
			if n.Op != syntax.Pipe && n.Op != syntax.PipeAll {
				return true
			}
			// The right-most command of a pipeline is n.Y; the left side may be
			// a nested pipeline (curl | tee | sh).
			sh, ok := stmtCall(n.Y)
			if !ok || !shells[unwrap(sh).Name] {
				return true
			}
			if dl, ok := findDownloader(n.X); ok {
				out = append(out, Pipe{Downloader: dl.Name, Shell: unwrap(sh).Name, Line: dl.Line, Col: dl.Col})
			}
		case *syntax.CallExpr:
			if len(n.Args) == 0 {
				return true
			}
			c := unwrap(callOf(n))
			if !shells[c.Name] {
				return true
			}
			// sh -c "$(curl ...)" or bash <(curl ...)
			for _, w := range n.Args[1:] {
				if dl, ok := findDownloader(w); ok {
					out = append(out, Pipe{Downloader: dl.Name, Shell: c.Name, Line: dl.Line, Col: dl.Col})
					break
				}
			}
		}
		return true
	})
	return out
}

func stmtCall(st *syntax.Stmt) (Call, bool) {
	if st == nil {
		return Call{}, false
	}
	ce, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(ce.Args) == 0 {
		return Call{}, false
	}
	return callOf(ce), true
}

// findDownloader looks for a curl/wget call anywhere under n.
func findDownloader(n syntax.Node) (Call, bool) {
	var found Call
	ok := false
	syntax.Walk(n, func(m syntax.Node) bool {
		if ok {
			return false
		}
		if ce, isCall := m.(*syntax.CallExpr); isCall && len(ce.Args) > 0 {
			c := unwrap(callOf(ce))
			if downloaders[c.Name] {
				found, ok = c, true
				return false
			}
		}
		return true
	})
	return found, ok
}

// MaskExpressions replaces every GitHub Actions `${{ ... }}` expression and
// GitLab `$[[ ... ]]` interpolation by a same-length run of underscores so
// that the script parses as shell and positions are preserved.
func MaskExpressions(src string) string {
	b := []byte(src)
	for _, delim := range [][2]string{{"${{", "}}"}, {"$[[", "]]"}} {
		i := 0
		for {
			j := strings.Index(string(b[i:]), delim[0])
			if j < 0 {
				break
			}
			start := i + j
			k := strings.Index(string(b[start:]), delim[1])
			if k < 0 {
				break
			}
			end := start + k + len(delim[1])
			for p := start; p < end; p++ {
				if b[p] != '\n' {
					b[p] = '_'
				}
			}
			i = end
		}
	}
	return string(b)
}
