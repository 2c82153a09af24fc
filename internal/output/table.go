package output

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/shipgate/shipgate/internal/report"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiYel   = "\x1b[33m"
	ansiBlue  = "\x1b[34m"
	ansiMag   = "\x1b[35m"
)

type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) severity(s string) string {
	switch s {
	case report.SeverityCritical:
		return p.paint(ansiBold+ansiMag, s)
	case report.SeverityHigh:
		return p.paint(ansiRed, s)
	case report.SeverityMedium:
		return p.paint(ansiYel, s)
	case report.SeverityLow:
		return p.paint(ansiBlue, s)
	}
	return p.paint(ansiDim, s)
}

// fileGroup is what the table shows for one file.
type fileGroup struct {
	path     string
	pkgs     []*report.Package
	vulns    []*report.Vulnerability
	findings []*report.Finding
}

// WriteTable writes the compact human view: one block per file with its
// vulnerabilities and findings, then the files that could not be analysed,
// then totals.
func WriteTable(w io.Writer, r *report.Report, opts Options) error {
	p := painter(opts.Color)
	show := func(sev string) bool {
		return len(opts.Severity) == 0 || slices.Contains(opts.Severity, sev)
	}
	groups := map[string]*fileGroup{}
	group := func(path string) *fileGroup {
		g, ok := groups[path]
		if !ok {
			g = &fileGroup{path: path}
			groups[path] = g
		}
		return g
	}
	byRef := map[string]*report.Package{}
	for i := range r.Packages {
		pk := &r.Packages[i]
		byRef[pk.BOMRef] = pk
		group(locPath(pk.Locations)).pkgs = append(group(locPath(pk.Locations)).pkgs, pk)
	}
	for i := range r.Vulnerabilities {
		v := &r.Vulnerabilities[i]
		if !show(v.Severity) {
			continue
		}
		path := ""
		if v.Location != nil {
			path = v.Location.Path
		} else if pk := byRef[v.PackageRef]; pk != nil {
			path = locPath(pk.Locations)
		}
		group(path).vulns = append(group(path).vulns, v)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if !show(f.Severity) {
			continue
		}
		group(f.Location.Path).findings = append(group(f.Location.Path).findings, f)
	}
	paths := make([]string, 0, len(groups))
	for k := range groups {
		paths = append(paths, k)
	}
	slices.Sort(paths)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, path := range paths {
		g := groups[path]
		name := path
		if name == "" {
			name = "(no file)"
		}
		fmt.Fprintf(tw, "%s%s\n", p.paint(ansiBold, name), p.paint(ansiDim, groupSummary(g)))
		slices.SortStableFunc(g.vulns, func(a, b *report.Vulnerability) int {
			return cmp.Or(cmp.Compare(report.SeverityRank(b.Severity), report.SeverityRank(a.Severity)),
				cmp.Compare(a.PackageName, b.PackageName), cmp.Compare(a.ID, b.ID))
		})
		for _, v := range g.vulns {
			fix := "no fix"
			if v.FixedVersion != "" {
				fix = "fixed in " + v.FixedVersion
			}
			title := v.Title
			if v.Suppressed != nil {
				title = "(suppressed: " + suppressionText(v.Suppressed) + ") " + title
			}
			line := fmt.Sprintf("  %s\t%s %s\t%s\t%s\t%s\n", p.severity(v.Severity), v.PackageName, v.InstalledVersion, v.ID, fix, truncate(title, 70))
			if v.Suppressed != nil {
				line = p.paint(ansiDim, line)
			}
			fmt.Fprint(tw, line)
		}
		for _, f := range g.findings {
			pos := ""
			if f.Location.Line > 0 {
				pos = fmt.Sprintf("%d", f.Location.Line)
				if f.Location.Column > 0 {
					pos += fmt.Sprintf(":%d", f.Location.Column)
				}
			}
			msg := f.Message
			if f.Suppressed != nil {
				msg = "(suppressed: " + suppressionText(f.Suppressed) + ") " + msg
			}
			line := fmt.Sprintf("  %s\t%s\t%s\t%s\n", p.severity(f.Severity), f.Rule, pos, truncate(msg, 90))
			if f.Suppressed != nil {
				line = p.paint(ansiDim, line)
			}
			fmt.Fprint(tw, line)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	errs := r.Errors()
	if len(errs) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.paint(ansiBold+ansiRed, fmt.Sprintf("Could not analyse (%d):", len(errs))))
		for _, a := range r.Analyzers {
			for _, e := range a.Errors {
				loc := e.Path
				if e.Line > 0 {
					loc = fmt.Sprintf("%s:%d", e.Path, e.Line)
				}
				fmt.Fprintf(w, "  %s  %s%s\n", loc, p.paint(ansiDim, a.Name+": "), firstLine(e.Message))
			}
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "%s %s\n", p.paint(ansiYel, "warning:"), warn)
	}
	fmt.Fprintf(w, "\n%s\n", Totals(r))
	if len(r.Policies) > 0 {
		writePolicies(w, r, p)
	}
	return nil
}

