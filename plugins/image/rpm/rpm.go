// Package rpm reads RPM package databases of RHEL-family images through
// the pure-Go reader github.com/knqyf263/go-rpmdb.
//
// All three formats rpm has used are read: Berkeley DB var/lib/rpm/Packages
// (RHEL/CentOS 7 and older, Amazon Linux 2), SQLite rpmdb.sqlite (RHEL 9,
// Fedora 33+, CBL-Mariner 2; through the pure-Go modernc.org/sqlite driver,
// so the binary stays CGO-free) and NDB Packages.db (SUSE 15). go-rpmdb
// tells them apart by their magic, not by the file name.
package rpm

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver go-rpmdb opens rpmdb.sqlite with

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
	// go-rpmdb opens by file name: copy the database out (bounded) into a
	// directory of its own, where SQLite may also put its journal files.
	dir, err := os.MkdirTemp("", "shipgate-rpmdb-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp, err := os.Create(filepath.Join(dir, filepath.Base(in.Path)))
	if err != nil {
		return nil, err
	}
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
	defer db.Close()
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
		epoch := 0
		if p.Epoch != nil {
			epoch = *p.Epoch
		}
		version := p.Version + "-" + p.Release
		if epoch > 0 {
			version = strconv.Itoa(epoch) + ":" + version
		}
		srcName, srcVersion := splitSourceRPM(p.SourceRpm)
		if srcName == "" {
			srcName, srcVersion = p.Name, version
		} else if epoch > 0 {
			srcVersion = strconv.Itoa(epoch) + ":" + srcVersion
		}
		qs := []purls.Qualifier{{Key: "arch", Value: p.Arch}}
		if epoch > 0 {
			qs = append(qs, purls.Qualifier{Key: "epoch", Value: strconv.Itoa(epoch)})
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
