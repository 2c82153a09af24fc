// Package gradlelock extracts Maven artifacts from Gradle dependency lock
// files (gradle.lockfile).
//
// Format: Gradle's per-project lock state file, Gradle 6.0+
// (https://docs.gradle.org/current/userguide/dependency_locking.html#lock_state_location_and_format):
// comment lines starting with "#", one "group:artifact:version=conf1,conf2"
// line per resolved module listing the configurations that resolve it, and
// a final "empty=conf1,..." line naming the locked configurations that
// resolve nothing. A module is dev when every configuration resolving it is
// a test one (its name starts with "test" or contains "Test", such as
// testRuntimeClasspath or integrationTestCompileClasspath). The lockfile
// records neither direct dependencies nor edges: relationships are unknown.
package gradlelock

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "gradle-lockfile"

// maxLine is the longest line accepted.
const maxLine = 1 << 20

// Analyzer reads gradle.lockfile files.
type Analyzer struct{}

// New returns the gradle.lockfile analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named gradle.lockfile (and the per-script
// buildscript-gradle.lockfile).
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "gradle.lockfile", "buildscript-gradle.lockfile")
}

// Analyze implements plugins.Analyzer. It streams the file line by line.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	res := &plugins.Result{}
	seen := map[string]int{} // bom-ref -> index in res.Packages
	sc := bufio.NewScanner(in.Reader)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		coords, confs, ok := strings.Cut(line, "=")
		if coords == "empty" && ok {
			continue
		}
		parts := strings.Split(coords, ":")
		if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" || strings.ContainsAny(coords, " \t") {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: n, Message: fmt.Sprintf("malformed lock line %q: want group:artifact:version=configurations", truncate(line))})
			continue
		}
		name := parts[0] + ":" + parts[1]
		purl := purls.Build(report.EcosystemMaven, name, parts[2])
		ref := plugins.Ref(in.Path, purl)
		if i, dup := seen[ref]; dup {
			res.Packages[i].Locations = append(res.Packages[i].Locations, report.Location{Path: in.Path, Line: n})
			res.Packages[i].Dev = res.Packages[i].Dev && testOnly(confs)
			continue
		}
		seen[ref] = len(res.Packages)
		res.Packages = append(res.Packages, report.Package{
			BOMRef:       ref,
			Name:         name,
			Version:      parts[2],
			Purl:         purl,
			Ecosystem:    report.EcosystemMaven,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: in.Path, Line: n}},
			Relationship: report.RelationshipUnknown,
			Dev:          testOnly(confs),
			Analyzer:     Name,
		})
	}
	if err := sc.Err(); err != nil {
		return res, &plugins.ParseError{Path: in.Path, Line: n + 1, Err: fmt.Errorf("read: %w", err)}
	}
	return res, nil
}

// testOnly reports whether every configuration of the comma-separated list
// is a test configuration (and there is at least one).
func testOnly(confs string) bool {
	found := false
	for _, c := range strings.Split(confs, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.HasPrefix(c, "test") && !strings.Contains(c, "Test") {
			return false
		}
		found = true
	}
	return found
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
