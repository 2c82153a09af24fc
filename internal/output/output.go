// Package output renders a report in the formats users ask for with
// -o FORMAT[=FILE]: the human table, Shipgate's JSON, and the formats of
// other tools (CycloneDX, SARIF, GitLab, JUnit, Markdown) as they land.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/sbom"
)

// Options carries what some formats need beyond the report.
type Options struct {
	// Color enables ANSI colours (table only).
	Color bool
	// Severity, when set, limits the table to these severities; every other
	// format always carries everything.
	Severity []string
	// SpecVersion is the CycloneDX spec version ("1.6" default, "1.5").
	SpecVersion string
	// Verdict is the gate's outcome, for formats that show it.
	Verdict *Verdict
	// Rules holds rule metadata by rule id (SARIF); findings of rules not
	// listed are described from the findings themselves.
	Rules map[string]RuleInfo
	// GitLabSchemaVersion is the version written into GitLab security
	// reports (default DefaultGitLabSchemaVersion).
	GitLabSchemaVersion string
	// EndTime is when the scan finished (GitLab reports); zero means the
	// report's start time.
	EndTime time.Time
}

// Verdict is the gate's outcome as outputs show it.
type Verdict struct {
	// Result is pass, fail or error.
	Result string `json:"result"`
	// Reason is one line saying why.
	Reason string `json:"reason"`
}

// Writer renders a report to w.
type Writer func(w io.Writer, r *report.Report, opts Options) error

// Spec is one requested output: a format and a file ("" for stdout).
type Spec struct {
	Format string
	File   string
}

// Registry maps format names to writers.
type Registry map[string]Writer

// Default returns the built-in formats.
func Default() Registry {
	return Registry{
		"table":    WriteTable,
		"json":     WriteJSON,
		"sarif":    WriteSARIF,
		"markdown": WriteMarkdown,
		"junit":    WriteJUnit,

		"cyclonedx-json": cyclonedxWriter(sbom.JSON),
		"cyclonedx-xml":  cyclonedxWriter(sbom.XML),

		"gitlab-dependency-scanning": gitlabWriter("dependency_scanning"),
		"gitlab-container-scanning":  gitlabWriter("container_scanning"),
		"gitlab-sast":                gitlabWriter("sast"),
		"gitlab-secret-detection":    gitlabWriter("secret_detection"),
	}
}

// Names returns the registered format names, sorted.
func (reg Registry) Names() []string {
	var out []string
	for k := range reg {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ParseSpec parses FORMAT[=FILE] and checks that the format exists.
func (reg Registry) ParseSpec(s string) (Spec, error) {
	format, file, _ := strings.Cut(s, "=")
	format = strings.TrimSpace(format)
	if _, ok := reg[format]; !ok {
		return Spec{}, fmt.Errorf("unknown output format %q (formats: %s)", format, strings.Join(reg.Names(), ", "))
	}
	return Spec{Format: format, File: file}, nil
}

// Write renders every spec. Files are written atomically (a temporary file
// renamed into place) so that a failed run never leaves half a report.
func (reg Registry) Write(stdout io.Writer, r *report.Report, specs []Spec, opts Options) error {
	for _, s := range specs {
		w := reg[s.Format]
		if s.File == "" || s.File == "-" {
			if err := w(stdout, r, opts); err != nil {
				return fmt.Errorf("write %s: %w", s.Format, err)
			}
			continue
		}
		o := opts
		o.Color = false
		if err := writeFile(s.File, func(f io.Writer) error { return w(f, r, o) }); err != nil {
			return fmt.Errorf("write %s to %s: %w", s.Format, s.File, err)
		}
	}
	return nil
}

func writeFile(name string, render func(io.Writer) error) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := render(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// WriteJSON writes the report document itself, indented.
func WriteJSON(w io.Writer, r *report.Report, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
