package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	glreport "github.com/zricethezav/gitleaks/v8/report"
)

// Match is one secret found by a Detector. It never holds the secret
// itself: only its redacted form, its length and its hash.
type Match struct {
	// RuleID is the detector's rule id, e.g. "aws-access-token".
	RuleID string
	// Description is the rule's description.
	Description string
	// Line and Column are 1-based and point at the secret itself (not at
	// the start of the surrounding match).
	Line, Column int
	// Redacted is Redact(secret).
	Redacted string
	// Length is the secret's length in characters.
	Length int
	// SHA256 is the hex sha256 of the secret.
	SHA256 string
}

// Detector finds secrets in text. It is our seam over gitleaks, so that
// another engine (betterleaks, its successor) can replace it.
// Implementations are safe for concurrent use.
type Detector interface {
	// Detect scans content, the text of the file at path (slash-separated;
	// used by path-based rules and allowlists, may be "").
	Detect(ctx context.Context, path, content string) []Match
	// RuleIDs lists the detector's rules with their descriptions.
	RuleIDs() map[string]string
}

// Gitleaks is the Detector backed by gitleaks' default configuration
// (github.com/zricethezav/gitleaks/v8, 222 rules in v8.30.1).
type Gitleaks struct {
	d *detect.Detector
}

// NewGitleaks builds the gitleaks detector with its default configuration.
// It compiles every rule's regular expression, so build it once and share
// it. It uses a private viper instance rather than gitleaks'
// NewDetectorDefaultConfig, which mutates viper's global state.
func NewGitleaks() (*Gitleaks, error) {
	vc, err := defaultViperConfig()
	if err != nil {
		return nil, err
	}
	return newGitleaks(vc)
}

// defaultViperConfig decodes gitleaks' default configuration (its rules,
// not yet compiled).
func defaultViperConfig() (config.ViperConfig, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return config.ViperConfig{}, fmt.Errorf("read gitleaks default config: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return config.ViperConfig{}, fmt.Errorf("decode gitleaks default config: %w", err)
	}
	return vc, nil
}

// newGitleaks compiles a decoded configuration into a detector.
func newGitleaks(vc config.ViperConfig) (*Gitleaks, error) {
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("translate gitleaks default config: %w", err)
	}
	d := detect.NewDetector(cfg)
	// We report gitleaks:allow lines as suppressed instead of dropping them.
	d.IgnoreGitleaksAllow = true
	d.MaxDecodeDepth = 0
	return &Gitleaks{d: d}, nil
}

// TextScanner finds secrets in short texts (an image's environment and
// history lines) without compiling all of gitleaks' rules: gitleaks runs a
// rule's expression only on text that contains one of the rule's keywords
// (lower-cased), so a detector made of just the rules whose keywords occur
// in a text finds exactly what the full one finds there. Detectors are
// built per set of rules and kept for the scanner's life; a text with no
// keyword of any rule needs none. It is safe for concurrent use.
type TextScanner struct {
	vc config.ViperConfig
	// keywords are each rule's keywords, lower-cased (by index in vc.Rules).
	keywords [][]string
	mu       sync.Mutex
	built    map[string]*Gitleaks
}

// NewTextScanner decodes gitleaks' default configuration (not compiling
// it).
func NewTextScanner() (*TextScanner, error) {
	vc, err := defaultViperConfig()
	if err != nil {
		return nil, err
	}
	keywords := make([][]string, len(vc.Rules))
	for i, r := range vc.Rules {
		for _, k := range r.Keywords {
			keywords[i] = append(keywords[i], strings.ToLower(k))
		}
	}
	return &TextScanner{vc: vc, keywords: keywords, built: map[string]*Gitleaks{}}, nil
}