func writePolicies(w io.Writer, r *report.Report, p painter) {
	fmt.Fprintf(w, "\n%s\n", p.paint(ansiBold, "Policies:"))
	for _, pol := range r.Policies {
		outcome := pol.Outcome
		switch outcome {
		case "deny", "error", "abort":
			outcome = p.paint(ansiRed, outcome)
		case "warn":
			outcome = p.paint(ansiYel, outcome)
		}
		fmt.Fprintf(w, "  %s  %s\n", pol.Name, outcome)
		if pol.Error != "" {
			fmt.Fprintf(w, "    %s\n", pol.Error)
		}
		for _, v := range pol.Decision.Deny {
			fmt.Fprintf(w, "    deny  %s%s\n", ruleText(v.Rule), v.Message)
		}
		for _, v := range pol.Decision.Warn {
			fmt.Fprintf(w, "    warn  %s%s\n", ruleText(v.Rule), v.Message)
		}
	}
}

func ruleText(rule string) string {
	if rule == "" {
		return ""
	}
	return "[" + rule + "] "
}

// Totals returns the one-line summary printed at the end of every run.
func Totals(r *report.Report) string {
	files := map[string]bool{}
	for _, pk := range r.Packages {
		files[locPath(pk.Locations)] = true
	}
	counts := map[string]int{}
	suppressed := 0
	for _, v := range r.Vulnerabilities {
		if v.Suppressed != nil {
			suppressed++
			continue
		}
		counts[v.Severity]++
	}
	var sev []string
	for _, s := range report.Severities() {
		sev = append(sev, fmt.Sprintf("%d %s", counts[s], strings.ToLower(s)))
	}
	kinds := map[string]int{}
	nf := 0
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			continue
		}
		kinds[f.Kind]++
		nf++
	}
	var ks []string
	for _, k := range []string{report.KindSecret, report.KindConfig, report.KindCode} {
		if kinds[k] > 0 {
			ks = append(ks, fmt.Sprintf("%d %s", kinds[k], k))
		}
	}
	s := fmt.Sprintf("Total: %d packages in %d files · vulnerabilities: %s · findings: %d", len(r.Packages), len(files), strings.Join(sev, ", "), nf)
	if len(ks) > 0 {
		s += " (" + strings.Join(ks, ", ") + ")"
	}
	if suppressed > 0 {
		s += fmt.Sprintf(" · %d suppressed", suppressed)
	}
	if n := len(r.Errors()); n > 0 {
		s += fmt.Sprintf(" · %d could not be analysed", n)
	}
	return s
}

func groupSummary(g *fileGroup) string {
	if len(g.pkgs) == 0 {
		return ""
	}
	direct, dev := 0, 0
	for _, p := range g.pkgs {
		if p.Relationship == report.RelationshipDirect {
			direct++
		}
		if p.Dev {
			dev++
		}
	}
	s := fmt.Sprintf("  (%s, %d packages", g.pkgs[0].Ecosystem, len(g.pkgs))
	if direct > 0 {
		s += fmt.Sprintf(", %d direct", direct)
	}
	if dev > 0 {
		s += fmt.Sprintf(", %d dev", dev)
	}
	return s + ")"
}

func suppressionText(s *report.Suppression) string {
	if s.Reason != "" {
		return s.Reason
	}
	return s.Kind
}

func locPath(l []report.Location) string {
	if len(l) == 0 {
		return ""
	}
	return l[0].Path
}

func truncate(s string, n int) string {
	s = firstLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
