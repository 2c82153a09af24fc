package policy

// Host-side Rego builtins for OPA modules. `opa build -t wasm` compiles
// about half of OPA's builtins into the module (arithmetic, aggregates,
// comparisons, objects, arrays, sets, most strings.*, regex.match, glob.match,
// json.*, base64.*, net.cidr_contains ...); the module's builtins export
// lists the others it calls, and the host must provide them. These are the
// ones CI policies need, all pure and deterministic: the clock is the scan's
// start time, nothing reads files or the network. A module needing any
// other builtin is refused at load, naming it.
//
// Arguments arrive as JSON (Rego sets as arrays), so a builtin sees a set
// argument as an array; results go back as JSON. Errors follow
// `opa eval --strict-builtin-errors`: a builtin error ends the evaluation
// as a policy error (failing closed) instead of silently making the rule
// undefined.

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// errUndefined is returned by a builtin whose result is undefined.
var errUndefined = errors.New("undefined")

// builtinCtx is what a host builtin may use besides its arguments.
type builtinCtx struct {
	// start is the scan's start time, the policy's clock.
	start time.Time
	// log records a line of policy output (trace).
	log func(string)
}

// opaBuiltinSpec is one host builtin: its arity and implementation.
type opaBuiltinSpec struct {
	name  string
	arity int
	fn    func(bc *builtinCtx, args []any) (any, error)
}

// opaBuiltins are the builtins the host provides, by Rego name.
var opaBuiltins = map[string]opaBuiltinSpec{
	"sprintf": {arity: 2, fn: biSprintf},
	"trace":   {arity: 1, fn: biTrace},
	"time.now_ns": {arity: 0, fn: func(bc *builtinCtx, _ []any) (any, error) {
		return json.Number(strconv.FormatInt(bc.start.UnixNano(), 10)), nil
	}},
	"time.parse_rfc3339_ns":  {arity: 1, fn: biTimeParseRFC3339},
	"time.parse_ns":          {arity: 2, fn: biTimeParse},
	"time.parse_duration_ns": {arity: 1, fn: biTimeParseDuration},
	"time.date":              {arity: 1, fn: biTimeDate},
	"time.clock":             {arity: 1, fn: biTimeClock},
	"time.weekday":           {arity: 1, fn: biTimeWeekday},
	"time.add_date":          {arity: 4, fn: biTimeAddDate},
	"time.format":            {arity: 1, fn: biTimeFormat},
	"semver.is_valid":        {arity: 1, fn: biSemverIsValid},
	"semver.compare":         {arity: 2, fn: biSemverCompare},
	"regex.find_n":           {arity: 3, fn: biRegexFindN},
	"regex.split":            {arity: 2, fn: biRegexSplit},
	"regex.replace":          {arity: 3, fn: biRegexReplace},
	"strings.any_prefix_match": {arity: 2, fn: func(_ *builtinCtx, a []any) (any, error) {
		return anyMatch(a, strings.HasPrefix)
	}},
	"strings.any_suffix_match": {arity: 2, fn: func(_ *builtinCtx, a []any) (any, error) {
		return anyMatch(a, strings.HasSuffix)
	}},
	"strings.count":      {arity: 2, fn: biStringsCount},
	"indexof_n":          {arity: 2, fn: biIndexOfN},
	"units.parse_bytes":  {arity: 1, fn: biUnitsParseBytes},
	"units.parse":        {arity: 1, fn: biUnitsParse},
	"yaml.marshal":       {arity: 1, fn: biYAMLMarshal},
	"yaml.unmarshal":     {arity: 1, fn: biYAMLUnmarshal},
	"yaml.is_valid":      {arity: 1, fn: biYAMLIsValid},
	"hex.encode":         {arity: 1, fn: strFn(func(s string) (any, error) { return hex.EncodeToString([]byte(s)), nil })},
	"hex.decode":         {arity: 1, fn: strFn(biHexDecode)},
	"urlquery.encode":    {arity: 1, fn: strFn(func(s string) (any, error) { return url.QueryEscape(s), nil })},
	"urlquery.decode":    {arity: 1, fn: strFn(func(s string) (any, error) { return url.QueryUnescape(s) })},
	"crypto.sha256":      {arity: 1, fn: strFn(func(s string) (any, error) { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))), nil })},
	"crypto.sha1":        {arity: 1, fn: strFn(func(s string) (any, error) { return fmt.Sprintf("%x", sha1.Sum([]byte(s))), nil })},
	"crypto.md5":         {arity: 1, fn: strFn(func(s string) (any, error) { return fmt.Sprintf("%x", md5.Sum([]byte(s))), nil })},
	"numbers.range_step": {arity: 3, fn: biRangeStep},
}

