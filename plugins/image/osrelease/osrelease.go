// Package osrelease identifies the operating system of an image from
// os-release(5): etc/os-release, or usr/lib/os-release where etc has none.
// ID and VERSION_ID give the family and version that vulnerability data
// is keyed by (debian 12, ubuntu 22.04, alpine 3.20.3, rhel 9.4, ...).
package osrelease

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "os-release"

// Analyzer reads os-release files.
type Analyzer struct{}

// New returns the os-release analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageImage }

// FileRequired claims etc/os-release and usr/lib/os-release.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return path == "etc/os-release" || path == "usr/lib/os-release"
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(_ context.Context, in *plugins.Input) (*plugins.Result, error) {
	vals := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(in.Reader, 64<<10))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		vals[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, plugins.Errorf(in.Path, 0, "%v", err)
	}
	id := strings.ToLower(vals["ID"])
	if id == "" {
		return nil, plugins.Errorf(in.Path, 0, "no ID field")
	}
	return &plugins.Result{OS: &report.OS{Family: id, Version: vals["VERSION_ID"], Name: vals["PRETTY_NAME"]}}, nil
}
