package output

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/shipgate/shipgate/internal/report"
)

// MaxSARIFResults is GitHub code scanning's limit of results per run.
const MaxSARIFResults = 25000

// RuleInfo describes a rule for formats that carry rule metadata (SARIF).
type RuleInfo struct {
	ID          string
	Title       string
	Description string
	// Help is Markdown.
	Help       string
	HelpURI    string
	Severity   string
	CWEs       []string
	References []string
}

// securitySeverity maps a severity to GitHub's security-severity score
// (critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9).
func securitySeverity(sev string, cvss []report.CVSS) string {
	best := 0.0
	for _, c := range cvss {
		best = max(best, c.Score)
	}
	if best > 0 {
		return strconv.FormatFloat(best, 'f', 1, 64)
	}
	switch sev {
	case report.SeverityCritical:
		return "9.5"
	case report.SeverityHigh:
		return "8.0"
	case report.SeverityMedium:
		return "5.5"
	case report.SeverityLow:
		return "2.0"
	}
	return "0.1"
}

func sarifLevel(sev string) string {
	switch sev {
	case report.SeverityCritical, report.SeverityHigh:
		return "error"
	case report.SeverityMedium:
		return "warning"
	}
	return "note"
}

// sarifRun collects one stage's rules and results.
type sarifRun struct {
	stage   string
	run     *sarif.Run
	rules   map[string]bool
	results int
	dropped int
}

// WriteSARIF writes SARIF 2.1.0 for GitHub code scanning: one run per stage
// with its own automationDetails.id category, rules with descriptions, help,
// CWE tags and security-severity, results at repository-relative lockfile and
// source lines with a stable partial fingerprint. A run is cut at GitHub's
// 25,000 results, and the cut is said in the run's notifications.
func WriteSARIF(w io.Writer, r *report.Report, opts Options) error {
	doc, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	runs := map[string]*sarifRun{}
	get := func(stage string) *sarifRun {
		if sr, ok := runs[stage]; ok {
			return sr
		}
		run := sarif.NewRunWithInformationURI("shipgate", "https://github.com/shipgate/shipgate")
		run.Tool.Driver.WithVersion(r.Tool.Version)
		run.WithAutomationDetails(sarif.NewRunAutomationDetails().WithID("shipgate/" + stage + "/"))
		run.WithColumnKind("unicodeCodePoints")
		sr := &sarifRun{stage: stage, run: run, rules: map[string]bool{}}
		runs[stage] = sr
		return sr
	}
	// Every stage that ran gets its run, even when empty, so that code
	// scanning closes alerts that are gone.
	for _, s := range r.Stages {
		get(s)
	}

	byRef := map[string]*report.Package{}
	for i := range r.Packages {
		byRef[r.Packages[i].BOMRef] = &r.Packages[i]
	}
	for _, v := range r.Vulnerabilities {
		pkg := byRef[v.PackageRef]
		stage := report.StageDeps
		if pkg != nil && pkg.Layer != nil || r.Target.Type == "image" {
			stage = report.StageImage
		}
		sr := get(stage)
		ruleID := v.ID
		if !sr.rules[ruleID] {
			sr.rules[ruleID] = true
			addRule(sr.run, vulnRule(v))
		}
		loc := v.Location
		if loc == nil && pkg != nil && len(pkg.Locations) > 0 {
			loc = &pkg.Locations[0]
		}
		fix := "no fixed version yet"
		if v.FixedVersion != "" {
			fix = "fixed in " + v.FixedVersion
		}
		msg := fmt.Sprintf("%s %s is affected by %s (%s, %s)", v.PackageName, v.InstalledVersion, v.ID, v.Severity, fix)
		if v.Title != "" {
			msg += ": " + v.Title
		}
		fp := fingerprint(v.ID, v.PackageName, v.InstalledVersion, locPathOf(loc))
		addResult(sr, ruleID, v.Severity, msg, loc, fp, v.Suppressed)
	}
	for _, f := range r.Findings {
		sr := get(report.StageCode)
		if !sr.rules[f.Rule] {
			sr.rules[f.Rule] = true
			info, ok := opts.Rules[f.Rule]
			if !ok {
				info = RuleInfo{ID: f.Rule, Title: f.Title, Severity: f.Severity, CWEs: f.CWEs, References: f.References}
			}
			addRule(sr.run, info)
		}
		loc := f.Location
		fp := f.Fingerprint
		if fp == "" {
			fp = fingerprint(f.Rule, f.Location.Path, f.Message)
		}
		addResult(sr, f.Rule, f.Severity, f.Message, &loc, fp, f.Suppressed)
	}

	stages := make([]string, 0, len(runs))
	for s := range runs {
		stages = append(stages, s)
	}
	slices.SortFunc(stages, func(a, b string) int {
		return cmp.Compare(slices.Index(stageOrder, a), slices.Index(stageOrder, b))
	})
	for _, s := range stages {
		sr := runs[s]
		// The scan completed even when some files could not be analysed:
		// those are notifications, not a failed execution.
		inv := sr.run.AddInvocation(true)
		if sr.dropped > 0 {
			inv.AddTToolExecutionNotification(sarif.NewNotification().WithLevel("warning").
				WithTextMessage(fmt.Sprintf("%d results were left out: GitHub accepts at most %d results per run; the JSON report has all of them", sr.dropped, MaxSARIFResults)))
		}
		for _, a := range r.Analyzers {
			if a.Stage != s {
				continue
			}
			for _, e := range a.Errors {
				n := sarif.NewNotification().WithLevel("error").WithTextMessage(fmt.Sprintf("%s: could not analyse: %s", a.Name, firstLine(e.Message)))
				n.AddLocation(sarifLocation(&report.Location{Path: e.Path, Line: e.Line}))
				inv.AddTToolExecutionNotification(n)
			}
		}
		doc.AddRun(sr.run)
	}
	return doc.PrettyWrite(w)
}

