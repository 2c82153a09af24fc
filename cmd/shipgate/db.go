package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/vulndb"
)

// dbCmdFlags are the flags shared by the db subcommands.
type dbCmdFlags struct {
	dir          string
	repositories []string
	insecure     bool
	maxSize      int64
}

// newDBCommand returns `shipgate db` with its `update` and `status`
// subcommands, which manage the trivy-db vulnerability database.
func newDBCommand() *cobra.Command {
	f := &dbCmdFlags{}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the vulnerability database (trivy-db v2)",
		Long: `Manage the trivy-db v2 vulnerability database that scan matches packages against.

The database is an OCI artifact pulled from mirror.gcr.io/aquasec/trivy-db:2,
then ghcr.io/aquasecurity/trivy-db:2 (override with --db-repository, in order).
Registry credentials come from the docker config and credential helpers.
It is stored in $XDG_CACHE_HOME/shipgate/db (default ~/.cache/shipgate/db).`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&f.dir, "db-dir", "", "vulnerability database directory (default $XDG_CACHE_HOME/shipgate/db)")
	cmd.PersistentFlags().StringArrayVar(&f.repositories, "db-repository", nil, "OCI repository of the trivy-db artifact, tried in order (repeatable; default mirror.gcr.io/aquasec/trivy-db:2, ghcr.io/aquasecurity/trivy-db:2)")
	cmd.PersistentFlags().BoolVar(&f.insecure, "insecure-registry", false, "allow plain HTTP and unverified TLS to the database registry")
	cmd.AddCommand(dbUpdateCommand(f), dbStatusCommand(f))
	return cmd
}

func dbUpdateCommand(f *dbCmdFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the latest vulnerability database",
		Long: `Download the latest vulnerability database, verify its digest and swap it in
atomically. The previous database is kept if anything fails. Safe to run
concurrently with scans and with other updates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quiet, _ := cmd.Flags().GetBool("quiet")
			logw := cmd.ErrOrStderr()
			if quiet {
				logw = io.Discard
			}
			opts := vulndb.UpdateOptions{
				Repositories: f.repositories,
				Insecure:     f.insecure,
				MaxSize:      f.maxSize,
				Logf:         func(format string, args ...any) { fmt.Fprintf(logw, "shipgate: "+format+"\n", args...) },
			}
			if err := vulndb.Update(cmd.Context(), f.dir, opts); err != nil {
				return err
			}
			st, err := vulndb.Status(f.dir)
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(logw, "shipgate: vulnerability database in %s, built %s\n", st.Path, st.UpdatedAt.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&f.maxSize, "max-size", vulndb.DefaultMaxSize, "refuse a database larger than this many bytes uncompressed")
	return cmd
}

func dbStatusCommand(f *dbCmdFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the schema version, age, size and path of the vulnerability database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := vulndb.Status(f.dir)
			if err != nil {
				return fmt.Errorf("%w (run `shipgate db update`)", err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			now := time.Now()
			fmt.Fprintf(w, "Path:            %s\n", st.Path)
			fmt.Fprintf(w, "Schema version:  %d\n", st.SchemaVersion)
			fmt.Fprintf(w, "Updated at:      %s\n", stamp(st.UpdatedAt, now))
			fmt.Fprintf(w, "Next update:     %s\n", stamp(st.NextUpdate, now))
			fmt.Fprintf(w, "Downloaded at:   %s\n", stamp(st.DownloadedAt, now))
			fmt.Fprintf(w, "Size:            %s (%d bytes)\n", humanBytes(st.Size), st.Size)
			if vulndb.NeedsUpdate(st.Path, now) {
				fmt.Fprintln(w, "Status:          stale (run `shipgate db update`)")
			} else {
				fmt.Fprintln(w, "Status:          current")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// stamp formats t in RFC 3339 with a relative hint.
func stamp(t, now time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := now.Sub(t).Round(time.Minute)
	rel := d.String() + " ago"
	if d < 0 {
		rel = "in " + (-d).String()
	}
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), rel)
}

// humanBytes formats n with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
