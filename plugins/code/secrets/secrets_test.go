package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

type want struct {
	rule       string
	line, col  int
	severity   string
	suppressed string // "" when not suppressed
	prefix     string // first 4 characters shown
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		file string
		want []want
	}{
		{"app.env", []want{
			{"aws-access-token", 2, 19, report.SeverityCritical, "", "AKIA"},
			{"github-pat", 3, 14, report.SeverityHigh, "", "ghp_"},
			{"slack-bot-token", 4, 17, report.SeverityHigh, "", "xoxb"},
			{"stripe-access-token", 5, 12, report.SeverityHigh, "", "sk_l"},
			{"gitlab-pat", 6, 14, report.SeverityHigh, "", "glpa"},
		}},
		{"id_rsa.pem", []want{{"private-key", 1, 1, report.SeverityCritical, "", "----"}}},
		// config.py: six look-alikes give nothing; one inline-ignored secret.
		{"config.py", []want{
			{"stripe-access-token", 13, 11, report.SeverityHigh, "inline", "sk_l"},
			{"github-pat", 15, 24, report.SeverityHigh, "", "ghp_"},
		}},
		// BOM and CRLF: positions as an editor shows them.
		{"crlf.txt", []want{{"github-pat", 2, 6, report.SeverityHigh, "", "ghp_"}}},
		{"fixtures/leak.env", []want{
			{"aws-access-token", 2, 19, report.SeverityCritical, SuppressionAllowlist, "AKIA"},
			{"github-pat", 3, 14, report.SeverityHigh, SuppressionAllowlist, "ghp_"},
			{"slack-bot-token", 4, 17, report.SeverityHigh, SuppressionAllowlist, "xoxb"},
			{"stripe-access-token", 5, 12, report.SeverityHigh, SuppressionAllowlist, "sk_l"},
			{"gitlab-pat", 6, 14, report.SeverityHigh, SuppressionAllowlist, "glpa"},
		}},
	}
	a := New()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := plugintest.Analyze(t, a, "testdata", tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]report.Finding{}
			for _, f := range res.Findings {
				got[f.Rule] = f
			}
			if len(res.Findings) != len(tt.want) {
				t.Errorf("got %d findings, want %d: %v", len(res.Findings), len(tt.want), rulesOf(res.Findings))
			}
			for _, w := range tt.want {
				f, ok := got[w.rule]
				if !ok {
					t.Errorf("missing %s", w.rule)
					continue
				}
				if f.Location.Line != w.line || f.Location.Column != w.col || f.Severity != w.severity {
					t.Errorf("%s at %d:%d %s, want %d:%d %s", w.rule, f.Location.Line, f.Location.Column, f.Severity, w.line, w.col, w.severity)
				}
				sup := ""
				if f.Suppressed != nil {
					sup = f.Suppressed.Kind
				}
				if sup != w.suppressed {
					t.Errorf("%s suppressed %q, want %q", w.rule, sup, w.suppressed)
				}
				if f.Kind != report.KindSecret || f.CWEs[0] != CWE || f.Analyzer != Name || len(f.Fingerprint) != 64 || f.Location.Path != tt.file {
					t.Errorf("%s: bad metadata %+v", w.rule, f)
				}
				if !regexp.MustCompile(`^` + regexp.QuoteMeta(w.prefix) + `… \(\d+ chars\)$`).MatchString(f.Snippet) {
					t.Errorf("%s: snippet %q not redacted as expected", w.rule, f.Snippet)
				}
			}
		})
	}
}

func rulesOf(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s@%d", f.Rule, f.Location.Line))
	}
	return out
}

// TestNoSecretInOutput marshals every finding to JSON and checks that no
// planted secret (taken from the fixtures) appears in it, in full or in
// part beyond the 4-character prefix.
func TestNoSecretInOutput(t *testing.T) {
	secretRe := regexp.MustCompile(`(AKIA[A-Z2-7]{16}|ghp_[A-Za-z0-9]{36}|xoxb-[0-9-]+-[A-Za-z0-9]{24}|sk_live_[A-Za-z0-9]{24}|glpat-[\w-]{20}|[A-Za-z0-9+/]{64})`)
	a := New()
	for _, file := range []string{"app.env", "id_rsa.pem", "config.py", "crlf.txt", "fixtures/leak.env"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		secrets := secretRe.FindAllString(string(data), -1)
		if len(secrets) == 0 {
			t.Fatalf("%s: no planted secret found by the test's own pattern", file)
		}
		res, err := plugintest.Analyze(t, a, "testdata", file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			for _, part := range []string{s, s[4:], s[len(s)-8:]} {
				if bytes.Contains(out, []byte(part)) {
					t.Errorf("%s: output contains (part of) a secret: %s", file, Redact(s))
				}
			}
		}
	}
}

