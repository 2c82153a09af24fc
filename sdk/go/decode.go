package shipgate

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file is a reflection-free decoder of Input: encoding/json's reflection
// is slow in WebAssembly, and decoding the report was nearly all of a Go
// policy's evaluation time. It fills exactly the values json.Unmarshal fills,
// and only handles the documents on which that is easy to be sure of: it
// gives up (and Evaluate falls back to json.Unmarshal) on anything invalid or
// unusual — a syntax error, a type mismatch, a duplicate field, a key that
// matches a field only case-insensitively, deep nesting. Failing over is
// always safe; accepting a document differently from json.Unmarshal is the
// bug to avoid (decode_test.go compares both on fixtures and by fuzzing).

// maxSkipDepth bounds the nesting of skipped values (json.Unmarshal accepts
// up to 10,000 levels; deeper documents fall back to it).
const maxSkipDepth = 512

// decoder is a cursor over one JSON document. s is the document as a string,
// so that strings without escapes are substrings of it instead of separate
// allocations.
type decoder struct {
	data []byte
	s    string
	pos  int
}

// decodeInput decodes data into in (which must be the zero Input) as
// json.Unmarshal(data, in) would, and reports whether it could. When it
// reports false, in is in an unspecified state and the caller decodes again
// with json.Unmarshal, which also produces the error to report.
func decodeInput(data []byte, in *Input) bool {
	d := decoder{data: data, s: string(data)}
	d.ws()
	if !d.object(inputFields, func(key string) bool {
		switch key {
		case "apiVersion":
			return d.str(&in.APIVersion)
		case "policy":
			return d.object(policyFields, func(key string) bool {
				switch key {
				case "name":
					return d.str(&in.Policy.Name)
				default: // params
					return d.raw(&in.Policy.Params)
				}
			})
		default: // report
			return d.report(&in.Report)
		}
	}) {
		return false
	}
	d.ws()
	return d.pos == len(d.data)
}

// Field names per type, as in their json tags. A key of one of these lists
// is decoded by the switch next to where the list is used.
var (
	inputFields       = []string{"apiVersion", "policy", "report"}
	policyFields      = []string{"name", "params"}
	reportFields      = []string{"schemaVersion", "createdAt", "target", "stages", "os", "image", "packages", "vulnerabilities", "findings"}
	targetFields      = []string{"type", "name", "path"}
	osFields          = []string{"family", "version", "name", "eol"}
	locationFields    = []string{"path", "line"}
	packageFields     = []string{"bomRef", "name", "version", "purl", "ecosystem", "type", "locations", "relationship", "dev", "licenses"}
	suppressionFields = []string{"kind", "source", "reason"}
	vulnFields        = []string{"id", "aliases", "packageRef", "packageName", "installedVersion", "fixedVersion", "status", "severity", "title", "location", "dev", "suppressed", "new"}
	findingFields     = []string{"id", "kind", "rule", "severity", "title", "message", "location", "suppressed", "new"}
	imageFields       = []string{"name", "id", "repoDigests", "created", "user", "env", "labels", "baseImage", "history", "signature"}
)

func (d *decoder) report(r *Report) bool {
	return d.object(reportFields, func(key string) bool {
		switch key {
		case "schemaVersion":
			return d.str(&r.SchemaVersion)
		case "createdAt":
			return d.time(&r.CreatedAt)
		case "target":
			return d.object(targetFields, func(key string) bool {
				switch key {
				case "type":
					return d.str(&r.Target.Type)
				case "name":
					return d.str(&r.Target.Name)
				default: // path
					return d.str(&r.Target.Path)
				}
			})
		case "stages":
			return d.strs(&r.Stages)
		case "os":
			return d.os(&r.OS)
		case "image":
			return d.image(&r.Image)
		case "packages":
			return slice(d, &r.Packages, (*decoder).pkg)
		case "vulnerabilities":
			return slice(d, &r.Vulnerabilities, (*decoder).vuln)
		default: // findings
			return slice(d, &r.Findings, (*decoder).finding)
		}
	})
}

func (d *decoder) os(p **OS) bool {
	if d.null() {
		*p = nil
		return true
	}
	o := new(OS)
	*p = o
	return d.object(osFields, func(key string) bool {
		switch key {
		case "family":
			return d.str(&o.Family)
		case "version":
			return d.str(&o.Version)
		case "name":
			return d.str(&o.Name)
		default: // eol
			return d.bool(&o.EOL)
		}
	})
}