var stageOrder = []string{report.StageCode, report.StageDeps, report.StageImage}

func vulnRule(v report.Vulnerability) RuleInfo {
	title := v.Title
	if title == "" {
		title = fmt.Sprintf("%s in %s", v.ID, v.PackageName)
	}
	var help strings.Builder
	fmt.Fprintf(&help, "**%s** (%s)\n\n", v.ID, v.Severity)
	if v.Description != "" {
		help.WriteString(v.Description + "\n\n")
	}
	help.WriteString("| Package | Installed | Fixed in |\n| --- | --- | --- |\n")
	fixed := v.FixedVersion
	if fixed == "" {
		fixed = "not yet"
	}
	fmt.Fprintf(&help, "| %s | %s | %s |\n", v.PackageName, v.InstalledVersion, fixed)
	if len(v.References) > 0 {
		help.WriteString("\nReferences:\n")
		for _, ref := range v.References {
			fmt.Fprintf(&help, "- %s\n", ref)
		}
	}
	uri := ""
	if len(v.References) > 0 {
		uri = v.References[0]
	}
	return RuleInfo{ID: v.ID, Title: title, Description: firstNonEmpty(v.Description, title), Help: help.String(), HelpURI: uri, Severity: v.Severity, CWEs: v.CWEs}
}

func addRule(run *sarif.Run, info RuleInfo) {
	rule := run.AddRule(info.ID).
		WithName(ruleName(info.ID)).
		WithShortDescription(sarif.NewMultiformatMessageString(truncate(firstNonEmpty(info.Title, info.ID), 1000))).
		WithFullDescription(sarif.NewMultiformatMessageString(firstNonEmpty(info.Description, info.Title, info.ID))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(info.Severity)))
	help := info.Help
	if help == "" {
		help = firstNonEmpty(info.Description, info.Title, info.ID)
		if len(info.References) > 0 {
			help += "\n\nSee also: " + strings.Join(info.References, ", ")
		}
	}
	rule.WithHelp(sarif.NewMultiformatMessageString(help).WithMarkdown(help))
	if info.HelpURI != "" {
		rule.WithHelpURI(info.HelpURI)
	}
	tags := []string{"security"}
	for _, c := range info.CWEs {
		tags = append(tags, "external/cwe/"+strings.ToLower(c))
	}
	pb := sarif.NewPropertyBag()
	pb.Add("tags", tags)
	pb.Add("security-severity", securitySeverity(info.Severity, nil))
	pb.Add("precision", "high")
	rule.AttachPropertyBag(pb)
}

func addResult(sr *sarifRun, ruleID, severity, msg string, loc *report.Location, fp string, sup *report.Suppression) {
	if sr.results >= MaxSARIFResults {
		sr.dropped++
		return
	}
	sr.results++
	res := sr.run.CreateResultForRule(ruleID).
		WithLevel(sarifLevel(severity)).
		WithMessage(sarif.NewTextMessage(msg))
	if loc != nil && loc.Path != "" {
		res.AddLocation(sarifLocation(loc))
	}
	res.WithPartialFingerPrints(map[string]any{"primaryLocationLineHash": fp})
	if sup != nil {
		s := sarif.NewSuppression("external")
		if sup.Kind == "inline" {
			s = sarif.NewSuppression("inSource")
		}
		// The library writes every unset field as null, which the schema
		// rejects: set them all.
		s.WithJustifcation(firstNonEmpty(sup.Reason, sup.Kind)).WithStatus("accepted").WithGuid(guidFrom(fp))
		if loc != nil && loc.Path != "" {
			s.WithLocation(sarifLocation(loc))
		} else {
			s.WithLocation(sarif.NewLocation())
		}
		res.Suppressions = append(res.Suppressions, s)
	}
}

func sarifLocation(loc *report.Location) *sarif.Location {
	pl := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(loc.Path).WithUriBaseId("%SRCROOT%"))
	if loc.Line > 0 {
		region := sarif.NewRegion().WithStartLine(loc.Line)
		if loc.Column > 0 {
			region.WithStartColumn(loc.Column)
		}
		if loc.EndLine >= loc.Line {
			region.WithEndLine(loc.EndLine)
		}
		if loc.EndColumn > 0 && loc.EndLine >= loc.Line {
			region.WithEndColumn(loc.EndColumn)
		}
		pl.WithRegion(region)
	}
	return sarif.NewLocationWithPhysicalLocation(pl)
}

// ruleName turns an id into the PascalCase name SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case r == '-' || r == '_' || r == '.' || r == ' ' || r == '/':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// guidFrom derives a name-based UUID (version 5 layout, RFC 9562) from a
// seed, so that the same item gets the same id in every run.
func guidFrom(seed string) string {
	h := sha256.Sum256([]byte(seed))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func locPathOf(l *report.Location) string {
	if l == nil {
		return ""
	}
	return l.Path
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