// TestFingerprintSurvivesLineMove moves a secret down by three lines.
func TestFingerprintSurvivesLineMove(t *testing.T) {
	data, err := os.ReadFile("testdata/app.env")
	if err != nil {
		t.Fatal(err)
	}
	moved := append([]byte("# one\n# two\n# three\n"), data...)
	a := New()
	r1, err := plugintest.AnalyzeBytes(a, "app.env", data)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := plugintest.AnalyzeBytes(a, "app.env", moved)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Findings) == 0 || len(r1.Findings) != len(r2.Findings) {
		t.Fatalf("findings %d vs %d", len(r1.Findings), len(r2.Findings))
	}
	for i := range r1.Findings {
		f1, f2 := r1.Findings[i], r2.Findings[i]
		if f1.Fingerprint != f2.Fingerprint || f2.Location.Line != f1.Location.Line+3 {
			t.Errorf("%s: fingerprint %s vs %s, lines %d vs %d", f1.Rule, f1.Fingerprint, f2.Fingerprint, f1.Location.Line, f2.Location.Line)
		}
	}
	// Another path gives another fingerprint.
	r3, _ := plugintest.AnalyzeBytes(a, "other.env", data)
	if r3.Findings[0].Fingerprint == r1.Findings[0].Fingerprint {
		t.Error("fingerprint does not depend on the path")
	}
}

func TestBinaryAndSize(t *testing.T) {
	data, _ := os.ReadFile("testdata/app.env")
	bin := append([]byte("\x7fELF\x00\x00"), data...)
	res, err := plugintest.AnalyzeBytes(New(), "blob", bin)
	if err != nil || len(res.Findings) != 0 {
		t.Errorf("binary file: %v findings, err %v", len(res.Findings), err)
	}
	small := NewWith(nil, Options{MaxSize: 16})
	res, err = plugintest.AnalyzeBytes(small, "app.env", data)
	if err != nil || len(res.Findings) != 0 || len(res.Errors) != 1 {
		t.Errorf("over the cap: %d findings, %v errors, err %v", len(res.Findings), res.Errors, err)
	}
}

func TestFileRequired(t *testing.T) {
	a := New()
	tests := []struct {
		path string
		size int64
		want bool
	}{
		{".env", 10, true},
		{"src/config.py", 10, true},
		{"vendor/example.com/x/key.go", 10, true},
		{"package-lock.json", 10, false},
		{"sub/go.sum", 10, false},
		{"yarn.lock", 10, false},
		{"Cargo.lock", 10, false},
		{"poetry.lock", 10, false},
		{"web/node_modules/x/index.js", 10, false},
		{".git/config", 10, false},
		{"img/logo.PNG", 10, false},
		{"big.txt", DefaultMaxSize + 1, false},
		{"empty.txt", 0, false},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{"f": &fstest.MapFile{Data: make([]byte, 0), Mode: 0o644, ModTime: time.Unix(0, 0)}}
		info, _ := fs.Stat(fsys, "f")
		if got := a.FileRequired(tt.path, sizedInfo{info, tt.size}); got != tt.want {
			t.Errorf("FileRequired(%s, %d) = %v, want %v", tt.path, tt.size, got, tt.want)
		}
	}
}

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"AKIAABCDEFGHIJKLMNOP": "AKIA… (20 chars)",
		"short":                "… (5 chars)",
		"":                     "… (0 chars)",
		"héllo-wörld-123":      "héll… (15 chars)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	rs := Rules()
	if len(rs) < 200 {
		t.Fatalf("%d rules", len(rs))
	}
	for _, r := range rs {
		if r.ID == "private-key" && r.Severity != report.SeverityCritical {
			t.Error("private-key is not CRITICAL")
		}
		if len(r.CWEs) != 1 || r.Title == "" {
			t.Errorf("rule %s: %+v", r.ID, r)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "config.env")
}

