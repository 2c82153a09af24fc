// Package dockerfile checks Dockerfiles and Containerfiles for insecure
// configuration.
//
// Parsing: github.com/moby/buildkit v0.34.2 frontend/dockerfile/parser
// (the Dockerfile syntax of BuildKit's dockerfile frontend 1.x, heredocs
// included) and its instructions package; RUN commands (shell form, the
// `sh -c` exec form and heredoc bodies) are parsed with mvdan.cc/sh/v3, so a
// rule never fires on text inside a quoted string or a comment. We do not use
// dockerfile2llb's linter: it contacts image registries.
//
// Rules (see Rules for the metadata; hadolint DLxxxx and trivy DSxxx ids are
// in each finding's References):
//   - dockerfile-user-root: the final stage has no USER or its last USER is
//     root/0 (a USER inherited from an earlier stage it is built FROM counts);
//   - dockerfile-add-url: ADD of an http(s) or git URL without --checksum;
//   - dockerfile-curl-pipe-shell: curl/wget output piped into sh/bash/...;
//   - dockerfile-image-latest: base image untagged or tagged latest, and
//     dockerfile-image-not-pinned-digest (LOW) for a tag without @sha256.
//     `scratch`, earlier stage names and unresolvable ${VAR} bases are
//     skipped; ARGs declared before the first FROM are expanded;
//   - dockerfile-secret-in-env: ENV/ARG with a credential-like name and a
//     literal value, or a value the secrets detector recognises (redacted);
//   - dockerfile-sudo, dockerfile-expose-ssh;
//   - dockerfile-package-cache (LOW): apt-get/apt install without removing
//     /var/lib/apt/lists, apk add without --no-cache, pip install without
//     --no-cache-dir, unless the RUN uses a cache mount;
//   - dockerfile-no-healthcheck (LOW): the final stage has no HEALTHCHECK.
//
// Files claimed: Dockerfile, Containerfile, *.dockerfile, Dockerfile.* and
// Containerfile.* (any case of the extension part).
package dockerfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/internal/shell"
	"github.com/shipgate/shipgate/plugins/code/rules"
	"github.com/shipgate/shipgate/plugins/code/secrets"
)

// Name is the analyzer's id.
const Name = "dockerfile"

// MaxSize is the largest Dockerfile analysed (bytes).
const MaxSize = 4 << 20

// Analyzer checks Dockerfiles.
type Analyzer struct {
	det func() (secrets.Detector, error)
}

// New returns the Dockerfile analyzer using the default secrets detector.
func New() *Analyzer { return &Analyzer{det: secrets.Default} }

// NewWith returns the analyzer using det to recognise secrets in ENV and ARG
// values (nil: names only).
func NewWith(det secrets.Detector) *Analyzer {
	return &Analyzer{det: func() (secrets.Detector, error) {
		if det == nil {
			return nil, errors.New("no detector")
		}
		return det, nil
	}}
}

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageCode }

// FileRequired claims Dockerfile, Containerfile, *.dockerfile,
// Dockerfile.* and Containerfile.*.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	base := strings.ToLower(path[strings.LastIndexByte(path, '/')+1:])
	switch {
	case base == "dockerfile", base == "containerfile":
		return true
	case strings.HasSuffix(base, ".dockerfile"), strings.HasSuffix(base, ".containerfile"):
		return true
	case strings.HasPrefix(base, "dockerfile."), strings.HasPrefix(base, "containerfile."):
		// Dockerfile.prod is a Dockerfile; dockerfile.go, Dockerfile.md
		// and Dockerfile.dockerignore are not.
		return !notDockerfileExt[base[strings.LastIndexByte(base, '.')+1:]]
	}
	return false
}

// notDockerfileExt are extensions of files named like "dockerfile.EXT"
// that are source, documentation or data, never a Dockerfile.
var notDockerfileExt = map[string]bool{
	"go": true, "py": true, "js": true, "ts": true, "java": true, "rs": true, "rb": true, "c": true, "h": true,
	"md": true, "txt": true, "rst": true, "html": true, "json": true, "yaml": true, "yml": true, "toml": true,
	"sh": true, "bash": true, "ps1": true, "lock": true, "sum": true, "mod": true, "dockerignore": true,
	"orig": true, "bak": true, "swp": true, "tmpl": true, "j2": true, "snap": true, "golden": true,
}

