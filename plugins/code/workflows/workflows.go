// Package workflows checks CI configuration: GitHub Actions workflows and
// GitLab CI files.
//
// GitHub Actions (.github/workflows/*.yml and *.yaml): the workflow is
// parsed with github.com/rhysd/actionlint v1.7.12 (actionlint.Parse gives a
// tree with 1-based line:column positions), and actionlint's own
// `expression` rule, run as a library with every other rule disabled and no
// external commands, finds untrusted `${{ }}` contexts in `run:` and in
// actions/github-script's `script:` (gha-template-injection). Our rules on
// the tree, with zizmor's audit list as the checklist:
//   - gha-dangerous-trigger-checkout: pull_request_target or workflow_run and
//     an actions/checkout of the head (ref from github.event.pull_request.head,
//     github.head_ref, github.event.workflow_run.head_*, refs/pull/...);
//   - gha-unpinned-uses: every `uses:` (steps and reusable workflows) not
//     pinned to a 40-hex commit SHA; MEDIUM for third-party actions, LOW for
//     actions/* and github/* (first-party, but tags still move); local
//     `./` actions and docker:// images pinned by digest are fine;
//   - gha-excessive-permissions: `permissions: write-all` (MEDIUM), or no
//     workflow-level permissions block while some job has none either (LOW,
//     one finding per workflow);
//   - gha-secrets-inherit; gha-secret-echo (echo/printf of ${{ secrets.X }});
//     gha-curl-pipe-shell (curl|sh in run:, from the shell syntax tree).
//
// GitLab CI (.gitlab-ci.yml and *.gitlab-ci.yml / *.gitlab-ci.yaml, e.g.
// included files and CI/CD components' templates; multi-document files with
// a spec: header are handled): gitlab-inputs-injection for `$[[ inputs.x ]]`
// inside script, before_script or after_script; gitlab-image-latest for
// job, default and top-level `image:` without a tag or with latest (and no
// digest; images built from variables are skipped); gitlab-curl-pipe-shell.
package workflows

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/internal/shell"
	"github.com/shipgate/shipgate/plugins/code/rules"
	"github.com/shipgate/shipgate/plugins/code/secrets"
)

// Name is the analyzer's id.
const Name = "ci-workflows"

// MaxSize is the largest CI file analysed (bytes).
const MaxSize = 4 << 20

// Analyzer checks GitHub Actions workflows and GitLab CI files.
type Analyzer struct{}

// New returns the CI workflow analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageCode }

// FileRequired claims .github/workflows/*.y(a)ml and GitLab CI files.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return isGitHub(path) || isGitLab(path)
}

func isGitHub(path string) bool {
	dir, base := plugins.Dir(path), path[strings.LastIndexByte(path, '/')+1:]
	if !(dir == ".github/workflows" || strings.HasSuffix(dir, "/.github/workflows")) {
		return false
	}
	return strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")
}

func isGitLab(path string) bool {
	base := path[strings.LastIndexByte(path, '/')+1:]
	return base == ".gitlab-ci.yml" || strings.HasSuffix(base, ".gitlab-ci.yml") || strings.HasSuffix(base, ".gitlab-ci.yaml")
}

type check struct {
	path  string
	lines []string
	dedup rules.Dedup
	out   []report.Finding
}

func (c *check) add(id string, sev string, line, col int, msg, snippet, stable string) {
	f := ruleIndex[id].Finding(Name, c.path, line, col, msg, snippet, c.dedup.Key(id, stable))
	if sev != "" {
		f.Severity = sev
	}
	c.out = append(c.out, f)
}

// Analyze implements plugins.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(MaxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if len(data) > MaxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d bytes", MaxSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if secrets.IsBinary(data) {
		return nil, plugins.Errorf(in.Path, 0, "binary content, not YAML")
	}
	c := &check{path: in.Path, lines: splitLines(string(data)), dedup: rules.Dedup{}}
	res := &plugins.Result{}
	if isGitLab(in.Path) && !isGitHub(in.Path) {
		res.Errors, err = c.gitlab(ctx, data)
	} else {
		res.Errors, err = c.github(ctx, data)
	}
	res.Findings = c.out
	if err != nil {
		return res, err
	}
	return res, nil
}

func splitLines(s string) []string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// scriptPos maps a byte offset inside a YAML scalar's value to a 1-based
// file line and column. line:col is where the scalar starts (for a block
// scalar, its | or > indicator); quoted tells whether it opens with a quote.
func (c *check) scriptPos(line, col int, quoted bool, value string, off int) (int, int) {
	off = min(max(off, 0), len(value))
	k := strings.Count(value[:off], "\n")
	inLine := off - (strings.LastIndexByte(value[:off], '\n') + 1)
	block := false
	if line >= 1 && line <= len(c.lines) && col >= 1 && col <= len(c.lines[line-1]) {
		ch := c.lines[line-1][col-1]
		block = ch == '|' || ch == '>'
	}
	if block {
		indent := 0
		for l := line; l < len(c.lines); l++ { // c.lines[l] is file line l+1
			if t := strings.TrimSpace(c.lines[l]); t != "" {
				indent = len(c.lines[l]) - len(strings.TrimLeft(c.lines[l], " \t"))
				break
			}
		}
		return line + 1 + k, indent + inLine + 1
	}
	if k == 0 {
		q := 0
		if quoted {
			q = 1
		}
		return line, col + q + inLine
	}
	// A multi-line flow scalar: approximate with the continuation line's
	// indentation.
	fl := line + k
	indent := 0
	if fl <= len(c.lines) {
		indent = len(c.lines[fl-1]) - len(strings.TrimLeft(c.lines[fl-1], " \t"))
	}
	return fl, indent + inLine + 1
}

