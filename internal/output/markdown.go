package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// MaxMarkdownBytes keeps the Markdown under GitHub's 1 MiB job-summary limit
// with room to spare.
const MaxMarkdownBytes = 1000 * 1024

// markdownTop is how many vulnerabilities and findings the summary lists
// before the collapsible details.
const markdownTop = 10

// WriteMarkdown writes what a job summary or merge-request comment shows:
// the verdict first, then the most severe items with links, a table of
// counts, and collapsible details of everything, cut to stay under GitHub's
// summary limit.
func WriteMarkdown(w io.Writer, r *report.Report, opts Options) error {
	var b strings.Builder
	icon, word := "✅", "PASSED"
	if opts.Verdict != nil {
		switch opts.Verdict.Result {
		case "fail":
			icon, word = "❌", "FAILED"
		case "error":
			icon, word = "⚠️", "ERROR"
		}
		fmt.Fprintf(&b, "## %s Shipgate: %s\n\n%s\n\n", icon, word, mdEscape(opts.Verdict.Reason))
	} else {
		b.WriteString("## Shipgate report\n\n")
	}
	fmt.Fprintf(&b, "Target: `%s`", r.Target.Name)
	if r.Target.Git != nil && r.Target.Git.Commit != "" {
		fmt.Fprintf(&b, " at `%.12s`", r.Target.Git.Commit)
	}
	b.WriteString("\n\n")

	// Counts.
	b.WriteString("| | Critical | High | Medium | Low | Unknown |\n|---|---:|---:|---:|---:|---:|\n")
	vc, fc := map[string]int{}, map[string]int{}
	for _, v := range r.Vulnerabilities {
		if v.Suppressed == nil {
			vc[v.Severity]++
		}
	}
	for _, f := range r.Findings {
		if f.Suppressed == nil {
			fc[f.Severity]++
		}
	}
	for _, row := range []struct {
		name string
		c    map[string]int
	}{{"Vulnerabilities", vc}, {"Findings", fc}} {
		fmt.Fprintf(&b, "| %s |", row.name)
		for _, s := range report.Severities() {
			fmt.Fprintf(&b, " %d |", row.c[s])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d packages scanned.\n\n", len(r.Packages))

	if len(r.Policies) > 0 {
		b.WriteString("### Policies\n\n| Policy | Outcome | Deny | Warn |\n|---|---|---:|---:|\n")
		for _, p := range r.Policies {
			fmt.Fprintf(&b, "| %s | %s | %d | %d |\n", mdEscape(p.Name), p.Outcome, len(p.Decision.Deny), len(p.Decision.Warn))
		}
		b.WriteString("\n")
		for _, p := range r.Policies {
			if p.Error != "" {
				fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(p.Name), mdEscape(p.Error))
			}
			for _, v := range p.Decision.Deny {
				fmt.Fprintf(&b, "- **%s** denied: %s\n", mdEscape(p.Name), mdEscape(v.Message))
			}
		}
		b.WriteString("\n")
	}

	vulns := active(r.Vulnerabilities, func(v report.Vulnerability) bool { return v.Suppressed == nil })
	finds := active(r.Findings, func(f report.Finding) bool { return f.Suppressed == nil })
	if len(vulns) > 0 {
		b.WriteString("### Top vulnerabilities\n\n| Severity | Package | Installed | Fixed in | ID | File |\n|---|---|---|---|---|---|\n")
		for i, v := range vulns {
			if i == markdownTop {
				break
			}
			b.WriteString(vulnRow(v))
		}
		b.WriteString("\n")
	}
	if len(finds) > 0 {
		b.WriteString("### Top findings\n\n| Severity | Rule | Location | Message |\n|---|---|---|---|\n")
		for i, f := range finds {
			if i == markdownTop {
				break
			}
			b.WriteString(findingRow(f))
		}
		b.WriteString("\n")
	}
	if errs := r.Errors(); len(errs) > 0 {
		fmt.Fprintf(&b, "### ⚠️ %d files could not be analysed\n\n", len(errs))
		for _, e := range errs {
			fmt.Fprintf(&b, "- `%s`: %s\n", locString(e.Path, e.Line), mdEscape(firstLine(e.Message)))
		}
		b.WriteString("\n")
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "> [!WARNING]\n> %s\n\n", mdEscape(warn))
	}

	// Details: everything, collapsed, within the size limit.
	head := b.String()
	var details strings.Builder
	cut := 0
	add := func(s string) {
		if len(head)+details.Len()+len(s) > MaxMarkdownBytes-2048 {
			cut++
			return
		}
		details.WriteString(s)
	}
	if len(vulns) > markdownTop {
		add(fmt.Sprintf("<details><summary>All %d vulnerabilities</summary>\n\n| Severity | Package | Installed | Fixed in | ID | File |\n|---|---|---|---|---|---|\n", len(vulns)))
		for _, v := range vulns {
			add(vulnRow(v))
		}
		add("\n</details>\n\n")
	}
	if len(finds) > markdownTop {
		add(fmt.Sprintf("<details><summary>All %d findings</summary>\n\n| Severity | Rule | Location | Message |\n|---|---|---|---|\n", len(finds)))
		for _, f := range finds {
			add(findingRow(f))
		}
		add("\n</details>\n\n")
	}
	if cut > 0 {
		details.WriteString(fmt.Sprintf("\n_%d more rows left out to stay under the 1 MiB summary limit; the JSON report has everything._\n", cut))
	}
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	_, err := io.WriteString(w, details.String())
	return err
}

func active[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func vulnRow(v report.Vulnerability) string {
	fixed := v.FixedVersion
	if fixed == "" {
		fixed = "—"
	}
	id := v.ID
	if len(v.References) > 0 {
		id = fmt.Sprintf("[%s](%s)", v.ID, v.References[0])
	}
	file := ""
	if v.Location != nil {
		file = "`" + locString(v.Location.Path, v.Location.Line) + "`"
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", v.Severity, mdEscape(v.PackageName), mdEscape(v.InstalledVersion), mdEscape(fixed), id, file)
}

func findingRow(f report.Finding) string {
	return fmt.Sprintf("| %s | %s | `%s` | %s |\n", f.Severity, mdEscape(f.Rule), locString(f.Location.Path, f.Location.Line), mdEscape(truncate(f.Message, 200)))
}

func locString(path string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", path, line)
	}
	return path
}

// mdEscape keeps scanned text from breaking tables or injecting markup.
func mdEscape(s string) string {
	s = firstLine(s)
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "`", "'", "[", "\\[", "]", "\\]", "*", "\\*", "_", "\\_")
	return r.Replace(s)
}