// BenchmarkSecrets scans a generated tree of 500 source-like files
// (~4 KB each, one planted secret in every tenth).
func BenchmarkSecrets(b *testing.B) {
	files := generateTree(500)
	a := New()
	if _, err := Default(); err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, d := range files {
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for i, d := range files {
			res, err := a.Analyze(context.Background(), &plugins.Input{Path: fmt.Sprintf("src/f%d.go", i), Reader: bytes.NewReader(d)})
			if err != nil {
				b.Fatal(err)
			}
			n += len(res.Findings)
		}
		if n < len(files)/10 {
			b.Fatalf("%d findings", n)
		}
	}
}

func generateTree(n int) [][]byte {
	var out [][]byte
	for i := range n {
		var sb strings.Builder
		sb.WriteString("package main\n\nimport \"fmt\"\n\n")
		for j := 0; sb.Len() < 4000; j++ {
			fmt.Fprintf(&sb, "// handler%d processes request %d with the token from the config.\nfunc handler%d(key string) error {\n\treturn fmt.Errorf(\"bad key %%q for id %d\", key)\n}\n\n", j, j, j, i*j)
		}
		if i%10 == 0 {
			fmt.Fprintf(&sb, "var token = \"ghp_%s\"\n", pseudoRandom(i, 36))
		}
		out = append(out, []byte(sb.String()))
	}
	return out
}

// pseudoRandom returns n deterministic alphanumeric characters.
func pseudoRandom(seed, n int) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	x := uint32(seed*2654435761 + 1)
	b := make([]byte, n)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = alpha[x%uint32(len(alpha))]
	}
	return string(b)
}

// TestPublicFingerprint: a GPG key name holding a fingerprint is public
// data (allowlisted, still listed); the same value under a credential name
// is a finding.
func TestPublicFingerprint(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "gpg.env")
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, f := range res.Findings {
		kind := "finding"
		if f.Suppressed != nil {
			kind = f.Suppressed.Kind
		}
		got[f.Location.Line] = f.Rule + " " + kind
	}
	want := map[int]string{2: "generic-api-key allowlist", 3: "generic-api-key allowlist", 4: "generic-api-key finding"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings = %v, want %v", got, want)
	}
}

func TestLineIndex(t *testing.T) {
	content := "a\r\nbc\n\nlast"
	var x lineIndex
	for n, want := range map[int]string{1: "a", 2: "bc", 3: "", 4: "last"} {
		if got, ok := x.line(content, n); !ok || got != want {
			t.Errorf("line %d = %q %v, want %q", n, got, ok, want)
		}
	}
	for _, n := range []int{0, 5, -1} {
		if _, ok := x.line(content, n); ok {
			t.Errorf("line %d exists", n)
		}
	}
	var y lineIndex
	if got, ok := y.line("x\n", 2); !ok || got != "" {
		t.Errorf("empty last line = %q %v", got, ok)
	}
}