// check accumulates the findings of one file.
type check struct {
	path  string
	lines []string
	det   secrets.Detector
	dedup rules.Dedup
	out   []report.Finding
}

func (c *check) add(id string, line, col int, msg, snippet, stable string) {
	r := ruleIndex[id]
	c.out = append(c.out, r.Finding(Name, c.path, line, col, msg, snippet, c.dedup.Key(id, stable)))
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
		return nil, plugins.Errorf(in.Path, 0, "binary content, not a Dockerfile")
	}
	ast, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Line: errLine(err), Err: fmt.Errorf("parse Dockerfile: %w", err)}
	}
	det, _ := a.det() // without a detector, names alone identify secrets
	c := &check{path: in.Path, lines: splitLines(string(data)), det: det, dedup: rules.Dedup{}}
	res := &plugins.Result{}
	res.Errors = c.run(ctx, ast.AST)
	res.Findings = c.out
	return res, nil
}

func errLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return le.Locations[0][0].Start.Line
	}
	return 0
}

func splitLines(s string) []string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// stage is what the rules need to know about one build stage.
type stage struct {
	name      string
	base      string
	fromLine  int
	user      string // last USER, "" when none
	userLine  int
	health    bool
	inherited bool // user came from a parent stage
}

func (c *check) run(ctx context.Context, root *parser.Node) []report.FileError {
	var errs []report.FileError
	var stages []*stage
	metaArgs := map[string]string{}
	for _, n := range root.Children {
		if ctx.Err() != nil {
			errs = append(errs, report.FileError{Path: c.path, Message: ctx.Err().Error()})
			break
		}
		cmd, err := instructions.ParseInstruction(n)
		if err != nil {
			errs = append(errs, report.FileError{Path: c.path, Line: n.StartLine, Message: fmt.Sprintf("instruction %q: %v", n.Value, err)})
			if strings.EqualFold(n.Value, "healthcheck") && len(stages) > 0 {
				stages[len(stages)-1].health = true // present, if malformed
			}
			continue
		}
		line, col := n.StartLine, c.indent(n.StartLine)
		var cur *stage
		if len(stages) > 0 {
			cur = stages[len(stages)-1]
		}
		switch cmd := cmd.(type) {
		case *instructions.Stage:
			st := &stage{name: strings.ToLower(cmd.Name), base: expand(cmd.BaseName, metaArgs), fromLine: line}
			for _, prev := range stages {
				if prev.name != "" && prev.name == strings.ToLower(st.base) {
					st.user, st.userLine, st.health, st.inherited = prev.user, prev.userLine, prev.health, true
				}
			}
			c.checkBase(st, stages, line, col)
			stages = append(stages, st)
		case *instructions.ArgCommand:
			for _, kv := range cmd.Args {
				if cur == nil && kv.Value != nil {
					metaArgs[kv.Key] = *kv.Value
				}
				if kv.Value != nil {
					c.checkSecret("ARG", kv.Key, *kv.Value, n)
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				c.checkSecret("ENV", kv.Key, kv.Value, n)
			}
		case *instructions.UserCommand:
			if cur != nil {
				cur.user, cur.userLine, cur.inherited = cmd.User, line, false
			}
		case *instructions.HealthCheckCommand:
			if cur != nil {
				cur.health = true
			}
		case *instructions.ExposeCommand:
			for _, p := range cmd.Ports {
				if p == "22" || strings.HasPrefix(p, "22/") {
					l, cl := c.locate(n, "22")
					c.add(RuleExposeSSH, l, cl, "EXPOSE 22 publishes the SSH port", "EXPOSE "+p, "EXPOSE "+p)
				}
			}
		case *instructions.AddCommand:
			for _, src := range cmd.SourcePaths {
				if isURL(src) && cmd.Checksum == "" {
					l, cl := c.locate(n, src)
					c.add(RuleAddURL, l, cl, "ADD downloads "+src+" without a checksum; use curl with verification or ADD --checksum", "ADD "+src, src)
				}
			}
		case *instructions.RunCommand:
			c.checkRun(cmd, n)
		}
	}
	if len(stages) > 0 {
		last := stages[len(stages)-1]
		c.checkFinal(last)
	}
	return errs
}

// indent returns the 1-based column of the first non-blank character of a
// 1-based line.
func (c *check) indent(line int) int {
	if line < 1 || line > len(c.lines) {
		return 1
	}
	l := c.lines[line-1]
	return len(l) - len(strings.TrimLeft(l, " \t")) + 1
}

// locate finds token in the instruction's source lines (after the keyword
// on the first line) and returns its 1-based line and column; the
// instruction's start when not found.
func (c *check) locate(n *parser.Node, token string) (int, int) {
	for l := n.StartLine; l <= n.EndLine && l <= len(c.lines) && l >= 1; l++ {
		text := c.lines[l-1]
		from := 0
		if l == n.StartLine {
			from = c.indent(l) - 1 + len(n.Value)
			if from > len(text) {
				from = len(text)
			}
		}
		if i := strings.Index(text[from:], token); i >= 0 && token != "" {
			return l, from + i + 1
		}
	}
	return n.StartLine, c.indent(n.StartLine)
}

func isURL(s string) bool {
	ls := strings.ToLower(s)
	return strings.HasPrefix(ls, "http://") || strings.HasPrefix(ls, "https://") || strings.HasPrefix(ls, "git@")
}

// expand substitutes $X and ${X} from the meta ARGs (declared before the
// first FROM); unknown variables are left as they are.
func expand(s string, args map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	for k, v := range args {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
		s = strings.ReplaceAll(s, "$"+k, v)
	}
	return s
}

func (c *check) checkBase(st *stage, prev []*stage, line, col int) {
	base := st.base
	lb := strings.ToLower(base)
	if lb == "scratch" || lb == "" || strings.Contains(base, "$") {
		return
	}
	for _, p := range prev {
		if p.name != "" && p.name == lb {
			return
		}
	}
	name, tag, digest := splitImage(base)
	l, cl := line, col
	if t := c.lines[line-1]; strings.Contains(t, base) {
		cl = strings.Index(t, base) + 1
	}
	switch {
	case digest != "":
		return
	case tag == "" || tag == "latest":
		what := "has no tag"
		if tag == "latest" {
			what = "uses the latest tag"
		}
		c.add(RuleImageLatest, l, cl, fmt.Sprintf("base image %s %s; pin a version", name, what), "FROM "+base, base)
	default:
		c.add(RuleImageDigest, l, cl, fmt.Sprintf("base image %s:%s is not pinned by digest", name, tag), "FROM "+base, base)
	}
}

// splitImage splits an image reference into name, tag and digest.
func splitImage(ref string) (name, tag, digest string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i], ref[i+1:], digest
	}
	return ref, "", digest
}

