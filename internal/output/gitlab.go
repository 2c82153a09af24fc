package output

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// DefaultGitLabSchemaVersion is the security-report schema version written by
// default: the newest that current GitLab releases ingest (GitLab 17 rejects
// 15.2.x and accepts 15.0.0 to 15.1.4). --gitlab-schema-version changes it.
const DefaultGitLabSchemaVersion = "15.1.4"

var gitlabVersionRE = regexp.MustCompile(`^15\.[0-9]+\.[0-9]+$`)

// ValidGitLabSchemaVersion reports whether v is a 15.x.y version.
func ValidGitLabSchemaVersion(v string) bool { return gitlabVersionRE.MatchString(v) }

var (
	cvss2RE = regexp.MustCompile(`^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$`)
	cvss3RE = regexp.MustCompile(`^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XUNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XUNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$`)
	urlRE   = regexp.MustCompile(`^(https?|ftp)://.+`)
)

type glReport struct {
	Version         string     `json:"version"`
	Scan            glScan     `json:"scan"`
	Vulnerabilities []glVuln   `json:"vulnerabilities"`
	Remediations    []struct{} `json:"remediations,omitempty"`
}

type glScan struct {
	Analyzer           glTool     `json:"analyzer"`
	Scanner            glTool     `json:"scanner"`
	Type               string     `json:"type"`
	StartTime          string     `json:"start_time"`
	EndTime            string     `json:"end_time"`
	Status             string     `json:"status"`
	Messages           []glMsg    `json:"messages,omitempty"`
	PrimaryIdentifiers []glIdent  `json:"primary_identifiers,omitempty"`
	Options            []glOption `json:"options,omitempty"`
}

type glTool struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	URL     string   `json:"url,omitempty"`
	Version string   `json:"version"`
	Vendor  glVendor `json:"vendor"`
}

type glVendor struct {
	Name string `json:"name"`
}

type glMsg struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

type glOption struct {
	Name   string `json:"name"`
	Value  any    `json:"value"`
	Source string `json:"source,omitempty"`
}

type glIdent struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	URL   string `json:"url,omitempty"`
	Value string `json:"value"`
}

type glLink struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

type glCVSS struct {
	Vendor string `json:"vendor"`
	Vector string `json:"vector"`
}

type glVuln struct {
	ID          string         `json:"id"`
	Name        string         `json:"name,omitempty"`
	Description string         `json:"description,omitempty"`
	Severity    string         `json:"severity,omitempty"`
	Solution    string         `json:"solution,omitempty"`
	Identifiers []glIdent      `json:"identifiers"`
	CVSSVectors []glCVSS       `json:"cvss_vectors,omitempty"`
	Links       []glLink       `json:"links,omitempty"`
	Location    map[string]any `json:"location"`
}

// gitlabWriter returns the writer of one GitLab security report type:
// dependency_scanning, container_scanning, sast or secret_detection.
func gitlabWriter(kind string) Writer {
	return func(w io.Writer, r *report.Report, opts Options) error {
		doc := gitlabReport(r, kind, opts)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	}
}

func gitlabReport(r *report.Report, kind string, opts Options) *glReport {
	version := opts.GitLabSchemaVersion
	if version == "" {
		version = DefaultGitLabSchemaVersion
	}
	tool := glTool{ID: "shipgate", Name: "Shipgate", URL: "https://github.com/shipgate/shipgate", Version: firstNonEmpty(r.Tool.Version, "dev"), Vendor: glVendor{Name: "Shipgate"}}
	start := r.CreatedAt.UTC()
	end := start
	if !opts.EndTime.IsZero() {
		end = opts.EndTime.UTC()
	}
	doc := &glReport{
		Version: version,
		Scan: glScan{
			Analyzer: tool, Scanner: tool, Type: kind,
			StartTime: start.Format("2006-01-02T15:04:05"), EndTime: end.Format("2006-01-02T15:04:05"),
			Status: "success",
		},
		Vulnerabilities: []glVuln{},
	}
	for _, a := range r.Analyzers {
		for _, e := range a.Errors {
			doc.Scan.Messages = append(doc.Scan.Messages, glMsg{Level: "warn", Value: fmt.Sprintf("%s: could not analyse %s: %s", a.Name, locString(e.Path, e.Line), firstLine(e.Message))})
		}
	}
	for _, warn := range r.Warnings {
		doc.Scan.Messages = append(doc.Scan.Messages, glMsg{Level: "warn", Value: warn})
	}
	byRef := map[string]*report.Package{}
	for i := range r.Packages {
		byRef[r.Packages[i].BOMRef] = &r.Packages[i]
	}
	switch kind {
	case "dependency_scanning", "container_scanning":
		for _, v := range r.Vulnerabilities {
			if v.Suppressed != nil {
				continue // GitLab has no suppressed state; the JSON report keeps them
			}
			pkg := byRef[v.PackageRef]
			inImage := r.Target.Type == "image" || pkg != nil && pkg.Layer != nil
			if inImage != (kind == "container_scanning") {
				continue
			}
			doc.Vulnerabilities = append(doc.Vulnerabilities, gitlabVuln(r, v, pkg, kind))
		}
	case "sast", "secret_detection":
		want := report.KindSecret
		if kind == "sast" {
			want = ""
		}
		for _, f := range r.Findings {
			if f.Suppressed != nil || (want == report.KindSecret) != (f.Kind == report.KindSecret) {
				continue
			}
			doc.Vulnerabilities = append(doc.Vulnerabilities, gitlabFinding(r, f, kind))
		}
	}
	return doc
}