// lineOffset converts a 1-based line:col of a script into a byte offset.
func lineOffset(script string, line, col int) int {
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(script[off:], '\n')
		if j < 0 {
			return len(script)
		}
		off += j + 1
	}
	return min(off+col-1, len(script))
}

// ---- GitHub Actions ----

var sha40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// headRef matches checkout refs that point at untrusted pull request code.
var headRef = regexp.MustCompile(`github\.event\.pull_request\.head\.(sha|ref)|github\.head_ref|github\.event\.workflow_run\.head_(sha|branch)|refs/pull/|github\.event\.workflow_run\.pull_requests`)

var secretExpr = regexp.MustCompile(`\$\{\{\s*secrets\.`)

func (c *check) github(ctx context.Context, data []byte) ([]report.FileError, error) {
	wf, perrs := actionlint.Parse(data)
	if wf == nil {
		line := 0
		msg := "invalid workflow"
		if len(perrs) > 0 {
			line, msg = perrs[0].Line, perrs[0].Message
		}
		return nil, &plugins.ParseError{Path: c.path, Line: line, Err: fmt.Errorf("parse workflow: %s", msg)}
	}
	c.injection(data)

	dangerous := ""
	for _, ev := range wf.On {
		if n := ev.EventName(); n == "pull_request_target" || n == "workflow_run" {
			dangerous = n
		}
	}
	ids := make([]string, 0, len(wf.Jobs))
	for id := range wf.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	// Permissions.
	c.writeAll(wf.Permissions, "workflow")
	if wf.Permissions == nil {
		for _, id := range ids {
			if j := wf.Jobs[id]; j != nil && j.Permissions == nil && j.ID != nil && j.ID.Pos != nil {
				c.add(RulePermissions, report.SeverityLow, j.ID.Pos.Line, j.ID.Pos.Col, "no permissions block: the workflow's jobs get the repository's default GITHUB_TOKEN permissions (job "+id+" declares none)", "permissions", "no-permissions")
				break
			}
		}
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		j := wf.Jobs[id]
		if j == nil {
			continue
		}
		c.writeAll(j.Permissions, "job "+id)
		if wc := j.WorkflowCall; wc != nil && wc.Uses != nil {
			c.uses(wc.Uses, id)
			if wc.InheritSecrets {
				c.add(RuleSecretsInherit, "", wc.Uses.Pos.Line, wc.Uses.Pos.Col, "job "+id+" passes every secret to "+wc.Uses.Value+" (secrets: inherit)", "secrets: inherit", id)
			}
		}
		for _, st := range j.Steps {
			if st == nil {
				continue
			}
			switch ex := st.Exec.(type) {
			case *actionlint.ExecAction:
				if ex.Uses == nil {
					continue
				}
				c.uses(ex.Uses, id)
				if dangerous != "" && strings.HasPrefix(strings.ToLower(ex.Uses.Value), "actions/checkout@") {
					if ref, ok := ex.Inputs["ref"]; ok && ref.Value != nil && headRef.MatchString(ref.Value.Value) {
						p := ref.Value.Pos
						c.add(RuleDangerousTrig, "", p.Line, p.Col, fmt.Sprintf("%s workflow checks out the pull request head (%s) in job %s", dangerous, ref.Value.Value, id), "ref: "+ref.Value.Value, id+"|"+ref.Value.Value)
					}
				}
			case *actionlint.ExecRun:
				if ex.Run != nil && ex.Run.Pos != nil {
					shellName := ""
					if ex.Shell != nil {
						shellName = ex.Shell.Value
					}
					c.runScript(ex.Run, shellName, id)
				}
			}
		}
	}
	return nil, nil
}

// injection runs actionlint's expression rule and keeps its untrusted-input
// reports (run: scripts and github-script's script:).
func (c *check) injection(data []byte) {
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		WorkingDir: "/",
		OnRulesCreated: func(rs []actionlint.Rule) []actionlint.Rule {
			var keep []actionlint.Rule
			for _, r := range rs {
				if r.Name() == "expression" {
					keep = append(keep, r)
				}
			}
			return keep
		},
	})
	if err != nil {
		return
	}
	errs, err := l.Lint("<stdin>", data, nil)
	if err != nil {
		return
	}
	used := map[[2]int]bool{}
	for _, e := range errs {
		if e.Kind != "expression" || !strings.Contains(e.Message, "potentially untrusted") {
			continue
		}
		e.Line, e.Column = c.untrustedPos(e.Line, e.Column, e.Message, used)
		msg := e.Message
		if i := strings.Index(msg, ". avoid"); i > 0 {
			msg = msg[:i]
		}
		snippet := ""
		if e.Line >= 1 && e.Line <= len(c.lines) {
			snippet = strings.TrimSpace(c.lines[e.Line-1])
		}
		c.add(RuleInjection, "", e.Line, e.Column, msg+": pass it through env: instead", snippet, msg+"|"+snippet)
	}
}