// Detect scans text as Detector.Detect does with the whole rule set.
func (t *TextScanner) Detect(ctx context.Context, path, text string) ([]Match, error) {
	lower := strings.ToLower(text)
	need := map[string]bool{}
	var add func(id string)
	add = func(id string) {
		if need[id] {
			return
		}
		need[id] = true
		for _, r := range t.vc.Rules { // rules a kept rule requires
			if r.ID == id {
				for _, req := range r.Required {
					add(req.ID)
				}
			}
		}
	}
	for i, r := range t.vc.Rules {
		if len(t.keywords[i]) == 0 {
			add(r.ID) // no prefilter: always runs
			continue
		}
		for _, k := range t.keywords[i] {
			if strings.Contains(lower, k) {
				add(r.ID)
				break
			}
		}
	}
	ids := make([]string, 0, len(need))
	for id := range need {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	key := strings.Join(ids, "\x00")
	t.mu.Lock()
	g, ok := t.built[key]
	t.mu.Unlock()
	if !ok {
		vc := t.vc
		vc.Rules = t.vc.Rules[:0:0]
		for _, r := range t.vc.Rules {
			if need[r.ID] {
				vc.Rules = append(vc.Rules, r)
			}
		}
		var err error
		if g, err = newGitleaks(vc); err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.built[key] = g
		t.mu.Unlock()
	}
	return g.Detect(ctx, path, text), nil
}

// RuleIDs implements Detector.
func (g *Gitleaks) RuleIDs() map[string]string {
	m := make(map[string]string, len(g.d.Config.Rules))
	for id, r := range g.d.Config.Rules {
		m[id] = r.Description
	}
	return m
}

// Detect implements Detector.
//
// Line numbers: gitleaks numbers lines from Fragment.StartLine, so a
// fragment with StartLine 1 gives 1-based lines (as its file source does)
// while DetectString gives 0-based ones. Its StartColumn is the match's,
// and is one too high after the first line (it counts from the previous
// newline byte); we recompute the column of the secret itself from the line
// text.
//
// A line longer than longLine (a minified bundle) is scanned in overlapping
// chunks: gitleaks spends time proportional to the line on each finding
// (its generic rule's allowlists match the whole line), so one crafted line
// with thousands of matches would otherwise cost their product.
func (g *Gitleaks) Detect(ctx context.Context, path, content string) []Match {
	var lines lineIndex
	var out []Match
	segs := segments(content, &lines)
	var seen map[string]bool // findings of overlapping blocks, once
	if len(segs) > 1 {
		seen = map[string]bool{}
	}
	for _, seg := range segs {
		fs := g.d.DetectContext(ctx, detect.Fragment{Raw: seg.text, FilePath: path, StartLine: seg.line})
		for i := range fs {
			m, ok := toMatch(&fs[i], &lines, content, seg)
			if !ok {
				continue
			}
			if len(segs) > 1 && !seg.chunk {
				k := fmt.Sprintf("%s:%d:%d:%s", m.RuleID, m.Line, m.Column, m.SHA256)
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			out = append(out, m)
		}
	}
	// gitleaks iterates its rules in map order: sort for stable output.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.RuleID < b.RuleID
	})
	return out
}

// longLine is the length past which a line is scanned in chunks of this
// size, overlapping by chunkOverlap (longer than any one secret gitleaks
// matches on a line, a PEM private key included).
const (
	longLine     = 16 << 10
	chunkOverlap = 6 << 10
)

// blockSize bounds the ordinary lines handed to gitleaks at once; blocks
// overlap by the lines in their last blockOverlap bytes, so that a secret
// spanning lines (a private key) is whole in one of them. gitleaks compares
// every generic finding with every other finding of a call (its filter),
// so a crafted file of many short matching lines would otherwise cost the
// square of their number.
const (
	blockSize    = 128 << 10
	blockOverlap = 32 << 10
)

// segment is a piece of content handed to gitleaks: whole lines, or a chunk
// of one long line.
type segment struct {
	text string
	line int // 1-based number of its first line
	// chunk marks a piece of a long line starting off bytes (runeOff
	// characters) into it. Chunks overlap by chunkOverlap; a chunk keeps a
	// match whose secret starts in [own, ownEnd) of the line (the middles
	// of the overlaps) unless the match runs to the chunk's end, where the
	// cut may have shortened it; it also keeps one starting before own that
	// runs past prevEnd, the previous chunk's end, which that chunk could
	// not see whole. So a cut never creates a finding (a token cut short, a
	// word boundary that is not one) and loses none shorter than the
	// overlap.
	chunk        bool
	off, runeOff int
	own, ownEnd  int
	prevEnd      int
}

// segments splits content into blocks of ordinary lines and chunks of long
// ones; content of at most blockSize bytes without a long line is one
// segment. It finds the lines with lines, which the findings then reuse.
func segments(content string, lines *lineIndex) []segment {
	if len(content) <= longLine {
		return []segment{{text: content, line: 1}}
	}
	starts := lines.index(content)
	if n := len(starts); n > 1 && starts[n-1] == len(content) {
		starts = starts[:n-1] // the empty "line" after a final newline
	}
	// next is where line k's successor starts; end is where line k's text
	// ends (before its newline).
	next := func(k int) int {
		if k+1 < len(starts) {
			return starts[k+1]
		}
		return len(content)
	}
	end := func(k int) int {
		e := next(k)
		if e > starts[k] && content[e-1] == '\n' {
			e--
		}
		return e
	}
	var out []segment
	block := 0 // first line of the current block
	for k := range starts {
		if end(k)-starts[k] > longLine {
			if block < k {
				out = append(out, segment{text: content[starts[block]:starts[k]], line: block + 1})
			}
			out = append(out, chunks(content[starts[k]:end(k)], k+1)...)
			block = k + 1
			continue
		}
		if next(k)-starts[block] < blockSize || k+1 == len(starts) {
			continue
		}
		out = append(out, segment{text: content[starts[block]:next(k)], line: block + 1})
		// The next block repeats the lines of this one's last
		// blockOverlap bytes (at least one line is new).
		m := k + 1
		for m-1 > block && next(k)-starts[m-1] <= blockOverlap {
			m--
		}
		block = m
	}
	if block < len(starts) {
		if len(out) == 0 {
			return []segment{{text: content, line: 1}}
		}
		out = append(out, segment{text: content[starts[block]:], line: block + 1})
	}
	return out
}

