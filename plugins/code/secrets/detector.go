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
func (g *Gitleaks) Detect(ctx context.Context, path, content string) []Match {
	fs := g.d.DetectContext(ctx, detect.Fragment{Raw: content, FilePath: path, StartLine: 1})
	out := make([]Match, 0, len(fs))
	for i := range fs {
		out = append(out, toMatch(&fs[i], content))
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

func toMatch(f *glreport.Finding, content string) Match {
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
	if line, ok := lineText(content, f.StartLine); ok {
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
	// Drop every copy of the secret gitleaks keeps.
	f.Redact(100)
	return m
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimRight(s[:i], "\r")
	}
	return s
}

// lineText returns the 1-based line n of content.
func lineText(content string, n int) (string, bool) {
	if n < 1 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := strings.IndexByte(content, '\n')
		if j < 0 {
			return "", false
		}
		content = content[j+1:]
	}
	if j := strings.IndexByte(content, '\n'); j >= 0 {
		content = content[:j]
	}
	return strings.TrimRight(content, "\r"), true
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