// OPABuiltins returns the names of the builtins the host provides to OPA
// modules (besides those compiled into the module), sorted.
func OPABuiltins() []string {
	names := make([]string, 0, len(opaBuiltins))
	for n := range opaBuiltins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// argument helpers

func argString(a []any, i int) (string, error) {
	s, ok := a[i].(string)
	if !ok {
		return "", fmt.Errorf("operand %d must be a string, got %s", i+1, typeName(a[i]))
	}
	return s, nil
}

func argInt(a []any, i int) (int64, error) {
	n, ok := a[i].(json.Number)
	if !ok {
		return 0, fmt.Errorf("operand %d must be a number, got %s", i+1, typeName(a[i]))
	}
	v, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return 0, fmt.Errorf("operand %d must be an integer, got %s", i+1, n)
		}
		v = int64(f)
	}
	return v, nil
}

func strFn(f func(string) (any, error)) func(*builtinCtx, []any) (any, error) {
	return func(_ *builtinCtx, a []any) (any, error) {
		s, err := argString(a, 0)
		if err != nil {
			return nil, err
		}
		return f(s)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func intNumber(v int64) json.Number { return json.Number(strconv.FormatInt(v, 10)) }

// regoString formats a value as Rego prints a term (strings quoted).
func regoString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case string:
		return strconv.Quote(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = regoString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ": " + regoString(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// biSprintf formats like OPA's sprintf: integers as integers, other
// numbers as float64, strings as themselves, other values as Rego terms.
func biSprintf(_ *builtinCtx, a []any) (any, error) {
	format, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	vals, ok := a[1].([]any)
	if !ok {
		return nil, fmt.Errorf("operand 2 must be an array, got %s", typeName(a[1]))
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case json.Number:
			if n, err := v.Int64(); err == nil {
				args[i] = n
			} else if b, ok := new(big.Int).SetString(v.String(), 10); ok {
				args[i] = b
			} else if f, err := v.Float64(); err == nil {
				args[i] = f
			} else {
				args[i] = v.String()
			}
		case string:
			args[i] = v
		default:
			args[i] = regoString(v)
		}
	}
	return fmt.Sprintf(format, args...), nil
}

func biTrace(bc *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	if bc.log != nil {
		bc.log(s)
	}
	return true, nil
}

// time builtins

func nsNumber(t time.Time) (any, error) {
	if t.Year() < 1678 || t.Year() > 2262 {
		return nil, fmt.Errorf("time %s outside the range of int64 nanoseconds", t.Format(time.RFC3339))
	}
	return intNumber(t.UnixNano()), nil
}

func biTimeParseRFC3339(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, err
	}
	return nsNumber(t)
}

func biTimeParse(_ *builtinCtx, a []any) (any, error) {
	layout, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	s, err := argString(a, 1)
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return nil, err
	}
	return nsNumber(t)
}

func biTimeParseDuration(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, err
	}
	return intNumber(int64(d)), nil
}