func gitlabSeverity(s string) string {
	switch s {
	case report.SeverityCritical:
		return "Critical"
	case report.SeverityHigh:
		return "High"
	case report.SeverityMedium:
		return "Medium"
	case report.SeverityLow:
		return "Low"
	}
	return "Unknown"
}

func identifierFor(id string) glIdent {
	up := strings.ToUpper(id)
	switch {
	case strings.HasPrefix(up, "CVE-"):
		return glIdent{Type: "cve", Name: id, Value: id, URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(up, "GHSA-"):
		return glIdent{Type: "ghsa", Name: id, Value: id, URL: "https://github.com/advisories/" + id}
	}
	t := strings.ToLower(id)
	if i := strings.IndexByte(t, '-'); i > 0 {
		t = t[:i]
	}
	return glIdent{Type: firstNonEmpty(t, "shipgate"), Name: id, Value: id}
}

func cweIdents(cwes []string) []glIdent {
	var out []glIdent
	for _, c := range cwes {
		n := strings.TrimPrefix(strings.ToUpper(c), "CWE-")
		if n == "" {
			continue
		}
		out = append(out, glIdent{Type: "cwe", Name: "CWE-" + n, Value: n, URL: "https://cwe.mitre.org/data/definitions/" + n + ".html"})
	}
	return out
}

func gitlabVuln(r *report.Report, v report.Vulnerability, pkg *report.Package, kind string) glVuln {
	g := glVuln{
		ID:          guidFrom(kind + "\x00" + v.ID + "\x00" + v.PackageRef),
		Name:        firstNonEmpty(v.Title, v.ID),
		Description: truncate(firstNonEmpty(v.Description, v.Title, v.ID), 15000),
		Severity:    gitlabSeverity(v.Severity),
		Identifiers: append([]glIdent{identifierFor(v.ID)}, cweIdents(v.CWEs)...),
	}
	for _, a := range v.Aliases {
		g.Identifiers = append(g.Identifiers, identifierFor(a))
	}
	if v.FixedVersion != "" {
		g.Solution = fmt.Sprintf("Upgrade %s to version %s or above.", v.PackageName, v.FixedVersion)
	}
	for _, c := range v.CVSS {
		if len(g.CVSSVectors) == 10 {
			break
		}
		if c.Vector != "" && (cvss2RE.MatchString(c.Vector) || cvss3RE.MatchString(c.Vector)) {
			g.CVSSVectors = append(g.CVSSVectors, glCVSS{Vendor: firstNonEmpty(c.Source, "unknown"), Vector: c.Vector})
		}
	}
	for _, ref := range v.References {
		if urlRE.MatchString(ref) {
			g.Links = append(g.Links, glLink{URL: ref})
		}
	}
	dep := map[string]any{"package": map[string]any{"name": v.PackageName}, "version": v.InstalledVersion}
	if pkg != nil && pkg.Relationship != report.RelationshipUnknown {
		dep["direct"] = pkg.Relationship == report.RelationshipDirect
	}
	if kind == "container_scanning" {
		osName := "unknown"
		if r.OS != nil {
			osName = strings.TrimSpace(r.OS.Family + " " + r.OS.Version)
		}
		image := r.Target.Name
		if r.Image != nil && r.Image.Name != "" {
			image = r.Image.Name
		}
		g.Location = map[string]any{"dependency": dep, "operating_system": osName, "image": firstNonEmpty(image, "unknown")}
		return g
	}
	file := ""
	if v.Location != nil {
		file = v.Location.Path
	} else if pkg != nil && len(pkg.Locations) > 0 {
		file = pkg.Locations[0].Path
	}
	g.Location = map[string]any{"file": firstNonEmpty(file, "unknown"), "dependency": dep}
	return g
}

func gitlabFinding(r *report.Report, f report.Finding, kind string) glVuln {
	g := glVuln{
		ID:          guidFrom(kind + "\x00" + f.Fingerprint + "\x00" + f.Rule + "\x00" + f.Location.Path),
		Name:        firstNonEmpty(f.Title, f.Rule),
		Description: firstNonEmpty(f.Message, f.Title),
		Severity:    gitlabSeverity(f.Severity),
		Identifiers: append([]glIdent{{Type: "shipgate_rule", Name: f.Rule, Value: f.Rule}}, cweIdents(f.CWEs)...),
	}
	loc := map[string]any{"file": firstNonEmpty(f.Location.Path, "unknown")}
	if f.Location.Line > 0 {
		loc["start_line"] = f.Location.Line
		loc["end_line"] = max(f.Location.EndLine, f.Location.Line)
	}
	if kind == "secret_detection" && r.Target.Git != nil && r.Target.Git.Commit != "" {
		loc["commit"] = map[string]any{"sha": r.Target.Git.Commit}
	}
	g.Location = loc
	return g
}
