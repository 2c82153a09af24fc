package sast

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the kind of a token.
type Kind uint8

// Token kinds.
const (
	// Ident is an identifier or keyword.
	Ident Kind = iota + 1
	// Number is a numeric literal.
	Number
	// String is a string (or character) literal without interpolation.
	String
	// FString is an interpolated string: a Python f-string or a
	// JavaScript template literal containing ${...}.
	FString
	// Regex is a JavaScript regular-expression literal.
	Regex
	// Punct is an operator or punctuation.
	Punct
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Ident:
		return "ident"
	case Number:
		return "number"
	case String:
		return "string"
	case FString:
		return "fstring"
	case Regex:
		return "regex"
	case Punct:
		return "punct"
	}
	return "?"
}

// Token is one lexical token. Comments are never tokens.
type Token struct {
	Kind Kind
	// Text is the token's source text (string tokens include their quotes
	// and prefixes).
	Text string
	// Line and Col are the 1-based position of the first byte; EndLine and
	// EndCol the 1-based position of the last byte (inclusive). Columns
	// count bytes.
	Line, Col, EndLine, EndCol int
	// NL is true when the token is the first of its line.
	NL bool
	// Depth is the bracket nesting depth ((, [ and {) around the token; an
	// opening and its closing bracket have the depth of their surroundings.
	Depth int
}

// Value returns a string token's content without prefix and quotes (escape
// sequences are left as written); other tokens' text unchanged.
func (t Token) Value() string {
	if t.Kind != String && t.Kind != FString {
		return t.Text
	}
	s := strings.TrimLeft(t.Text, "rRbBuUfF")
	for _, q := range []string{`"""`, `'''`, `"`, `'`, "`"} {
		if len(s) >= 2*len(q) && strings.HasPrefix(s, q) && strings.HasSuffix(s, q) {
			return s[len(q) : len(s)-len(q)]
		}
	}
	if len(s) > 0 && strings.ContainsRune(`"'`+"`", rune(s[0])) {
		return s[1:] // unterminated
	}
	return s
}

// family selects a tokenizer's rules.
type family uint8

const (
	famPython family = iota + 1
	famJS
	famJava
)

// puncts are the multi-character operators, longest first.
var puncts = []string{
	">>>=", "===", "!==", "**=", "<<=", ">>=", "...", "//=", "?.(",
	"==", "!=", "<=", ">=", "=>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
	"&&", "||", "??", "?.", "**", "::", "->", ":=", "++", "--", "<<", ">>", "//",
}

// lexer tokenizes one source file.
type lexer struct {
	src       string
	fam       family
	pos       int
	line, col int // of pos
	toks      []Token
	depth     int
	nl        bool
}

// Tokenize splits src, a file of the given language (python, javascript,
// typescript or java), into tokens, dropping comments and white space. It
// never fails: unterminated strings and comments end at the end of the
// line or file, unknown bytes become one-byte punctuation.
func Tokenize(lang, src string) []Token {
	fam := famJS
	switch lang {
	case LangPython:
		fam = famPython
	case LangJava:
		fam = famJava
	}
	lx := &lexer{src: src, fam: fam, line: 1, col: 1, nl: true}
	lx.run()
	return lx.toks
}

// advance moves pos forward by n bytes, keeping line and col.
func (lx *lexer) advance(n int) {
	end := lx.pos + n
	if end > len(lx.src) {
		end = len(lx.src)
	}
	for lx.pos < end {
		if lx.src[lx.pos] == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
		lx.pos++
	}
}

// emit records the token spanning src[start:lx.pos] that began at line:col.
func (lx *lexer) emit(k Kind, start, line, col int) {
	if lx.pos <= start {
		return
	}
	text := lx.src[start:lx.pos]
	if k == Punct {
		switch text {
		case ")", "]", "}":
			if lx.depth > 0 {
				lx.depth--
			}
		}
	}
	// End position: the last byte.
	el, ec := line, col+len(text)-1
	if n := strings.Count(text, "\n"); n > 0 {
		el = line + n
		ec = len(text) - 1 - strings.LastIndexByte(text, '\n')
		if ec < 1 {
			ec = 1
		}
	}
	lx.toks = append(lx.toks, Token{Kind: k, Text: text, Line: line, Col: col, EndLine: el, EndCol: ec, NL: lx.nl, Depth: lx.depth})
	lx.nl = false
	if k == Punct {
		switch text {
		case "(", "[", "{":
			lx.depth++
		}
	}
}