var quotedPath = regexp.MustCompile(`^"([^"]+)"`)

// untrustedPos corrects actionlint's position of an untrusted expression.
// actionlint adds the expression's offset in the script to the position of
// the scalar, which is exact for one-line scalars but points at the `|`
// line for block scalars. We look for the reported context path inside a
// ${{ }} on that line or the lines below (each occurrence used once).
func (c *check) untrustedPos(line, col int, msg string, used map[[2]int]bool) (int, int) {
	m := quotedPath.FindStringSubmatch(msg)
	if m == nil {
		return line, col
	}
	path := m[1]
	for l := max(line, 1); l <= len(c.lines) && l < line+1000; l++ {
		text := c.lines[l-1]
		from := 0
		for {
			i := strings.Index(text[from:], path)
			if i < 0 {
				break
			}
			idx := from + i
			from = idx + len(path)
			if used[[2]int{l, idx}] || !strings.Contains(text[:idx], "${{") {
				continue
			}
			used[[2]int{l, idx}] = true
			return l, idx + 1
		}
	}
	return line, col
}

func (c *check) writeAll(p *actionlint.Permissions, where string) {
	if p == nil || p.All == nil || p.All.Value != "write-all" {
		return
	}
	c.add(RulePermissions, "", p.All.Pos.Line, p.All.Pos.Col, where+" grants permissions: write-all", "permissions: write-all", where)
}

func (c *check) uses(u *actionlint.String, job string) {
	v := u.Value
	if strings.HasPrefix(v, "./") || v == "" || actionlint.ContainsExpression(v) {
		return
	}
	if strings.HasPrefix(v, "docker://") {
		if !strings.Contains(v, "@sha256:") {
			c.add(RuleUnpinned, report.SeverityMedium, u.Pos.Line, u.Pos.Col, "docker image "+v+" is not pinned by digest", "uses: "+v, job+"|"+v)
		}
		return
	}
	i := strings.LastIndexByte(v, '@')
	ref := ""
	if i >= 0 {
		ref = v[i+1:]
	}
	if sha40.MatchString(ref) {
		return
	}
	owner := strings.ToLower(strings.SplitN(v, "/", 2)[0])
	sev := report.SeverityMedium
	if owner == "actions" || owner == "github" {
		sev = report.SeverityLow
	}
	what := "@" + ref
	if ref == "" {
		what = "without a ref"
	}
	c.add(RuleUnpinned, sev, u.Pos.Line, u.Pos.Col, fmt.Sprintf("%s is used %s, not a commit SHA", v, what), "uses: "+v, job+"|"+v)
}

// nonPOSIX shells whose scripts are not parsed.
var nonPOSIX = map[string]bool{"pwsh": true, "powershell": true, "cmd": true, "python": true}

func (c *check) runScript(run *actionlint.String, shellName, job string) {
	if nonPOSIX[strings.Fields(shellName + " x")[0]] {
		return
	}
	script := run.Value
	sc, err := shell.Parse(shell.MaskExpressions(script))
	if err != nil {
		return // not parseable as shell: shell rules cannot judge it
	}
	for _, p := range sc.DownloadPipes() {
		l, col := c.scriptPos(run.Pos.Line, run.Pos.Col, run.Quoted, script, lineOffset(script, p.Line, p.Col))
		c.add(RuleCurlPipe, "", l, col, fmt.Sprintf("%s output is piped into %s in job %s", p.Downloader, p.Shell, job), p.Downloader+" | "+p.Shell, job+"|"+p.Downloader+"|"+p.Shell)
	}
	for _, call := range sc.Calls() {
		if call.Name != "echo" && call.Name != "printf" && call.Name != "print" {
			continue
		}
		start := lineOffset(script, call.Line, 1)
		end := strings.IndexByte(script[start:], '\n')
		if end < 0 {
			end = len(script) - start
		}
		line := script[start : start+end]
		if loc := secretExpr.FindStringIndex(line); loc != nil {
			l, col := c.scriptPos(run.Pos.Line, run.Pos.Col, run.Quoted, script, start+loc[0])
			expr := line[loc[0]:]
			if k := strings.Index(expr, "}}"); k >= 0 {
				expr = expr[:k+2]
			}
			c.add(RuleSecretEcho, "", l, col, fmt.Sprintf("%s prints %s to the log in job %s", call.Name, expr, job), call.Name+" "+expr, job+"|"+expr)
		}
	}
}