// timeArg reads ns or [ns, tz] (tz "" or "UTC": the sandbox has no time
// zone database) or, with layouts, [ns, tz, layout].
func timeArg(v any, layouts bool) (time.Time, string, error) {
	layout := time.RFC3339Nano
	var ns any = v
	if arr, ok := v.([]any); ok {
		if len(arr) < 2 || len(arr) > 3 || (len(arr) == 3 && !layouts) {
			return time.Time{}, "", errors.New("operand 1 must be a number of nanoseconds or an array [ns, timezone]")
		}
		ns = arr[0]
		tz, ok := arr[1].(string)
		if !ok || (tz != "" && tz != "UTC") {
			return time.Time{}, "", fmt.Errorf("timezone %s is not supported (only UTC: the policy sandbox has no time zone database)", regoString(arr[1]))
		}
		if len(arr) == 3 {
			l, ok := arr[2].(string)
			if !ok {
				return time.Time{}, "", errors.New("layout must be a string")
			}
			layout = map[string]string{"ANSIC": time.ANSIC, "UnixDate": time.UnixDate, "RubyDate": time.RubyDate,
				"RFC822": time.RFC822, "RFC822Z": time.RFC822Z, "RFC850": time.RFC850, "RFC1123": time.RFC1123,
				"RFC1123Z": time.RFC1123Z, "RFC3339": time.RFC3339, "RFC3339Nano": time.RFC3339Nano}[l]
			if layout == "" {
				layout = l
			}
		}
	}
	n, err := argInt([]any{ns}, 0)
	if err != nil {
		return time.Time{}, "", err
	}
	return time.Unix(0, n).UTC(), layout, nil
}

func biTimeDate(_ *builtinCtx, a []any) (any, error) {
	t, _, err := timeArg(a[0], false)
	if err != nil {
		return nil, err
	}
	y, m, d := t.Date()
	return []any{intNumber(int64(y)), intNumber(int64(m)), intNumber(int64(d))}, nil
}

func biTimeClock(_ *builtinCtx, a []any) (any, error) {
	t, _, err := timeArg(a[0], false)
	if err != nil {
		return nil, err
	}
	h, m, s := t.Clock()
	return []any{intNumber(int64(h)), intNumber(int64(m)), intNumber(int64(s))}, nil
}

func biTimeWeekday(_ *builtinCtx, a []any) (any, error) {
	t, _, err := timeArg(a[0], false)
	if err != nil {
		return nil, err
	}
	return t.Weekday().String(), nil
}

func biTimeFormat(_ *builtinCtx, a []any) (any, error) {
	t, layout, err := timeArg(a[0], true)
	if err != nil {
		return nil, err
	}
	return t.Format(layout), nil
}