func isIdentStart(r rune, fam family) bool {
	return r == '_' || unicode.IsLetter(r) || (r == '$' && fam != famPython) || r >= utf8.RuneSelf
}

func isIdentPart(r rune, fam family) bool {
	return isIdentStart(r, fam) || unicode.IsDigit(r)
}

func (lx *lexer) run() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		start, line, col := lx.pos, lx.line, lx.col
		switch {
		case c == '\n':
			lx.nl = true
			lx.advance(1)
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			lx.advance(1)
		case c == '\\' && lx.fam == famPython && lx.pos+1 < len(lx.src) && (lx.src[lx.pos+1] == '\n' || lx.src[lx.pos+1] == '\r'):
			lx.advance(2) // explicit line joining
		case c == '#' && lx.fam == famPython:
			lx.skipLine()
		case c == '/' && lx.fam != famPython && lx.peek(1) == '/':
			lx.skipLine()
		case c == '/' && lx.fam != famPython && lx.peek(1) == '*':
			lx.skipBlockComment()
		case c == '#' && lx.fam == famJS && lx.pos == 0 && lx.peek(1) == '!':
			lx.skipLine() // shebang
		case c >= '0' && c <= '9' || c == '.' && lx.peek(1) >= '0' && lx.peek(1) <= '9':
			lx.number()
			lx.emit(Number, start, line, col)
		case c == '"' || c == '\'':
			k := lx.quoted()
			lx.emit(k, start, line, col)
		case c == '`' && lx.fam == famJS:
			k := lx.template()
			lx.emit(k, start, line, col)
		case c == '/' && lx.fam == famJS && lx.regexAllowed():
			lx.regex()
			lx.emit(Regex, start, line, col)
		default:
			r, size := utf8.DecodeRuneInString(lx.src[lx.pos:])
			if isIdentStart(r, lx.fam) {
				if lx.fam == famPython {
					if k, ok := lx.pyPrefixedString(); ok {
						lx.emit(k, start, line, col)
						continue
					}
				}
				lx.advance(size)
				for lx.pos < len(lx.src) {
					r, size = utf8.DecodeRuneInString(lx.src[lx.pos:])
					if !isIdentPart(r, lx.fam) {
						break
					}
					lx.advance(size)
				}
				lx.emit(Ident, start, line, col)
				continue
			}
			n := 1
			for _, p := range puncts {
				if strings.HasPrefix(lx.src[lx.pos:], p) {
					n = len(p)
					if p == "?.(" {
						n = 2
					}
					break
				}
			}
			if c >= utf8.RuneSelf {
				n = size
			}
			lx.advance(n)
			lx.emit(Punct, start, line, col)
		}
	}
}

func (lx *lexer) peek(off int) byte {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

func (lx *lexer) skipLine() {
	i := strings.IndexByte(lx.src[lx.pos:], '\n')
	if i < 0 {
		i = len(lx.src) - lx.pos
	}
	lx.advance(i)
}

func (lx *lexer) skipBlockComment() {
	i := strings.Index(lx.src[lx.pos+2:], "*/")
	if i < 0 {
		lx.advance(len(lx.src) - lx.pos)
		return
	}
	lx.advance(i + 4)
}

func (lx *lexer) number() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' {
			if c == '.' && lx.peek(1) == '.' {
				return // range or spread
			}
			lx.advance(1)
			if (c == 'e' || c == 'E') && (lx.peek(0) == '+' || lx.peek(0) == '-') {
				lx.advance(1)
			}
			continue
		}
		return
	}
}

// quoted scans a '...' or "..." literal (and Java text blocks / Python
// triple quotes) starting at pos. Single-line literals end at an unescaped
// newline (error recovery: a stray apostrophe damages one line only).
func (lx *lexer) quoted() Kind {
	q := lx.src[lx.pos]
	triple := lx.peek(1) == q && lx.peek(2) == q && (lx.fam == famPython || lx.fam == famJava && q == '"')
	if triple {
		lx.advance(3)
		lx.scanTriple(q, false)
		return String
	}
	lx.advance(1)
	lx.scanSingle(q, false)
	return String
}

