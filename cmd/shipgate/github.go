package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/gate"
	"github.com/shipgate/shipgate/internal/output"
	"github.com/shipgate/shipgate/internal/report"
)

// GitHub shows at most this many error and this many warning annotations
// per step.
const maxAnnotations = 10

// githubInputs maps action inputs to scan flags. An input fills its flag
// only when the flag was not given on the command line. List inputs take
// one value a line (or comma-separated).
var githubInputs = []struct{ input, flag string }{
	{"stages", "stages"},
	{"skip", "skip"},
	{"severity", "severity"},
	{"strict", "strict"},
	{"config", "config"},
	{"outputs", "output"},
	{"gitlab-schema-version", "gitlab-schema-version"},
	{"image", "image"},
	{"policies", "policy"},
	{"policy-timeout", "policy-timeout"},
	{"db-repository", "db-repository"},
	{"skip-db-update", "skip-db-update"},
	{"offline", "offline"},
	{"vex", "vex"},
	{"baseline", "baseline"},
}

// ghRun is the GitHub Actions side of one scan: it exists only when
// GITHUB_ACTIONS=true.
type ghRun struct {
	act        *githubactions.Action
	reportPath string
	sarifPath  string
	sbomPath   string
}

func inGitHubActions() bool { return os.Getenv("GITHUB_ACTIONS") == "true" }

// input reads an action input under its own name or with underscores, as a
// composite action's env mapping spells it (INPUT_FAIL_ON).
func ghInput(act *githubactions.Action, name string) string {
	if v := act.GetInput(strings.ReplaceAll(name, "-", "_")); v != "" {
		return v
	}
	return act.GetInput(name)
}

// applyGitHubInputs fills unset flags from the action's inputs and adds the
// outputs every Actions run writes: the JSON report always, SARIF and the
// SBOM when asked for.
func (a *app) applyGitHubInputs(cmd *cobra.Command, args []string) (*ghRun, []string, error) {
	act := githubactions.New(githubactions.WithWriter(a.stdout))
	g := &ghRun{act: act}
	if len(args) == 0 {
		if p := ghInput(act, "path"); p != "" {
			args = []string{p}
		}
	}
	fl := cmd.Flags()
	for _, m := range githubInputs {
		v := strings.TrimSpace(ghInput(act, m.input))
		f := fl.Lookup(m.flag)
		if v == "" || f == nil || fl.Changed(m.flag) {
			continue
		}
		if f.Value.Type() == "bool" {
			if err := fl.Set(m.flag, v); err != nil {
				return nil, nil, usageError("input %s: %v", m.input, err)
			}
			continue
		}
		for _, item := range splitList(v) {
			if err := fl.Set(m.flag, item); err != nil {
				return nil, nil, usageError("input %s: %v", m.input, err)
			}
		}
	}
	// The cache input is the inverse of --no-cache.
	if v := strings.TrimSpace(ghInput(act, "cache")); v != "" && !fl.Changed("no-cache") {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, nil, usageError("input cache: %q is not true or false", v)
		}
		if err := fl.Set("no-cache", strconv.FormatBool(!on)); err != nil {
			return nil, nil, usageError("input cache: %v", err)
		}
	}
	ws := os.Getenv("GITHUB_WORKSPACE")
	inWS := func(p string) string {
		if p == "" || filepath.IsAbs(p) || ws == "" {
			return p
		}
		return filepath.Join(ws, p)
	}
	g.reportPath = inWS(firstNonEmpty(ghInput(act, "report"), "shipgate-report.json"))
	g.sarifPath = inWS(ghInput(act, "sarif"))
	g.sbomPath = inWS(ghInput(act, "sbom"))
	add := func(format, path string) error {
		if path == "" {
			return nil
		}
		// Keep the user's outputs; add ours unless the same file is there.
		for _, o := range mustStringArray(fl, "output") {
			if strings.HasSuffix(o, "="+path) {
				return nil
			}
		}
		return fl.Set("output", format+"="+path)
	}
	if !fl.Changed("output") {
		// Without explicit outputs, the log gets the table.
		if err := fl.Set("output", "table"); err != nil {
			return nil, nil, err
		}
	}
	for _, o := range []struct{ format, path string }{{"json", g.reportPath}, {"sarif", g.sarifPath}, {"cyclonedx-json", g.sbomPath}} {
		if err := add(o.format, o.path); err != nil {
			return nil, nil, usageError("%v", err)
		}
	}
	return g, args, nil
}

