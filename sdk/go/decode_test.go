package shipgate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/report"
)

// compareDecoders decodes data with decodeInput and json.Unmarshal and fails
// when decodeInput accepted data and the two disagree (or json.Unmarshal
// rejected it). It returns whether decodeInput accepted data.
func compareDecoders(t testing.TB, data []byte) bool {
	t.Helper()
	var fast, std Input
	ok := decodeInput(data, &fast)
	err := json.Unmarshal(data, &std)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("decodeInput accepted what json.Unmarshal rejects (%v): %q", err, data)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("decodeInput and json.Unmarshal differ on %q:\nfast %+v\njson %+v", data, fast, std)
	}
	return true
}

// wrap makes an input document of a report and raw params.
func wrap(rep []byte, params string) []byte {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"shipgate.dev/v1","policy":{"name":"test"`)
	if params != "" {
		b.WriteString(`,"params":` + params)
	}
	b.WriteString(`},"report":`)
	b.Write(rep)
	b.WriteString("}")
	return []byte(b.String())
}

// fixtures returns the input documents of testdata: the reports (wrapped with
// several params), the hand-written inputs and a synthetic 5,000-vulnerability
// report.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	fs := map[string][]byte{}
	reports, _ := filepath.Glob("testdata/report*.json")
	inputs, _ := filepath.Glob("testdata/input*.json")
	if len(reports) == 0 || len(inputs) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	for _, p := range reports {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, params := range []string{``, `null`, `{"severities":["CRITICAL"]}`, "{ \"deny\" : [ \"GPL-3.0-only\" ],\n\"n\": 1e9 }"} {
			fs[fmt.Sprintf("%s/params%d", filepath.Base(p), i)] = wrap(b, params)
		}
	}
	for _, p := range inputs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fs[filepath.Base(p)] = b
	}
	fs["big"] = wrap(bigReport(t, 5000), `{"severities":["CRITICAL","HIGH"]}`)
	return fs
}

// bigReport returns a report with n vulnerabilities (about 1 MB of JSON for
// n = 5000) built from the real fixture's packages, like
// internal/policy/bench_test.go, with some of the optional fields set.
func bigReport(tb testing.TB, n int) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/report-image.json")
	if err != nil {
		tb.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatal(err)
	}
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	published := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	r.Vulnerabilities = r.Vulnerabilities[:0]
	for i := range n {
		p := r.Packages[i%len(r.Packages)]
		fix := ""
		if i%3 != 0 {
			fix = "9.9.9"
		}
		v := report.Vulnerability{
			ID: fmt.Sprintf("CVE-2026-%05d", i), PackageRef: p.BOMRef, PackageName: p.Name,
			InstalledVersion: p.Version, FixedVersion: fix, Severity: sev[i%len(sev)],
			Title: "A vulnerability in " + p.Name + " that lets an attacker do something bad",
			Dev:   i%7 == 0,
		}
		if i%11 == 0 {
			isNew := i%2 == 0
			v.New = &isNew
			v.Aliases = []string{fmt.Sprintf("GHSA-%04d", i)}
			v.Suppressed = &report.Suppression{Kind: "vex", Source: "x.openvex.json", Reason: "not \"affected\""}
			v.Location = &report.Location{Path: "go.mod", Line: i}
			v.CVSS = []report.CVSS{{Source: "nvd", Version: "3.1", Score: 7.5}}
			v.PublishedDate = &published
			v.Description = "Ünïcödé <b>&</b>\n\ttabbed"
		}
		r.Vulnerabilities = append(r.Vulnerabilities, v)
	}
	out, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestDecodeFixtures checks that the fast decoder takes every real input and
// fills exactly what json.Unmarshal fills.
func TestDecodeFixtures(t *testing.T) {
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			if !compareDecoders(t, data) {
				t.Fatal("decodeInput fell back on a valid input")
			}
		})
	}
}

// TestDecodeCases pins which inputs take the fast path and that the result is
// json.Unmarshal's either way.
func TestDecodeCases(t *testing.T) {
	for _, tt := range []struct {
		in   string
		fast bool
	}{
		{`{}`, true},
		{`null`, true},
		{" \t\r\n{ } \n", true},
		{`{"apiVersion":"shipgate.dev/v1","policy":null,"report":null}`, true},
		{`{"apiVers\u0069on":"a\u00e9\ud83d\ude00\ud83d\udc"}`, false}, // bad escape
		{`{"apiVers\u0069on":"a\u00e9\ud83d\ude00\ud83d"}`, true},
		{`{"apiVersion":"\udc00\ud800\ud800\udc00x"}`, true},
		{"{\"apiVersion\":\"\xff\xfe ok \xc3\xa9\"}", true},
		{"{\"report\":{\"stages\":[\"\xed\xa0\x80\"]}}", true},
		{`{"policy":{"params":null}}`, true},
		{`{"policy":{"params":  [1, {"a" : "b"} ] }}`, true},
		{`{"report":{"createdAt":null}}`, true},
		{`{"report":{"createdAt":"2026-01-02T03:04:05-07:00"}}`, true},
		{`{"report":{"createdAt":"2026-01-02 03:04:05Z"}}`, false},
		{`{"report":{"createdAt":"2026-01-02T03:04:05\u005a"}}`, false},
		{`{"report":{"createdAt":12}}`, false},
		{`{"report":{"image":{"created":null,"labels":null}}}`, true},
		{`{"report":{"image":{"created":"2026-01-02T03:04:05Z","labels":{}}}}`, true},
		{`{"report":{"image":{"labels":{"a":1}}}}`, false},
		{`{"report":{"findings":[{"location":{"line":-0}}]}}`, true},
		{`{"report":{"findings":[{"location":{"line":1.0}}]}}`, false},
		{`{"report":{"findings":[{"location":{"line":1e2}}]}}`, false},
		{`{"report":{"findings":[{"location":{"line":99999999999999999999}}]}}`, false},
		{`{"report":{"findings":[{"location":{"line":"3"}}]}}`, false},
		{`{"report":{"vulnerabilities":[{"id":"a","id":"b"}]}}`, false}, // repeated field
		{`{"report":{"vulnerabilities":[{"ID":"a"}]}}`, false},          // case-insensitive match
		{`{"report":{"vulnerabilities":[{"ſeverity":"a"}]}}`, false},    // Unicode folding
		{`{"report":{"vulnerabilities":[{"İd":"a"}]}}`, false},
		{`{"report":{"vulnerabilities":[{"idx":"a","new":null,"dev":null}]}}`, true},
		{`{"report":{"vulnerabilities":[{"dev":"true"}]}}`, false},
		{`{"report":{"vulnerabilities":{}}}`, false},
		{`{"report":{"vulnerabilities":[,]}}`, false},
		{`{"report":{"vulnerabilities":[{},]}}`, false},
		{`{"report":{"stages":["a",]}}`, false},
		{`{"report":{"stages":[]}}`, true},
		{`{"a":1,}`, false},
		{`{"a":01}`, false},
		{`{"a":-}`, false},
		{`{"a":1.}`, false},
		{`{"a":.5}`, false},
		{`{"a":1e}`, false},
		{`{"a":tru}`, false},
		{`{"a":truex}`, false},
		{`{"a":"\x"}`, false},
		{`{"a":"\'"}`, false},
		{"{\"a\":\"\t\"}", false},
		{`{"a":"\u12"}`, false},
		{"\ufeff{}", false},
		{`{} {}`, false},
		{`{}x`, false},
		{`[]`, false},
		{`"x"`, false},
		{``, false},
		{`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, false},
		{`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, true},
	} {
		got := compareDecoders(t, []byte(tt.in))
		if got != tt.fast {
			t.Errorf("decodeInput(%q) fast path = %v, want %v", tt.in, got, tt.fast)
		}
	}
}

// TestEvaluateFallback checks that Evaluate still decodes what the fast path
// leaves to json.Unmarshal, and still reports its errors.
func TestEvaluateFallback(t *testing.T) {
	f := func(in Input) Decision {
		var d Decision
		for _, v := range in.Report.Vulnerabilities {
			d.Denyf("%s", v.ID)
		}
		return d
	}
	out, err := Evaluate(f, []byte(`{"apiVersion":"shipgate.dev/v1","report":{"Vulnerabilities":[{"ID":"CVE-1"}]}}`))
	if err != nil || string(out) != `{"deny":[{"message":"CVE-1"}],"warn":[]}` {
		t.Errorf("Evaluate = %s, %v", out, err)
	}
	if _, err := Evaluate(f, []byte(`{"apiVersion":"shipgate.dev/v1","report":{"vulnerabilities":[{"id":1}]}}`)); err == nil ||
		!strings.HasPrefix(err.Error(), "decode input: json: cannot unmarshal number") {
		t.Errorf("type error: %v", err)
	}
}

func FuzzDecodeInput(f *testing.F) {
	for name, data := range fixtures(f) {
		if name != "big" {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"report":{"image":{"labels":{"a":"b","a":null}},"findings":[null,{"location":{"line":-12}}]}}`))
	f.Add([]byte(`{"policy":{"name":"\ud83d\ude00\ud800","params":[1,-2.5e+3,true,false,null,"\/"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) { compareDecoders(t, data) })
}

func BenchmarkDecodeInput(b *testing.B) {
	data := wrap(bigReport(b, 5000), `{"severities":["CRITICAL","HIGH"]}`)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var in Input
			if !decodeInput(data, &in) {
				b.Fatal("fell back")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var in Input
			if err := json.Unmarshal(data, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodeCountBounded checks that the capacity estimate of an array is not
// fooled into an allocation much larger than the input.
func TestDecodeCountBounded(t *testing.T) {
	for _, data := range [][]byte{
		[]byte(`{"report":{"vulnerabilities":[{}` + strings.Repeat(",", 1<<20) + `]}}`),
		[]byte(`{"report":{"vulnerabilities":[` + strings.Repeat("1,", 1<<19) + `1]}}`),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var in Input
		if decodeInput(data, &in) {
			t.Fatal("decodeInput accepted an invalid array")
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 4*uint64(len(data)) {
			t.Errorf("decodeInput allocated %d bytes on a %d-byte input", n, len(data))
		}
	}
	for _, tt := range []struct {
		in   string
		want int
	}{
		{`1]`, 1},
		{`1, 2 ,"]", {"a":[1,2]}, [3,4]]`, 5},
		{`1,,,,]`, 1},
		{`"\"],", 2]`, 2},
		{`1, 2`, 2},
	} {
		d := decoder{data: []byte(tt.in)}
		if got := d.count(); got != tt.want {
			t.Errorf("count(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestDecodeFieldTables: the fast decoder's field lists name exactly the
// json fields of the SDK's types, so a field added to a type cannot be
// left empty by the fast path without this test failing.
func TestDecodeFieldTables(t *testing.T) {
	for _, tt := range []struct {
		typ    any
		fields []string
	}{
		{Input{}, inputFields}, {Policy{}, policyFields}, {Report{}, reportFields}, {Target{}, targetFields},
		{OS{}, osFields}, {Location{}, locationFields}, {Package{}, packageFields}, {Suppression{}, suppressionFields},
		{Vulnerability{}, vulnFields}, {Finding{}, findingFields}, {Image{}, imageFields},
	} {
		rt := reflect.TypeOf(tt.typ)
		var tags []string
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				tags = append(tags, name)
			}
		}
		if !slices.Equal(tags, tt.fields) {
			t.Errorf("%s: json fields %v, decoder table %v", rt.Name(), tags, tt.fields)
		}
	}
}