// IsRootUser reports whether a USER value means root: root, 0, root:group
// or 0:group.
func IsRootUser(u string) bool {
	u = strings.TrimSpace(u)
	if i := strings.IndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u == "root" || u == "0"
}

func (c *check) checkFinal(st *stage) {
	switch {
	case st.user == "":
		c.add(RuleUserRoot, st.fromLine, c.indent(st.fromLine), "the final stage has no USER instruction: the container runs as root unless its base image sets a user", "FROM "+st.base, "no-user:"+st.name+":"+st.base)
	case IsRootUser(st.user):
		line := st.userLine
		if st.inherited {
			line = st.fromLine
		}
		c.add(RuleUserRoot, line, c.indent(line), "the last USER of the final stage is "+st.user, "USER "+st.user, "user:"+st.user)
	}
	if !st.health {
		c.add(RuleNoHealth, st.fromLine, c.indent(st.fromLine), "the final stage defines no HEALTHCHECK", "FROM "+st.base, "no-healthcheck:"+st.name+":"+st.base)
	}
}

func (c *check) checkSecret(kind, key, value string, n *parser.Node) {
	if c.det != nil {
		// The value alone: with the key in front, gitleaks' generic rule
		// fires on public values such as ENV GPG_KEY=<fingerprint>.
		if ms := c.det.Detect(context.Background(), c.path, value); len(ms) > 0 {
			m := ms[0]
			l, cl := c.locate(n, key)
			c.add(RuleSecretEnv, l, cl, fmt.Sprintf("%s %s holds a secret (%s): %s", kind, key, m.RuleID, m.Redacted), kind+" "+key+"="+m.Redacted, key+":"+m.SHA256)
			return
		}
	}
	if secrets.LooksSecretName(key) && secrets.LiteralValue(value) {
		l, cl := c.locate(n, key)
		red := secrets.Redact(strings.Trim(value, `"'`))
		c.add(RuleSecretEnv, l, cl, fmt.Sprintf("%s %s has a literal value %s that is stored in the image", kind, key, red), kind+" "+key+"="+red, key+":"+rules.Fingerprint(value))
	}
}