// scanSingle scans to the closing quote q on the same line. With fstr set,
// {...} replacement fields may contain nested strings.
func (lx *lexer) scanSingle(q byte, fstr bool) {
	depth := 0
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\\':
			lx.advance(2)
			continue
		case c == '\n':
			return // unterminated
		case fstr && c == '{':
			if depth == 0 && lx.peek(1) == '{' {
				lx.advance(2)
				continue
			}
			depth++
		case fstr && c == '}' && depth > 0:
			depth--
		case fstr && depth > 0 && (c == '"' || c == '\''):
			lx.advance(1)
			lx.scanSingle(c, false)
			continue
		case c == q:
			lx.advance(1)
			return
		}
		lx.advance(1)
	}
}

// scanTriple scans to the closing triple quote.
func (lx *lexer) scanTriple(q byte, fstr bool) {
	close := string([]byte{q, q, q})
	depth := 0
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\\':
			lx.advance(2)
			continue
		case fstr && c == '{':
			if depth == 0 && lx.peek(1) == '{' {
				lx.advance(2)
				continue
			}
			depth++
		case fstr && c == '}' && depth > 0:
			depth--
		case fstr && depth > 0 && (c == '"' || c == '\'') && !strings.HasPrefix(lx.src[lx.pos:], close):
			lx.advance(1)
			lx.scanSingle(c, false)
			continue
		case strings.HasPrefix(lx.src[lx.pos:], close):
			lx.advance(3)
			return
		}
		lx.advance(1)
	}
}

// pyPrefixedString scans a Python string with a prefix (r, b, u, f and
// their combinations) if one starts at pos.
func (lx *lexer) pyPrefixedString() (Kind, bool) {
	i := lx.pos
	f := false
	for n := 0; n < 2 && i < len(lx.src); n++ {
		switch lx.src[i] {
		case 'f', 'F':
			f = true
			i++
			continue
		case 'r', 'R', 'b', 'B', 'u', 'U':
			i++
			continue
		}
		break
	}
	if i == lx.pos || i >= len(lx.src) || (lx.src[i] != '"' && lx.src[i] != '\'') {
		return 0, false
	}
	lx.advance(i - lx.pos)
	q := lx.src[lx.pos]
	if lx.peek(1) == q && lx.peek(2) == q {
		lx.advance(3)
		lx.scanTriple(q, f)
	} else {
		lx.advance(1)
		lx.scanSingle(q, f)
	}
	if f {
		return FString, true
	}
	return String, true
}

// template scans a JavaScript template literal, with nested ${...}
// expressions (which may contain strings and templates).
func (lx *lexer) template() Kind {
	lx.advance(1)
	interp := false
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\\':
			lx.advance(2)
		case c == '`':
			lx.advance(1)
			if interp {
				return FString
			}
			return String
		case c == '$' && lx.peek(1) == '{':
			interp = true
			lx.advance(2)
			lx.skipExpr()
		default:
			lx.advance(1)
		}
	}
	if interp {
		return FString
	}
	return String
}

// skipExpr skips a ${...} expression body up to and including its closing
// brace.
func (lx *lexer) skipExpr() {
	depth := 1
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				lx.advance(1)
				return
			}
		case c == '"' || c == '\'':
			lx.advance(1)
			lx.scanSingle(c, false)
			continue
		case c == '`':
			lx.template()
			continue
		case c == '/' && lx.peek(1) == '/':
			lx.skipLine()
			continue
		case c == '/' && lx.peek(1) == '*':
			lx.skipBlockComment()
			continue
		}
		lx.advance(1)
	}
}

// regexAllowed reports whether a '/' at pos starts a regular-expression
// literal: at the start, or after an operator or a keyword that precedes
// an expression.
func (lx *lexer) regexAllowed() bool {
	if len(lx.toks) == 0 {
		return true
	}
	prev := lx.toks[len(lx.toks)-1]
	switch prev.Kind {
	case Number, String, FString, Regex:
		return false
	case Ident:
		switch prev.Text {
		case "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await":
			return true
		}
		return false
	case Punct:
		switch prev.Text {
		case ")", "]", "}", "++", "--":
			return false
		}
	}
	return true
}

// regex scans a regular-expression literal with its flags; it ends at the
// end of the line if unterminated.
func (lx *lexer) regex() {
	lx.advance(1)
	class := false
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\\':
			lx.advance(2)
			continue
		case c == '\n':
			return
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			lx.advance(1)
			for lx.pos < len(lx.src) {
				c := lx.src[lx.pos]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
					break
				}
				lx.advance(1)
			}
			return
		}
		lx.advance(1)
	}
}