func (d *decoder) location(l *Location) bool {
	return d.object(locationFields, func(key string) bool {
		switch key {
		case "path":
			return d.str(&l.Path)
		default: // line
			return d.int(&l.Line)
		}
	})
}

func (d *decoder) locationPtr(p **Location) bool {
	if d.null() {
		*p = nil
		return true
	}
	*p = new(Location)
	return d.location(*p)
}

func (d *decoder) suppression(p **Suppression) bool {
	if d.null() {
		*p = nil
		return true
	}
	s := new(Suppression)
	*p = s
	return d.object(suppressionFields, func(key string) bool {
		switch key {
		case "kind":
			return d.str(&s.Kind)
		case "source":
			return d.str(&s.Source)
		default: // reason
			return d.str(&s.Reason)
		}
	})
}

func (d *decoder) pkg(p *Package) bool {
	return d.object(packageFields, func(key string) bool {
		switch key {
		case "bomRef":
			return d.str(&p.BOMRef)
		case "name":
			return d.str(&p.Name)
		case "version":
			return d.str(&p.Version)
		case "purl":
			return d.str(&p.Purl)
		case "ecosystem":
			return d.str(&p.Ecosystem)
		case "type":
			return d.str(&p.Type)
		case "locations":
			return slice(d, &p.Locations, (*decoder).location)
		case "relationship":
			return d.str(&p.Relationship)
		case "dev":
			return d.bool(&p.Dev)
		default: // licenses
			return d.strs(&p.Licenses)
		}
	})
}

func (d *decoder) vuln(v *Vulnerability) bool {
	return d.object(vulnFields, func(key string) bool {
		switch key {
		case "id":
			return d.str(&v.ID)
		case "aliases":
			return d.strs(&v.Aliases)
		case "packageRef":
			return d.str(&v.PackageRef)
		case "packageName":
			return d.str(&v.PackageName)
		case "installedVersion":
			return d.str(&v.InstalledVersion)
		case "fixedVersion":
			return d.str(&v.FixedVersion)
		case "status":
			return d.str(&v.Status)
		case "severity":
			return d.str(&v.Severity)
		case "title":
			return d.str(&v.Title)
		case "location":
			return d.locationPtr(&v.Location)
		case "dev":
			return d.bool(&v.Dev)
		case "suppressed":
			return d.suppression(&v.Suppressed)
		default: // new
			return d.boolPtr(&v.New)
		}
	})
}

func (d *decoder) finding(f *Finding) bool {
	return d.object(findingFields, func(key string) bool {
		switch key {
		case "id":
			return d.str(&f.ID)
		case "kind":
			return d.str(&f.Kind)
		case "rule":
			return d.str(&f.Rule)
		case "severity":
			return d.str(&f.Severity)
		case "title":
			return d.str(&f.Title)
		case "message":
			return d.str(&f.Message)
		case "location":
			return d.location(&f.Location)
		case "suppressed":
			return d.suppression(&f.Suppressed)
		default: // new
			return d.boolPtr(&f.New)
		}
	})
}

func (d *decoder) image(p **Image) bool {
	if d.null() {
		*p = nil
		return true
	}
	m := new(Image)
	*p = m
	return d.object(imageFields, func(key string) bool {
		switch key {
		case "name":
			return d.str(&m.Name)
		case "id":
			return d.str(&m.ID)
		case "repoDigests":
			return d.strs(&m.RepoDigests)
		case "created":
			return d.timePtr(&m.Created)
		case "user":
			return d.str(&m.User)
		case "env":
			return d.strs(&m.Env)
		case "labels":
			return d.labels(&m.Labels)
		case "baseImage":
			return d.str(&m.BaseImage)
		case "history":
			return d.strs(&m.History)
		default: // signature
			return d.str(&m.Signature)
		}
	})
}