// TestLongLine: a line longer than longLine is scanned in overlapping
// chunks; a secret in the first chunk, one cut by the first chunk's end
// (whole in the second) and one near the end are each found once, at the
// column (in characters) where they are, after multi-byte characters.
func TestLongLine(t *testing.T) {
	const pat = "ghp_TPSIAoCLrZ3aWZkSBvrjn9Wvgfygw2wMqZcU"
	var b strings.Builder
	want := map[int]bool{}
	runes := 0
	put := func(s string) {
		b.WriteString(s)
		runes += utf8.RuneCountInString(s)
	}
	plant := func() {
		put(" token=")
		want[runes+1] = true
		put(pat + " ")
	}
	put("é")
	plant()
	for b.Len() < longLine-30 {
		put("x = 1; é ")
	}
	plant()
	for b.Len() < 3*longLine {
		put("y = 2; ")
	}
	plant()
	content := "first line\n" + b.String() + "\nGITHUB_TOKEN=" + pat + "\n"
	if segs := segments(content, new(lineIndex)); len(segs) < 5 || !segs[1].chunk || segs[len(segs)-1].line != 3 {
		t.Fatalf("segments: %d", len(segs))
	}
	det, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, m := range det.Detect(context.Background(), "bundle.min.js", content) {
		if m.RuleID != "github-pat" {
			continue
		}
		switch m.Line {
		case 2:
			if got[m.Column] {
				t.Errorf("column %d reported twice", m.Column)
			}
			got[m.Column] = true
		case 3:
			if m.Column != 14 {
				t.Errorf("line 3 column %d", m.Column)
			}
		default:
			t.Errorf("line %d", m.Line)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("columns on the long line = %v, want %v", got, want)
	}
}

// TestSegmentsSameFindings: a file larger than blockSize, scanned in
// overlapping blocks, gives what gitleaks finds in it whole: planted
// secrets of several rules, a private key spanning a block boundary, and
// thousands of generic matches (each reported once).
func TestSegmentsSameFindings(t *testing.T) {
	key, err := os.ReadFile(filepath.Join("testdata", "id_rsa.pem"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(filepath.Join("testdata", "app.env"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; b.Len() < 3*blockSize; i++ {
		switch {
		case i%97 == 0:
			b.Write(env)
		case i%500 == 0:
			fmt.Fprintf(&b, "api_key%d = \"%x\"\n", i, sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
		default:
			fmt.Fprintf(&b, "line %d: nothing to see here, é\n", i)
		}
		if b.Len() > blockSize-200 && !strings.Contains(b.String(), "PRIVATE KEY") {
			b.Write(key)
		}
	}
	content := b.String()
	if len(segments(content, new(lineIndex))) < 3 {
		t.Fatalf("%d segments", len(segments(content, new(lineIndex))))
	}
	g, err := NewGitleaks()
	if err != nil {
		t.Fatal(err)
	}
	whole := map[string]int{}
	for _, f := range g.d.DetectContext(context.Background(), detect.Fragment{Raw: content, FilePath: "big.env", StartLine: 1}) {
		sum := sha256.Sum256([]byte(strings.TrimRight(f.Secret, "\r")))
		whole[fmt.Sprintf("%s:%d:%x", f.RuleID, f.StartLine, sum)]++
	}
	got := map[string]int{}
	for _, m := range g.Detect(context.Background(), "big.env", content) {
		got[fmt.Sprintf("%s:%d:%s", m.RuleID, m.Line, m.SHA256)]++
	}
	if !strings.Contains(fmt.Sprint(whole), "private-key:") {
		t.Fatal("the private key across the block boundary was not planted")
	}
	if len(whole) < 20 || fmt.Sprint(got) != fmt.Sprint(whole) {
		t.Errorf("segmented: %d findings, whole: %d\n%v\n%v", len(got), len(whole), got, whole)
	}
}

// TestLongLineSameFindings: a minified line of ~1,000 generic matches,
// scanned in chunks, gives the secrets gitleaks finds in it whole.
func TestLongLineSameFindings(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 3*longLine; i++ {
		fmt.Fprintf(&b, `var k%d={apiKey:"%x"};`, i, sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	content := b.String()
	g, err := NewGitleaks()
	if err != nil {
		t.Fatal(err)
	}
	whole := map[string]int{}
	for _, f := range g.d.DetectContext(context.Background(), detect.Fragment{Raw: content, FilePath: "app.min.js", StartLine: 1}) {
		sum := sha256.Sum256([]byte(f.Secret))
		whole[fmt.Sprintf("%s:%d:%x", f.RuleID, f.StartLine, sum)]++
	}
	got := map[string]int{}
	for _, m := range g.Detect(context.Background(), "app.min.js", content) {
		got[fmt.Sprintf("%s:%d:%s", m.RuleID, m.Line, m.SHA256)]++
	}
	if len(whole) < 500 || fmt.Sprint(got) != fmt.Sprint(whole) {
		t.Errorf("chunked: %d findings, whole: %d", len(got), len(whole))
		for k, n := range whole {
			if got[k] != n {
				t.Errorf("%s: %d, whole %d", k, got[k], n)
			}
		}
	}
}

// FuzzSegments checks the invariants of segments on content made large
// (the input repeated past blockSize): ordinary segments are runs of whole
// lines where they claim to start, every line is in some segment, and the
// chunks of a long line own it exactly once, start to end, with their
// character offsets right.
func FuzzSegments(f *testing.F) {
	f.Add("a = 1\n", 30000)
	f.Add(`x{apiKey:"0123456789abcdef"};`, 9000)
	f.Add("é\r\n"+strings.Repeat("y", 20000)+"\n", 10)
	f.Add("\n", 200000)
	f.Fuzz(func(t *testing.T, unit string, n int) {
		if unit == "" || n <= 0 || n > 1<<20 || len(unit)*n > 4<<20 {
			return
		}
		content := strings.Repeat(unit, n)
		var lines lineIndex
		covered := map[int]bool{}
		own := map[int]int{} // line -> end of the owned prefix so far
		for _, seg := range segments(content, new(lineIndex)) {
			l, ok := lines.line(content, seg.line)
			if !ok {
				t.Fatalf("segment at line %d of %d", seg.line, len(lines.starts))
			}
			start := lines.starts[seg.line-1]
			if seg.chunk {
				if seg.text != content[start+seg.off:start+seg.off+len(seg.text)] || utf8.RuneCountInString(l[:seg.off]) != seg.runeOff {
					t.Fatalf("chunk of line %d at %d: text or offsets wrong", seg.line, seg.off)
				}
				if seg.own != own[seg.line] || seg.ownEnd <= seg.own || seg.own < seg.off || seg.ownEnd > seg.off+len(seg.text) {
					t.Fatalf("chunk of line %d owns [%d,%d) after %d, text [%d,%d)", seg.line, seg.own, seg.ownEnd, own[seg.line], seg.off, seg.off+len(seg.text))
				}
				own[seg.line] = seg.ownEnd
				covered[seg.line] = true
				continue
			}
			if !strings.HasPrefix(content[start:], seg.text) {
				t.Fatalf("segment at line %d does not start there", seg.line)
			}
			for k := 0; k < strings.Count(strings.TrimSuffix(seg.text, "\n"), "\n")+1; k++ {
				covered[seg.line+k] = true
			}
		}
		for k := 1; k <= len(lines.starts); k++ {
			if !covered[k] && (k < len(lines.starts) || lines.starts[k-1] < len(content)) {
				t.Fatalf("line %d of %d is in no segment", k, len(lines.starts))
			}
		}
		for ln, end := range own {
			if l, _ := lines.line(content, ln); end != len(l) {
				t.Fatalf("line %d: chunks own up to %d of %d", ln, end, len(l))
			}
		}
	})
}

// TestChunkBoundarySweep places a one-line private key of ~4.5 KB (as in a
// minified JSON file) and a generic token at offsets sweeping across the
// first chunk boundary: each is found exactly once, where it is.
func TestChunkBoundarySweep(t *testing.T) {
	pem, err := os.ReadFile(filepath.Join("testdata", "id_rsa.pem"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(pem)), "\n")
	body := strings.Join(lines[1:len(lines)-1], `\n`)
	key := lines[0] + `\n` + strings.Repeat(body+`\n`, 12) + lines[len(lines)-1]
	if len(key) < chunkOverlap/2+1000 || len(key) > chunkOverlap-500 {
		t.Fatalf("key of %d bytes: want one longer than half the overlap", len(key))
	}
	const token = `"apiKey":"9f2c4e7a1b3d5f60a8c2e4b6d8f0a1c3"`
	g, err := NewGitleaks()
	if err != nil {
		t.Fatal(err)
	}
	for off := longLine - chunkOverlap - len(key) - 100; off < longLine+200; off += 211 {
		for _, planted := range []string{key, token} {
			content := strings.Repeat("x", off) + planted + strings.Repeat(";y", 2*longLine)
			if len(segments(content, new(lineIndex))) < 3 {
				t.Fatal("not chunked")
			}
			var cols []int
			for _, m := range g.Detect(context.Background(), "app.min.json", content) {
				cols = append(cols, m.Column)
			}
			want := off + 1
			if planted == token {
				want = off + strings.Index(token, "9f2c") + 1
			}
			if len(cols) != 1 || cols[0] != want {
				t.Fatalf("%.20s at %d: columns %v, want [%d]", planted, off, cols, want)
			}
		}
	}
}
