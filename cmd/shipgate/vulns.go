package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/gate"
	"github.com/shipgate/shipgate/internal/match"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/vulndb"
)

// dbFlags are the vulnerability database flags of scan.
type dbFlags struct {
	dir          string
	repositories []string
	skipUpdate   bool
	offline      bool
	maxAge       time.Duration
}

func (f *dbFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "db-dir", "", "vulnerability database `DIR` (default CACHE_DIR/db)")
	fl.StringArrayVar(&f.repositories, "db-repository", nil, "OCI `REPO` to download the database from, repeatable, tried in order (default mirror.gcr.io/aquasec/trivy-db:2, ghcr.io/aquasecurity/trivy-db:2)")
	fl.BoolVar(&f.skipUpdate, "skip-db-update", false, "use the cached database as it is, never download")
	fl.BoolVar(&f.offline, "offline", false, "never touch the network (implies --skip-db-update)")
	fl.DurationVar(&f.maxAge, "db-max-age", 0, "fail (exit 2) when the database was built longer ago than `DURATION` (e.g. 72h); default: a stale database is a warning")
}

// matchVulnerabilities makes sure a database is there (downloading it when
// missing or due), then matches every package of the report against it.
// Without a usable database the scan fails closed: a gate that could not
// check vulnerabilities must not pass.
//
// A report without packages (a code-only scan, a tree without lockfiles)
// has nothing to match: no database is opened or downloaded for it.
func (a *app) matchVulnerabilities(ctx context.Context, rep *report.Report, r *resolved, f *dbFlags) error {
	if len(rep.Packages) == 0 {
		return nil
	}
	cfg := r.cfg.DB
	dir := firstNonEmpty(f.dir, cfg.Dir)
	if dir == "" && r.cacheDir != "" {
		dir = filepath.Join(r.cacheDir, "db")
	}
	repos := f.repositories
	if len(repos) == 0 {
		repos = cfg.Repositories
	}
	maxAge := f.maxAge
	if maxAge == 0 && cfg.MaxAge != "" {
		d, err := time.ParseDuration(cfg.MaxAge)
		if err != nil {
			return usageError("shipgate.yaml db.maxAge: %v", err)
		}
		maxAge = d
	}
	insecure := false
	for _, repo := range repos {
		for _, h := range r.insecure {
			insecure = insecure || strings.HasPrefix(repo, h+"/")
		}
	}
	db, warnings, err := vulndb.Ensure(ctx, dir, vulndb.EnsureOptions{
		SkipUpdate: f.skipUpdate || cfg.SkipUpdate,
		Offline:    f.offline || cfg.Offline,
		MaxAge:     maxAge,
		Update: vulndb.UpdateOptions{
			Repositories: repos,
			Insecure:     insecure,
			Logf: func(format string, args ...any) {
				if !r.quiet {
					fmt.Fprintf(a.stderr, "shipgate: "+format+"\n", args...)
				}
			},
		},
	})
	rep.Warnings = append(rep.Warnings, warnings...)
	if err != nil {
		return &exitError{code: gate.ExitError, err: fmt.Errorf("vulnerabilities were not checked, no vulnerability database (run `shipgate db update` where a trivy-db registry is reachable, or pass --db-repository for a mirror; `shipgate sbom` needs none)\n%w", err)}
	}
	m := db.Metadata()
	dbDir := db.Dir()
	_ = db.Close()
	rep.Database = &report.Database{
		SchemaVersion: m.Version,
		UpdatedAt:     m.UpdatedAt.UTC(),
		NextUpdate:    m.NextUpdate.UTC(),
		Path:          dbDir,
		Stale:         time.Now().After(m.NextUpdate),
	}
	src, err := match.OpenTrivyDB(dbDir)
	if err != nil {
		return &exitError{code: gate.ExitError, err: fmt.Errorf("vulnerabilities were not checked: %w", err)}
	}
	defer src.Close()
	vulns, err := match.Match(ctx, src, rep.Packages, rep.OS)
	if vulns == nil && err != nil {
		return &exitError{code: gate.ExitError, err: fmt.Errorf("vulnerabilities were not checked: %w", err)}
	}
	if err != nil {
		// Per-package problems and unsupported distributions: the rest
		// was matched; say what was not.
		for _, e := range unjoin(err) {
			if msg := e.Error(); !slices.Contains(rep.Warnings, msg) {
				rep.Warnings = append(rep.Warnings, msg)
			}
		}
	}
	if vulns == nil {
		vulns = []report.Vulnerability{}
	}
	rep.Vulnerabilities = vulns
	return nil
}

// unjoin splits an errors.Join result.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