func biTimeAddDate(_ *builtinCtx, a []any) (any, error) {
	var n [4]int64
	for i := range n {
		v, err := argInt(a, i)
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	return nsNumber(time.Unix(0, n[0]).UTC().AddDate(int(n[1]), int(n[2]), int(n[3])))
}

// semver (semver.org 2.0.0 with an optional "v" prefix, as OPA's semver builtins)

var semverRe = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$`)

func biSemverIsValid(_ *builtinCtx, a []any) (any, error) {
	s, ok := a[0].(string)
	return ok && semverRe.MatchString(s), nil
}

func biSemverCompare(_ *builtinCtx, a []any) (any, error) {
	var parts [2][]string
	for i := range parts {
		s, err := argString(a, i)
		if err != nil {
			return nil, err
		}
		parts[i] = semverRe.FindStringSubmatch(s)
		if parts[i] == nil {
			return nil, fmt.Errorf("operand %d: string %q is not a valid SemVer", i+1, s)
		}
	}
	return intNumber(int64(compareSemver(parts[0], parts[1]))), nil
}

// compareSemver compares two semverRe matches by SemVer precedence.
func compareSemver(x, y []string) int {
	for i := 1; i <= 3; i++ {
		if c := compareNumeric(x[i], y[i]); c != 0 {
			return c
		}
	}
	switch {
	case x[4] == y[4]:
		return 0
	case x[4] == "":
		return 1
	case y[4] == "":
		return -1
	}
	xs, ys := strings.Split(x[4], "."), strings.Split(y[4], ".")
	for i := 0; i < len(xs) && i < len(ys); i++ {
		xn, yn := isDigits(xs[i]), isDigits(ys[i])
		var c int
		switch {
		case xn && yn:
			c = compareNumeric(xs[i], ys[i])
		case xn:
			c = -1
		case yn:
			c = 1
		default:
			c = strings.Compare(xs[i], ys[i])
		}
		if c != 0 {
			return c
		}
	}
	return compareInt(len(xs), len(ys))
}

// compareNumeric compares decimal strings without leading zeros.
func compareNumeric(a, b string) int {
	if c := compareInt(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func compareInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// regex builtins (Go's RE2 syntax, as OPA)

func regexArgs(a []any, pi, vi int) (*regexp.Regexp, string, error) {
	pat, err := argString(a, pi)
	if err != nil {
		return nil, "", err
	}
	s, err := argString(a, vi)
	if err != nil {
		return nil, "", err
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, "", err
	}
	return re, s, nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func biRegexFindN(_ *builtinCtx, a []any) (any, error) {
	re, s, err := regexArgs(a, 0, 1)
	if err != nil {
		return nil, err
	}
	n, err := argInt(a, 2)
	if err != nil {
		return nil, err
	}
	return stringsToAny(re.FindAllString(s, int(max(n, -1)))), nil
}

func biRegexSplit(_ *builtinCtx, a []any) (any, error) {
	re, s, err := regexArgs(a, 0, 1)
	if err != nil {
		return nil, err
	}
	return stringsToAny(re.Split(s, -1)), nil
}

func biRegexReplace(_ *builtinCtx, a []any) (any, error) {
	re, s, err := regexArgs(a, 1, 0)
	if err != nil {
		return nil, err
	}
	repl, err := argString(a, 2)
	if err != nil {
		return nil, err
	}
	return re.ReplaceAllString(s, repl), nil
}

// string builtins

// stringsOf reads a string, or an array (or set) of strings.
func stringsOf(v any, i int) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for j, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("operand %d must be a string or an array of strings, has %s", i+1, typeName(e))
			}
			out[j] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("operand %d must be a string or an array of strings, got %s", i+1, typeName(v))
}

func anyMatch(a []any, match func(s, affix string) bool) (any, error) {
	ss, err := stringsOf(a[0], 0)
	if err != nil {
		return nil, err
	}
	affixes, err := stringsOf(a[1], 1)
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		if slices.ContainsFunc(affixes, func(x string) bool { return match(s, x) }) {
			return true, nil
		}
	}
	return false, nil
}

func biStringsCount(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	sub, err := argString(a, 1)
	if err != nil {
		return nil, err
	}
	return intNumber(int64(strings.Count(s, sub))), nil
}

// biIndexOfN returns every rune index of needle in haystack.
func biIndexOfN(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	needle, err := argString(a, 1)
	if err != nil {
		return nil, err
	}
	if needle == "" {
		return nil, errors.New("empty search character")
	}
	out := []any{}
	for off := 0; off <= len(s); {
		i := strings.Index(s[off:], needle)
		if i < 0 {
			break
		}
		out = append(out, intNumber(int64(utf8.RuneCountInString(s[:off+i]))))
		_, size := utf8.DecodeRuneInString(s[off+i:])
		off += i + max(size, 1)
	}
	return out, nil
}

// units

// unitsRe splits a quantity into number and unit.
var unitsRe = regexp.MustCompile(`^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)$`)

// byteUnits are units.parse_bytes's suffixes (lower case): decimal and
// binary multiples.
var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
	"p": 1e15, "pb": 1e15, "pi": 1 << 50, "pib": 1 << 50,
	"e": 1e18, "eb": 1e18, "ei": 1 << 60, "eib": 1 << 60,
}

func splitQuantity(s string) (*big.Float, string, error) {
	m := unitsRe.FindStringSubmatch(strings.TrimSpace(strings.ReplaceAll(s, `"`, "")))
	if m == nil {
		return nil, "", fmt.Errorf("could not parse %q: want a number and an optional unit", s)
	}
	f, _, err := big.ParseFloat(m[1], 10, 128, big.ToNearestEven)
	if err != nil {
		return nil, "", fmt.Errorf("could not parse %q: %v", s, err)
	}
	return f, m[2], nil
}