func mustStringArray(fl interface {
	GetStringArray(string) ([]string, error)
}, name string) []string {
	v, _ := fl.GetStringArray(name)
	return v
}

func splitList(v string) []string {
	var out []string
	for _, line := range strings.Split(v, "\n") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// finishGitHub writes the step outputs, the job summary and the
// annotations.
func (g *ghRun) finish(rep *report.Report, v gate.Verdict) {
	act := g.act
	// The library's file commands panic when their file variable is unset:
	// outside a real runner, write nothing.
	if os.Getenv("GITHUB_OUTPUT") != "" {
		vulns, finds := 0, 0
		for _, x := range rep.Vulnerabilities {
			if x.Suppressed == nil {
				vulns++
			}
		}
		for _, x := range rep.Findings {
			if x.Suppressed == nil {
				finds++
			}
		}
		setOutput(act, "verdict", v.Result)
		setOutput(act, "report", g.reportPath)
		setOutput(act, "sarif", g.sarifPath)
		setOutput(act, "sbom", g.sbomPath)
		setOutput(act, "vulnerabilities", strconv.Itoa(vulns))
		setOutput(act, "findings", strconv.Itoa(finds))
	}
	if os.Getenv("GITHUB_STEP_SUMMARY") != "" {
		var b bytes.Buffer
		if err := output.WriteMarkdown(&b, rep, output.Options{Verdict: &output.Verdict{Result: v.Result, Reason: v.Reason}}); err == nil {
			act.AddStepSummary(b.String())
		}
	}
	annotate(act, rep)
}

// setOutput writes one single-line output. The library's multi-line syntax
// uses a fixed delimiter, so a value carrying text from scanned files could
// inject further outputs: only single-line values are written, and a value
// containing the delimiter is dropped.
func setOutput(act *githubactions.Action, k, v string) {
	v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	if strings.Contains(v, "_GitHubActionsFileCommandDelimeter_") {
		return
	}
	act.SetOutput(k, v)
}

type annotation struct {
	sev       string
	file      string
	line, col int
	title     string
	msg       string
}

// annotate prints ::error and ::warning commands for the most severe items:
// GitHub shows 10 of each per step, so the rest are counted in a notice and
// the summary keeps the full list.
func annotate(act *githubactions.Action, rep *report.Report) {
	var all []annotation
	for _, v := range rep.Vulnerabilities {
		if v.Suppressed != nil || v.Location == nil {
			continue
		}
		fix := "no fix yet"
		if v.FixedVersion != "" {
			fix = "fixed in " + v.FixedVersion
		}
		all = append(all, annotation{v.Severity, v.Location.Path, v.Location.Line, 0, fmt.Sprintf("%s %s (%s)", v.ID, v.PackageName, v.Severity),
			fmt.Sprintf("%s %s is affected by %s, %s. %s", v.PackageName, v.InstalledVersion, v.ID, fix, v.Title)})
	}
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			continue
		}
		all = append(all, annotation{f.Severity, f.Location.Path, f.Location.Line, f.Location.Column, fmt.Sprintf("%s (%s)", f.Rule, f.Severity), f.Message})
	}
	slices.SortStableFunc(all, func(a, b annotation) int {
		return report.SeverityRank(b.sev) - report.SeverityRank(a.sev)
	})
	errs, warns, moreErr, moreWarn := 0, 0, 0, 0
	for _, an := range all {
		fields := map[string]string{"file": an.file, "title": an.title}
		if an.line > 0 {
			fields["line"] = strconv.Itoa(an.line)
		}
		if an.col > 0 {
			fields["col"] = strconv.Itoa(an.col)
		}
		isErr := report.SeverityRank(an.sev) >= report.SeverityRank(report.SeverityHigh)
		switch {
		case isErr && errs < maxAnnotations:
			act.WithFieldsMap(fields).Errorf("%s", an.msg)
			errs++
		case isErr:
			moreErr++
		case warns < maxAnnotations:
			act.WithFieldsMap(fields).Warningf("%s", an.msg)
			warns++
		default:
			moreWarn++
		}
	}
	if moreErr+moreWarn > 0 {
		act.Noticef("%d more errors and %d more warnings are not annotated (GitHub shows 10 of each per step): see the job summary and the report", moreErr, moreWarn)
	}
}