// shellsForExec are interpreters whose `-c` argument is a script.
var shellsForExec = map[string]bool{"sh": true, "/bin/sh": true, "bash": true, "/bin/bash": true, "ash": true, "/bin/ash": true, "dash": true, "zsh": true}

func (c *check) checkRun(cmd *instructions.RunCommand, n *parser.Node) {
	var scripts []string
	switch {
	case cmd.PrependShell && len(cmd.CmdLine) > 0:
		scripts = append(scripts, strings.Join(cmd.CmdLine, " "))
	case len(cmd.CmdLine) >= 3 && shellsForExec[cmd.CmdLine[0]] && cmd.CmdLine[1] == "-c":
		scripts = append(scripts, cmd.CmdLine[2])
	}
	for _, f := range cmd.Files {
		scripts = append(scripts, f.Data)
	}
	cacheMount := false
	for _, fl := range n.Flags {
		if strings.Contains(fl, "type=cache") {
			cacheMount = true
		}
	}
	for _, src := range scripts {
		sc, err := shell.Parse(src)
		if err != nil {
			continue // not shell (e.g. a heredoc in another language): nothing to check
		}
		for _, p := range sc.DownloadPipes() {
			l, cl := c.locate(n, p.Downloader)
			c.add(RuleCurlPipe, l, cl, fmt.Sprintf("%s output is piped into %s", p.Downloader, p.Shell), p.Downloader+" | "+p.Shell, n.Original)
		}
		calls := sc.Calls()
		for _, call := range calls {
			if call.Name == "sudo" {
				l, cl := c.locate(n, "sudo")
				c.add(RuleSudo, l, cl, "RUN uses sudo", "sudo "+strings.Join(call.Args, " "), n.Original)
			}
		}
		if !cacheMount {
			c.checkCache(calls, n)
		}
	}
}

func (c *check) checkCache(calls []shell.Call, n *parser.Node) {
	cleaned := false
	for _, call := range calls {
		if call.Name == "rm" {
			for _, a := range call.Args {
				if strings.HasPrefix(a, "/var/lib/apt/lists") {
					cleaned = true
				}
			}
		}
	}
	for _, call := range calls {
		name, args := call.Name, call.Args
		if name == "sudo" && len(args) > 0 {
			name, args = args[0], args[1:]
		}
		sub := ""
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				sub = a
				break
			}
		}
		cl := shell.Call{Name: name, Args: args}
		switch {
		case (name == "apt-get" || name == "apt") && sub == "install" && !cleaned:
			l, col := c.locate(n, name)
			c.add(RulePkgCache, l, col, name+" install without removing /var/lib/apt/lists/* in the same RUN", name+" install", n.Original)
		case name == "apk" && sub == "add" && !cl.Has("--no-cache"):
			l, col := c.locate(n, "apk")
			c.add(RulePkgCache, l, col, "apk add without --no-cache", "apk add", n.Original)
		case (name == "pip" || name == "pip3") && sub == "install" && !cl.Has("--no-cache-dir"):
			l, col := c.locate(n, name)
			c.add(RulePkgCache, l, col, name+" install without --no-cache-dir", name+" install", n.Original)
		}
	}
}
