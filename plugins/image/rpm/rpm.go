// Package rpm reads RPM package databases of RHEL-family images through
// the pure-Go reader github.com/knqyf263/go-rpmdb.
//
// Formats: the Berkeley DB var/lib/rpm/Packages (RHEL/CentOS 7 and older,
// Amazon Linux 2) is read. The go-rpmdb version the Go module proxy serves
// (2021-09) predates its SQLite (var/lib/rpm/rpmdb.sqlite, RHEL 9, Fedora)
// and NDB (var/lib/rpm/Packages.db, SUSE) support: those files are claimed
// and reported as not analysable, never silently skipped.
package rpm

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "rpm"

// maxDB bounds the database copied to a temporary file.
const maxDB = 1 << 30

// Analyzer reads RPM databases.
type Analyzer struct{}

// New returns the rpm analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageImage }

// FileRequired claims the RPM databases in their usual places.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	switch path {
	case "var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages",
		"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite",
		"var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db":
		return true
	}
	return false
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	if !strings.HasSuffix(in.Path, "/Packages") {
		return nil, plugins.Errorf(in.Path, 0, "RPM SQLite and NDB databases are not supported yet: the packages of this image are not listed")
	}
	// go-rpmdb opens by file name: copy the database out (bounded).
	tmp, err := os.CreateTemp("", "shipgate-rpmdb-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(in.Reader, maxDB+1))
	tmp.Close()
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", in.Path, err)
	}
	if n > maxDB {
		return nil, plugins.Errorf(in.Path, 0, "RPM database larger than %d bytes", maxDB)
	}
	db, err := rpmdb.Open(tmp.Name())
	if err != nil {
		return nil, plugins.Errorf(in.Path, 0, "open RPM database: %v", err)
	}
	list, err := db.ListPackages()
	if err != nil {
		return nil, plugins.Errorf(in.Path, 0, "read RPM database: %v", err)
	}
	res := &plugins.Result{}
	for _, p := range list {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p.Name == "gpg-pubkey" {
			continue // keys, not software
		}
		version := p.Version + "-" + p.Release
		if p.Epoch > 0 {
			version = strconv.Itoa(p.Epoch) + ":" + version
		}
		srcName, srcVersion := splitSourceRPM(p.SourceRpm)
		if srcName == "" {
			srcName, srcVersion = p.Name, version
		} else if p.Epoch > 0 {
			srcVersion = strconv.Itoa(p.Epoch) + ":" + srcVersion
		}
		qs := []purls.Qualifier{{Key: "arch", Value: p.Arch}}
		if p.Epoch > 0 {
			qs = append(qs, purls.Qualifier{Key: "epoch", Value: strconv.Itoa(p.Epoch)})
		}
		purl := purls.Build(report.EcosystemRpm, p.Name, p.Version+"-"+p.Release, qs...)
		pkg := report.Package{
			BOMRef:       plugins.Ref(in.Path, purl),
			Name:         p.Name,
			Version:      version,
			Purl:         purl,
			Ecosystem:    report.EcosystemRpm,
			Type:         report.TypeOSPackage,
			Locations:    []report.Location{{Path: in.Path}},
			Relationship: report.RelationshipUnknown,
			SrcName:      srcName,
			SrcVersion:   srcVersion,
			Arch:         p.Arch,
		}
		if p.License != "" {
			pkg.Licenses = []string{p.License}
		}
		res.Packages = append(res.Packages, pkg)
	}
	return res, nil
}

// splitSourceRPM splits "glibc-2.17-317.el7.src.rpm" into "glibc" and
// "2.17-317.el7".
func splitSourceRPM(s string) (name, version string) {
	s = strings.TrimSuffix(s, ".rpm")
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[:i] // arch: src or nosrc
	}
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return "", ""
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return "", ""
	}
	return s[:v], s[v+1:]
}
