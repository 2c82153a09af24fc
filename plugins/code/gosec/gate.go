package gosec

import (
	"bytes"
	"go/ast"
	"strconv"
	"unicode/utf8"

	gosec "github.com/securego/gosec/v2"
)

// ruleImports maps each gosec rule that only matches code using one of a few
// packages to the import paths of those packages. In syntax mode a file is
// type-checked alone, against fake packages made from its own imports, so a
// rule that looks for a package's functions or types cannot match a file
// that does not import it: syntax mode neither builds nor runs such a rule
// for that file (rule construction and the visits of every node are most of
// gosec's own time). The sources are gosec v2.30.0's rules/*.go (their
// CallList entries, type names and function sinks). Rules in everyFile are
// not keyed to imports. A test fails when a rule gosec ships is in neither,
// so an upgrade cannot silently skip a new rule.
var ruleImports = map[string][]string{
	"G102": {"net", "crypto/tls"},
	"G103": {"unsafe"},
	"G106": {"golang.org/x/crypto/ssh"},
	"G107": {"net/http"},
	"G108": {"net/http/pprof"},
	"G109": {"strconv"},
	"G110": {"archive/tar", "archive/zip", "compress/bzip2", "compress/flate", "compress/gzip", "compress/lzw", "compress/zlib"},
	"G111": {"net/http"},
	"G112": {"net/http"},
	"G114": {"net/http"},
	"G117": {"encoding/json", "encoding/xml", "go.yaml.in/yaml/v3", "gopkg.in/yaml.v3", "gopkg.in/yaml.v2", "sigs.k8s.io/yaml",
		"github.com/pelletier/go-toml", "github.com/pelletier/go-toml/v2", "github.com/BurntSushi/toml"},
	"G125": {"net/url"},
	"G201": {"database/sql"},
	"G202": {"database/sql"},
	"G203": {"html/template"},
	"G204": {"os/exec", "syscall", "golang.org/x/sys/execabs"},
	"G301": {"os"},
	"G302": {"os"},
	"G303": {"os", "io/ioutil"},
	"G304": {"os", "io/ioutil"},
	"G305": {"archive/zip", "archive/tar"},
	"G306": {"os", "io/ioutil"},
	"G307": {"os"},
	"G401": {"crypto/md5", "crypto/sha1"},
	"G402": {"crypto/tls"},
	"G403": {"crypto/rsa"},
	"G404": {"math/rand", "math/rand/v2"},
	"G405": {"crypto/des", "crypto/rc4"},
	"G406": {"golang.org/x/crypto/md4", "golang.org/x/crypto/ripemd160"},
	"G501": {"crypto/md5"},
	"G502": {"crypto/des"},
	"G503": {"crypto/rc4"},
	"G504": {"net/http/cgi"},
	"G505": {"crypto/sha1"},
	"G506": {"golang.org/x/crypto/md4"},
	"G507": {"golang.org/x/crypto/ripemd160"},
}

// everyFile are the rules run on every file: G101 and G601 (not run at all
// here, see Disabled), G104 (unchecked errors of the file's own functions)
// and G116 (gosec's version reads the file from disk by name, which syntax
// mode never allows: trojanSource below does its work on the bytes).
var everyFile = []string{"G101", "G104", "G116", "G601"}

// buildersFor returns the rule builders syntax mode runs on file: the
// every-file rules and the rules keyed to one of its imports.
func (a *Analyzer) buildersFor(file *ast.File) map[string]gosec.RuleBuilder {
	imports := make(map[string]bool, len(file.Imports))
	for _, im := range file.Imports {
		if p, err := strconv.Unquote(im.Path.Value); err == nil {
			imports[p] = true
		}
	}
	out := make(map[string]gosec.RuleBuilder, 8)
	for id, b := range a.builders {
		if id == "G116" {
			continue // trojanSource
		}
		paths, keyed := ruleImports[id]
		if !keyed || a.ungated {
			out[id] = b
			continue
		}
		for _, p := range paths {
			if imports[p] {
				out[id] = b
				break
			}
		}
	}
	return out
}

// needsCheck reports whether any of the rules in builders can match file,
// which is then type-checked and given to them. Only G104 of the
// every-file rules can be left (G101 and G601 are never run): it looks for
// calls whose result type is the predeclared error (gosec's returnsError),
// and in a file type-checked alone, against empty fake imports, such a type
// can only come from the identifier error written in the file itself;
// mayReturnError tells when it cannot reach a call. A file with no other
// rule to run then needs neither type-checking nor gosec's walk.
func (a *Analyzer) needsCheck(builders map[string]gosec.RuleBuilder, file *ast.File) bool {
	for id := range builders {
		if id != "G104" {
			return true
		}
	}
	if _, ok := builders["G104"]; !ok {
		return false
	}
	return mayReturnError(file)
}

// mayReturnError reports whether a call in file may have a result of the
// predeclared type error, when file is type-checked alone. It may not when
// the identifier error appears only as a whole result type of the file's
// function and method declarations, and none of those names is used
// anywhere but in its own declaration: no call, method value, or any
// other identifier of the same name (so no shadowing, embedding or alias
// can carry the type). Everything else (error in a parameter, a field, an
// interface, a function literal, a type argument, a type declaration, a
// result such as func() error) counts as may.
func mayReturnError(file *ast.File) bool {
	var names map[string]bool
	allowed := map[*ast.Ident]bool{}
	for _, d := range file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Type.Results == nil {
			continue
		}
		for _, f := range fd.Type.Results.List {
			if id, ok := f.Type.(*ast.Ident); ok && id.Name == "error" {
				if names == nil {
					names = map[string]bool{}
				}
				names[fd.Name.Name] = true
				allowed[fd.Name] = true
				allowed[id] = true
			}
		}
	}
	may := false
	ast.Inspect(file, func(n ast.Node) bool {
		if may {
			return false
		}
		if id, ok := n.(*ast.Ident); ok && !allowed[id] && (id.Name == "error" || names[id.Name]) {
			may = true
		}
		return !may
	})
	return may
}

// trojanSource is gosec's G116 on a file's bytes: the 1-based line and
// byte column of the first bidirectional text control character (the set of
// gosec's rule), or 0, 0. Each of them is encoded in UTF-8 as three bytes
// starting with 0xE2, a byte that only ever starts a sequence.
func trojanSource(data []byte) (line, col int) {
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], 0xe2)
		if i < 0 {
			break
		}
		i += off
		switch r, _ := utf8.DecodeRune(data[i:]); r {
		case '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f':
			return 1 + bytes.Count(data[:i], []byte("\n")), i - bytes.LastIndexByte(data[:i], '\n')
		}
		off = i + 1
	}
	return 0, 0
}

// trojanWhat is gosec's G116 message.
const trojanWhat = "Potential Trojan Source vulnerability via use of bidirectional text control characters"
