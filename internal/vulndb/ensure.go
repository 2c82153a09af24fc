package vulndb

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EnsureOptions configures Ensure (the scan command's database policy).
type EnsureOptions struct {
	// SkipUpdate never downloads (--skip-db-update); a missing database is
	// an error wrapping ErrNoDB.
	SkipUpdate bool
	// Offline never touches the network (--offline); a missing database is
	// an error wrapping ErrNoDB.
	Offline bool
	// MaxAge, when positive, makes a database built (UpdatedAt) longer ago
	// than MaxAge an error (--db-max-age) instead of a warning.
	MaxAge time.Duration
	// Update configures downloads; its Now also serves as Ensure's clock.
	Update UpdateOptions
}

// Ensure returns an open database in dir (DefaultDir when empty), downloading
// it first when it is missing or past NextUpdate unless SkipUpdate or Offline
// is set. A usable cached database is never discarded because a download
// failed: the failure becomes a warning. Warnings (failed refresh, stale
// database) are returned for the caller to print. The caller closes the DB.
func Ensure(ctx context.Context, dir string, opts EnsureOptions) (*DB, []string, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, nil, err
	}
	now := opts.Update.now()
	mayDownload := !opts.SkipUpdate && !opts.Offline
	var warnings []string
	uo := opts.Update
	uo.OnlyIfNeeded = true

	st, statErr := Status(dir)
	downloaded := false
	switch {
	case statErr != nil && !mayDownload:
		why := "--skip-db-update"
		if opts.Offline {
			why = "--offline"
		}
		if !errors.Is(statErr, ErrNoDB) {
			statErr = fmt.Errorf("%w: %w", ErrNoDB, statErr)
		}
		return nil, nil, fmt.Errorf("no usable vulnerability database and %s is set (run `shipgate db update` first): %w", why, statErr)
	case statErr != nil:
		if err := Update(ctx, dir, uo); err != nil {
			return nil, nil, fmt.Errorf("no usable vulnerability database (%v) and download failed: %w", statErr, err)
		}
		downloaded = true
	case mayDownload && statusNeedsUpdate(st, now):
		if err := Update(ctx, dir, uo); err != nil {
			warnings = append(warnings, fmt.Sprintf("could not update the vulnerability database, using the cached one from %s: %v", st.UpdatedAt.Format(time.RFC3339), err))
		} else {
			downloaded = true
		}
	}

	d, err := Open(dir)
	if err != nil && mayDownload && !downloaded && ctx.Err() == nil {
		// The cached copy looked fine but does not open: fetch a fresh one.
		uo.OnlyIfNeeded = false
		if uerr := Update(ctx, dir, uo); uerr != nil {
			return nil, warnings, fmt.Errorf("%w (and re-download failed: %w)", err, uerr)
		}
		d, err = Open(dir)
	}
	if err != nil {
		return nil, warnings, err
	}
	m := d.Metadata()
	age := now.Sub(m.UpdatedAt)
	if opts.MaxAge > 0 && age > opts.MaxAge {
		_ = d.Close()
		return nil, warnings, fmt.Errorf("vulnerability database in %s was built %s ago (%s), older than --db-max-age %s",
			dir, age.Round(time.Minute), m.UpdatedAt.Format(time.RFC3339), opts.MaxAge)
	}
	if now.After(m.NextUpdate) && (m.DownloadedAt.IsZero() || now.Sub(m.DownloadedAt) >= recentDownload) {
		warnings = append(warnings, fmt.Sprintf("vulnerability database is stale: built %s, next update was due %s",
			m.UpdatedAt.Format(time.RFC3339), m.NextUpdate.Format(time.RFC3339)))
	}
	return d, warnings, nil
}