// chunks cuts the long line l (number n) into overlapping chunks that start
// and end on UTF-8 character boundaries.
func chunks(l string, n int) []segment {
	var out []segment
	runes, own, prevEnd := 0, 0, 0
	for off := 0; ; {
		end := min(off+longLine, len(l))
		for end > off && end < len(l) && !utf8.RuneStart(l[end]) {
			end--
		}
		if end == off { // not UTF-8: cut anywhere
			end = min(off+longLine, len(l))
		}
		seg := segment{text: l[off:end], line: n, chunk: true, off: off, runeOff: runes, own: own, ownEnd: len(l), prevEnd: prevEnd}
		if end == len(l) {
			return append(out, seg)
		}
		prevEnd = end
		next := end - chunkOverlap
		for next > off && !utf8.RuneStart(l[next]) {
			next--
		}
		if next <= off {
			next = end
		}
		own = (next + end) / 2
		seg.ownEnd = own
		out = append(out, seg)
		runes += utf8.RuneCountInString(l[off:next])
		off = next
	}
}

// toMatch makes a Match of gitleaks' finding f in seg of content; false
// when seg is a chunk that does not own it.
func toMatch(f *glreport.Finding, lines *lineIndex, content string, seg segment) (Match, bool) {
	secret := strings.TrimRight(f.Secret, "\r")
	sum := sha256.Sum256([]byte(secret))
	m := Match{
		RuleID:      f.RuleID,
		Description: f.Description,
		Line:        f.StartLine,
		Column:      f.StartColumn,
		Redacted:    Redact(secret),
		Length:      utf8.RuneCountInString(secret),
		SHA256:      hex.EncodeToString(sum[:]),
	}
	if seg.chunk {
		// Within the chunk, from where gitleaks' match starts: searching
		// the whole line for each finding is what chunking avoids.
		from := min(max(f.StartColumn-1, 0), len(seg.text))
		i := strings.Index(seg.text[from:], firstLine(secret))
		if i < 0 {
			from, i = 0, strings.Index(seg.text, firstLine(secret))
		}
		start, end := seg.off+from+i, seg.off+f.EndColumn // in the line
		last := seg.ownEnd == seg.off+len(seg.text)
		keep := i >= 0 && (start >= seg.own && start < seg.ownEnd && (last || f.EndColumn < len(seg.text)) ||
			start < seg.own && end > seg.prevEnd)
		if !keep {
			f.Secret, f.Match, f.Line = "", "", ""
			return Match{}, false
		}
		m.Column = seg.runeOff + utf8.RuneCountInString(seg.text[:from+i]) + 1
	} else if line, ok := lines.line(content, f.StartLine); ok {
		if i := strings.Index(line, firstLine(secret)); i >= 0 {
			m.Column = utf8.RuneCountInString(line[:i]) + 1
		}
	}
	if m.Line < 1 {
		m.Line = 1
	}
	if m.Column < 1 {
		m.Column = 1
	}
	// Drop every copy of the secret gitleaks keeps (without rewriting
	// the line, which costs its length per finding).
	f.Secret, f.Match, f.Line = "", "", ""
	return m, true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimRight(s[:i], "\r")
	}
	return s
}

// lineIndex finds lines of one content by number, in constant time once
// built (on first use): a file with thousands of matches must not be
// scanned from its start for each.
type lineIndex struct {
	starts []int // byte offset of each line
}

// index returns the byte offset of each line of content, building it on
// first use (an empty last line follows a final newline).
func (x *lineIndex) index(content string) []int {
	if x.starts == nil {
		x.starts = append(x.starts, 0)
		for i := 0; ; {
			j := strings.IndexByte(content[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			x.starts = append(x.starts, i)
		}
	}
	return x.starts
}

// line returns the 1-based line n of content, without its line ending.
func (x *lineIndex) line(content string, n int) (string, bool) {
	x.index(content)
	if n < 1 || n > len(x.starts) {
		return "", false
	}
	end := len(content)
	if n < len(x.starts) {
		end = x.starts[n] - 1
	}
	return strings.TrimRight(content[x.starts[n-1]:end], "\r"), true
}

// Redact returns the first 4 characters of s, an ellipsis and s's length,
// e.g. "AKIA… (20 chars)". Secrets of 8 characters or fewer show no
// characters at all ("… (6 chars)"), since 4 of them would be half the
// secret.
func Redact(s string) string {
	n := utf8.RuneCountInString(s)
	prefix := ""
	if n > 8 {
		r := []rune(s)
		prefix = string(r[:4])
	}
	return fmt.Sprintf("%s… (%d chars)", prefix, n)
}
