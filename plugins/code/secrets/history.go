package secrets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// HistoryAnalyzer names findings from git history.
const HistoryAnalyzer = "secrets-history"

// maxHistoryLine bounds one diff line; longer lines (minified files) are
// skipped.
const maxHistoryLine = 1 << 20

// ScanGitHistory scans the lines added by the last n commits of the git
// work tree at root (`git log -p`) for secrets. A secret that was added and
// later removed is still in the repository's history, and still leaked.
// Findings point at the file and the line the commit added, and name the
// commit; their fingerprint is the same as a finding of the same secret in
// the working tree, so callers can drop duplicates.
func ScanGitHistory(ctx context.Context, root string, n int) ([]report.Finding, error) {
	if n <= 0 {
		return nil, nil
	}
	det, err := Default()
	if err != nil {
		return nil, fmt.Errorf("secrets detector: %w", err)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", root, "log", "-p", "-U0", "--no-color", "--no-renames", "--no-ext-diff", "-n", strconv.Itoa(n), "--format=commit %H")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	out, perr := parseHistory(ctx, stdout, det)
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return out, fmt.Errorf("git log in %s: %v: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	return out, perr
}

// hunk collects the lines one commit added to one file.
type hunk struct {
	commit, path string
	lines        []string
	numbers      []int
}

func parseHistory(ctx context.Context, r io.Reader, det Detector) ([]report.Finding, error) {
	var out []report.Finding
	cur := hunk{}
	next := 0
	seen := map[string]bool{}
	flush := func() {
		if cur.path == "" || len(cur.lines) == 0 {
			cur.lines, cur.numbers = nil, nil
			return
		}
		content := strings.Join(cur.lines, "\n")
		dedup := rules.Dedup{}
		for _, m := range det.Detect(ctx, cur.path, content) {
			if m.Line < 1 || m.Line > len(cur.numbers) {
				continue
			}
			if Ignored(cur.lines[m.Line-1]) {
				continue
			}
			f := FindingFor(m, HistoryAnalyzer, cur.path, dedup)
			if seen[f.Fingerprint] {
				continue // the same secret added again later: reported once
			}
			seen[f.Fingerprint] = true
			f.Location.Line = cur.numbers[m.Line-1]
			f.Message += fmt.Sprintf(" (added in commit %.12s)", cur.commit)
			f.ID += ":" + cur.commit[:min(12, len(cur.commit))]
			out = append(out, f)
		}
		cur.lines, cur.numbers = nil, nil
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		line, err := readDiffLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return out, err
		}
		switch {
		case strings.HasPrefix(line, "commit "):
			flush()
			cur.commit, cur.path = strings.TrimPrefix(line, "commit "), ""
		case strings.HasPrefix(line, "diff --git "):
			flush()
			cur.path = ""
		case strings.HasPrefix(line, "+++ "):
			p := strings.TrimPrefix(line, "+++ ")
			cur.path = ""
			if p != "/dev/null" {
				cur.path = strings.TrimPrefix(p, "b/")
			}
		case strings.HasPrefix(line, "@@ "):
			next = hunkStart(line)
		case strings.HasPrefix(line, "+") && cur.path != "":
			cur.lines = append(cur.lines, line[1:])
			cur.numbers = append(cur.numbers, next)
			next++
		}
		if errors.Is(err, io.EOF) {
			flush()
			return out, nil
		}
	}
}

// hunkStart reads c from "@@ -a,b +c,d @@".
func hunkStart(h string) int {
	i := strings.Index(h, " +")
	if i < 0 {
		return 0
	}
	s := h[i+2:]
	if j := strings.IndexAny(s, ", "); j >= 0 {
		s = s[:j]
	}
	n, _ := strconv.Atoi(s)
	return n
}

// readDiffLine reads one line; an over-long line is returned empty.
func readDiffLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	long := false
	for {
		chunk, isPrefix, err := br.ReadLine()
		if !long {
			sb.Write(chunk)
			if sb.Len() > maxHistoryLine {
				long = true
				sb.Reset()
			}
		}
		if err != nil || !isPrefix {
			return sb.String(), err
		}
	}
}