// biUnitsParseBytes converts "10KB", "1.5GiB" ... to a whole number of bytes.
func biUnitsParseBytes(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	f, unit, err := splitQuantity(s)
	if err != nil {
		return nil, err
	}
	mul, ok := byteUnits[strings.ToLower(unit)]
	if !ok {
		return nil, fmt.Errorf("could not parse %q: unknown unit %q", s, unit)
	}
	n, _ := f.Mul(f, new(big.Float).SetInt64(mul)).Int(nil)
	return json.Number(n.String()), nil
}

// siUnits are units.parse's suffixes: SI (m is milli, M mega) and binary.
var siUnits = map[string]float64{
	"": 1, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
	"ki": 1 << 10, "Ki": 1 << 10, "mi": 1 << 20, "Mi": 1 << 20, "gi": 1 << 30, "Gi": 1 << 30,
	"ti": 1 << 40, "Ti": 1 << 40, "pi": 1 << 50, "Pi": 1 << 50, "ei": 1 << 60, "Ei": 1 << 60,
}

// biUnitsParse converts "10m" (0.01), "2Ki", "1.5G" ... to a number.
func biUnitsParse(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	f, unit, err := splitQuantity(s)
	if err != nil {
		return nil, err
	}
	mul, ok := siUnits[unit]
	if !ok {
		mul, ok = siUnits[strings.ToLower(unit)]
	}
	if !ok {
		return nil, fmt.Errorf("could not parse %q: unknown unit %q", s, unit)
	}
	f.Mul(f, big.NewFloat(mul))
	if f.IsInt() {
		n, _ := f.Int(nil)
		return json.Number(n.String()), nil
	}
	v, _ := f.Float64()
	return json.Number(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// yaml and json

// toPlain turns JSON-decoded numbers into int64 or float64 for encoders
// that do not know json.Number.
func toPlain(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toPlain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = toPlain(e)
		}
		return out
	}
	return v
}

// fromYAML turns a YAML-decoded value into one JSON can encode.
func fromYAML(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			x, err := fromYAML(e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			x, err := fromYAML(e)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			x, err := fromYAML(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = x
		}
		return out, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("number %v cannot be represented in JSON", v)
		}
	}
	return v, nil
}

func biYAMLMarshal(_ *builtinCtx, a []any) (any, error) {
	// As OPA: go-yaml v3 with a two-space indent.
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(toPlain(a[0])); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.String(), nil
}

func biYAMLUnmarshal(_ *builtinCtx, a []any) (any, error) {
	s, err := argString(a, 0)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	return fromYAML(v)
}

func biYAMLIsValid(_ *builtinCtx, a []any) (any, error) {
	s, ok := a[0].(string)
	if !ok {
		return false, nil
	}
	var v any
	return yaml.Unmarshal([]byte(s), &v) == nil, nil
}

func biHexDecode(s string) (any, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(b) {
		return nil, errors.New("decoded bytes are not valid UTF-8")
	}
	return string(b), nil
}

// biRangeStep is numbers.range_step(a, b, step) on integers.
func biRangeStep(_ *builtinCtx, a []any) (any, error) {
	var n [3]int64
	for i := range n {
		v, err := argInt(a, i)
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	if n[2] <= 0 {
		return nil, errors.New("step must be a positive number above zero")
	}
	if d := n[1] - n[0]; (d < 0 && -d/n[2] > 1<<20) || d/n[2] > 1<<20 {
		return nil, errors.New("range of more than 1048576 numbers")
	}
	out := []any{}
	if n[0] <= n[1] {
		for i := n[0]; i <= n[1]; i += n[2] {
			out = append(out, intNumber(i))
		}
	} else {
		for i := n[0]; i >= n[1]; i -= n[2] {
			out = append(out, intNumber(i))
		}
	}
	return out, nil
}