// labels decodes a map[string]string: a null value stores "" under its key
// and a repeated key keeps its last value, as json.Unmarshal does.
func (d *decoder) labels(p *map[string]string) bool {
	if d.null() {
		*p = nil
		return true
	}
	if !d.eat('{') {
		return false
	}
	m := map[string]string{}
	*p = m
	d.ws()
	if d.eat('}') {
		return true
	}
	for {
		d.ws()
		key, ok := d.string()
		if !ok {
			return false
		}
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		var v string
		if !d.str(&v) {
			return false
		}
		m[key] = v
		d.ws()
		if d.eat('}') {
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

// slice decodes an array into *p with elem decoding each non-null element
// (a null element is the zero value): null stores nil and [] an empty,
// non-nil slice, as json.Unmarshal does on a nil slice.
func slice[T any](d *decoder, p *[]T, elem func(*decoder, *T) bool) bool {
	if d.null() {
		*p = nil
		return true
	}
	if !d.eat('[') {
		return false
	}
	d.ws()
	if d.eat(']') {
		*p = []T{}
		return true
	}
	// Preallocate up to the input's size: an estimate that a malformed
	// array fooled then wastes no more than the input already uses.
	var zero T
	s := make([]T, 0, min(d.count(), len(d.data)/max(1, int(unsafe.Sizeof(zero)))+1))
	for {
		d.ws()
		s = append(s, zero)
		if !d.null() && !elem(d, &s[len(s)-1]) {
			return false
		}
		d.ws()
		if d.eat(']') {
			*p = s
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

// count estimates the number of elements of the array whose first element
// is next, so that slices are allocated once (growing one by appending
// allocates and copies it several times). It does not check the syntax: the
// decoding does, and a wrong estimate only wastes capacity.
func (d *decoder) count() int {
	n, depth := 1, 0
	for i := d.pos; i < len(d.data); i++ {
		switch d.data[i] {
		case '"':
			for i++; i < len(d.data) && d.data[i] != '"'; i++ {
				if d.data[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return n
			}
			depth--
		case ',':
			// Count only a comma followed by a value, so that the estimate
			// of a run of commas is not a huge allocation.
			if depth == 0 {
				for i+1 < len(d.data) && isSpace(d.data[i+1]) {
					i++
				}
				if i+1 < len(d.data) && valueStart(d.data[i+1]) {
					n++
				}
			}
		}
	}
	return n
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// valueStart reports whether c can start a JSON value.
func valueStart(c byte) bool {
	switch c {
	case '{', '[', '"', 'n', 't', 'f', '-':
		return true
	}
	return '0' <= c && c <= '9'
}

func (d *decoder) strs(p *[]string) bool { return slice(d, p, (*decoder).str) }

// object decodes an object into a struct, calling member for each key of
// names with the cursor on its value; member must consume the value. Other
// keys are skipped. A null leaves the struct as it is, like json.Unmarshal.
// It gives up on a repeated field (json.Unmarshal would merge into the first
// value) and on an unknown key that json.Unmarshal's case-insensitive
// matching could map to a field.
func (d *decoder) object(names []string, member func(key string) bool) bool {
	if d.null() {
		return true
	}
	if !d.eat('{') {
		return false
	}
	d.ws()
	if d.eat('}') {
		return true
	}
	var seen uint64
	for {
		d.ws()
		key, ok := d.string()
		if !ok {
			return false
		}
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		i := index(names, key)
		switch {
		case i >= 0:
			if seen&(1<<i) != 0 {
				return false
			}
			seen |= 1 << i
			if !member(key) {
				return false
			}
		case mayFold(names, key):
			return false
		default:
			if !d.skip(0) {
				return false
			}
		}
		d.ws()
		if d.eat('}') {
			return true
		}
		if !d.eat(',') {
			return false
		}
	}
}

// index returns the position of key in names, or -1.
func index(names []string, key string) int {
	for i, n := range names {
		if n == key {
			return i
		}
	}
	return -1
}

// mayFold reports whether json.Unmarshal might match key to one of names
// although it is none of them: it matches case-insensitively, with Unicode
// folding (so any non-ASCII key is suspect).
func mayFold(names []string, key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		if len(n) == len(key) && asciiEqualFold(n, key) {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// ws skips JSON whitespace.
func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// eat consumes c if it is next.
func (d *decoder) eat(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// literal consumes lit if it is next.
func (d *decoder) literal(lit string) bool {
	if d.pos < len(d.data) && d.data[d.pos] == lit[0] && len(d.data)-d.pos >= len(lit) && d.s[d.pos:d.pos+len(lit)] == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

func (d *decoder) null() bool { return d.literal("null") }

// str decodes a string into *p; null leaves it as it is.
func (d *decoder) str(p *string) bool {
	if d.null() {
		return true
	}
	s, ok := d.string()
	if ok {
		*p = s
	}
	return ok
}

// bool decodes a boolean into *p; null leaves it as it is.
func (d *decoder) bool(p *bool) bool {
	switch {
	case d.literal("true"):
		*p = true
	case d.literal("false"):
		*p = false
	default:
		return d.null()
	}
	return true
}

// boolPtr decodes a boolean into a new *bool; null stores nil.
func (d *decoder) boolPtr(p **bool) bool {
	if d.null() {
		*p = nil
		return true
	}
	b := new(bool)
	*p = b
	return d.bool(b)
}

// int decodes an integer into *p; null leaves it as it is. A number with a
// fraction or an exponent is a type error for json.Unmarshal: give up.
func (d *decoder) int(p *int) bool {
	if d.null() {
		return true
	}
	start := d.pos
	d.eat('-')
	switch {
	case d.eat('0'):
	case d.pos < len(d.data) && '1' <= d.data[d.pos] && d.data[d.pos] <= '9':
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
		}
	default:
		return false
	}
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case '.', 'e', 'E':
			return false
		}
	}
	n, err := strconv.ParseInt(d.s[start:d.pos], 10, strconv.IntSize)
	if err != nil {
		return false
	}
	*p = int(n)
	return true
}

// time decodes a time.Time with its UnmarshalJSON, given the raw value as
// json.Unmarshal does (so null leaves it as it is).
func (d *decoder) time(t *time.Time) bool {
	start := d.pos
	if !d.skip(0) {
		return false
	}
	return t.UnmarshalJSON(d.data[start:d.pos]) == nil
}

// timePtr decodes a *time.Time: null stores nil, anything else a new value.
func (d *decoder) timePtr(p **time.Time) bool {
	if d.null() {
		*p = nil
		return true
	}
	t := new(time.Time)
	*p = t
	return d.time(t)
}

// raw stores a copy of the next value's bytes (json.RawMessage; a null
// stores "null").
func (d *decoder) raw(p *json.RawMessage) bool {
	start := d.pos
	if !d.skip(0) {
		return false
	}
	*p = append([]byte(nil), d.data[start:d.pos]...)
	return true
}

// skip consumes one value, checking its syntax.
func (d *decoder) skip(depth int) bool {
	if d.pos >= len(d.data) || depth > maxSkipDepth {
		return false
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		_, ok := d.stringEnd()
		return ok
	case c == '{':
		d.pos++
		d.ws()
		if d.eat('}') {
			return true
		}
		for {
			d.ws()
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return false
			}
			if _, ok := d.stringEnd(); !ok {
				return false
			}
			d.ws()
			if !d.eat(':') {
				return false
			}
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.eat('}') {
				return true
			}
			if !d.eat(',') {
				return false
			}
		}
	case c == '[':
		d.pos++
		d.ws()
		if d.eat(']') {
			return true
		}
		for {
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.eat(']') {
				return true
			}
			if !d.eat(',') {
				return false
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	default:
		return d.literal("true") || d.literal("false") || d.null()
	}
}

// number consumes a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() bool {
	d.eat('-')
	switch {
	case d.eat('0'):
	case d.digits() == 0:
		return false
	}
	if d.eat('.') && d.digits() == 0 {
		return false
	}
	if d.eat('e') || d.eat('E') {
		if !d.eat('+') {
			d.eat('-')
		}
		if d.digits() == 0 {
			return false
		}
	}
	return true
}

// digits consumes decimal digits and returns how many.
func (d *decoder) digits() int {
	start := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos - start
}

// string consumes a string and returns its value.
func (d *decoder) string() (string, bool) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", false
	}
	start := d.pos + 1
	i := start
	for i < len(d.data) {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return d.s[start:i], true
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	plain, ok := d.stringEnd()
	if !ok {
		return "", false
	}
	lit := d.data[start : d.pos-1]
	if plain && utf8.Valid(lit) {
		return d.s[start : d.pos-1], true
	}
	return unquote(lit), true
}

// stringEnd consumes a string whose '"' is next, checking its syntax as
// json.Unmarshal does (no control characters, only JSON escapes; invalid
// UTF-8 is not an error). plain reports that it has no escapes.
func (d *decoder) stringEnd() (plain, ok bool) {
	plain = true
	i := d.pos + 1
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return plain, true
		case c < ' ':
			return false, false
		case c == '\\':
			plain = false
			if i+1 >= len(d.data) {
				return false, false
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(d.data[i+2:]) < 0 {
					return false, false
				}
				i += 6
			default:
				return false, false
			}
		default:
			i++
		}
	}
	return false, false
}

// hex4 decodes the four hex digits at the start of s, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote returns the value of the body of a string already checked by
// stringEnd, the way encoding/json computes it: invalid UTF-8 and unpaired
// surrogates become U+FFFD.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := rune(-1)
					if r+1 < len(s) && s[r] == '\\' && s[r+1] == 'u' {
						rr1 = hex4(s[r+2:])
					}
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b)
}
