// Package vulndb stores, downloads and opens the trivy-db v2 vulnerability
// database that Shipgate matches packages against.
//
// A database directory holds two files, exactly as trivy lays them out:
//
//	trivy.db       BoltDB file written by github.com/aquasecurity/trivy-db
//	metadata.json  {"Version":2,"NextUpdate":...,"UpdatedAt":...,"DownloadedAt":...}
//
// Update pulls the OCI artifact published by Aqua Security (default
// repositories mirror.gcr.io/aquasec/trivy-db:2 then
// ghcr.io/aquasecurity/trivy-db:2), verifies the layer digest, extracts it
// safely into a temporary directory beside the target, validates it and
// swaps it in atomically; the previous database survives any failure.
// Open opens the database read-only, so concurrent scans (threads or
// processes) can share it.
//
// Cross-process coordination uses two advisory lock files next to the
// directory: "<dir>.lock" serialises updaters for the whole download, and
// "<dir>.swap.lock" is held exclusively only for the rename swap and shared
// by Open while it opens the files, so readers never see a half-swapped
// directory and a long download never blocks a scan.
package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
)

// SchemaVersion is the only trivy-db schema version Shipgate understands.
const SchemaVersion = trivydb.SchemaVersion

const (
	dbFile       = "trivy.db"
	metadataFile = "metadata.json"
	// maxMetadataSize bounds how much of metadata.json is read.
	maxMetadataSize = 1 << 20
	// recentDownload is how long after a download no new download is
	// attempted even if NextUpdate has passed (trivy uses the same hour, so
	// a lagging publisher is not hammered).
	recentDownload = time.Hour
)

// ErrNoDB reports that no usable database exists in the directory.
var ErrNoDB = errors.New("vulnerability database not found")

// ErrSchemaVersion reports a database whose schema version is not SchemaVersion.
var ErrSchemaVersion = errors.New("unsupported vulnerability database schema version")

// Metadata is the content of metadata.json (trivy-db's own type).
type Metadata = metadata.Metadata

// StatusInfo describes a database directory for `shipgate db status`.
type StatusInfo struct {
	// Path is the absolute database directory.
	Path string `json:"path"`
	// DBPath is the absolute path of trivy.db.
	DBPath string `json:"dbPath"`
	// SchemaVersion is metadata.json's Version.
	SchemaVersion int `json:"schemaVersion"`
	// UpdatedAt is when the publisher built the database.
	UpdatedAt time.Time `json:"updatedAt"`
	// NextUpdate is when the publisher expects the next build.
	NextUpdate time.Time `json:"nextUpdate"`
	// DownloadedAt is when this copy was downloaded.
	DownloadedAt time.Time `json:"downloadedAt"`
	// Size is the size of trivy.db in bytes.
	Size int64 `json:"size"`
}

// DefaultDir returns $XDG_CACHE_HOME/shipgate/db, or ~/.cache/shipgate/db
// when XDG_CACHE_HOME is unset, falling back to the OS cache directory.
func DefaultDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "shipgate", "db"), nil
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".cache", "shipgate", "db"), nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate cache directory: %w", err)
	}
	return filepath.Join(c, "shipgate", "db"), nil
}

// resolveDir returns dir as an absolute path, DefaultDir when empty.
func resolveDir(dir string) (string, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve database directory %s: %w", dir, err)
	}
	return abs, nil
}

// ReadMetadata reads and decodes dir/metadata.json. A missing file yields an
// error wrapping both ErrNoDB and fs.ErrNotExist.
func ReadMetadata(dir string) (Metadata, error) {
	p := filepath.Join(dir, metadataFile)
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Metadata{}, fmt.Errorf("read %s: %w: %w", p, ErrNoDB, err)
		}
		return Metadata{}, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	var m Metadata
	dec := json.NewDecoder(io.LimitReader(f, maxMetadataSize))
	if err := dec.Decode(&m); err != nil {
		return Metadata{}, fmt.Errorf("parse %s: %w", p, err)
	}
	return m, nil
}

// writeMetadata writes m as dir/metadata.json.
func writeMetadata(dir string, m Metadata) error {
	p := filepath.Join(dir, metadataFile)
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", p, err)
	}
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// checkVersion returns an ErrSchemaVersion error unless m is schema v2.
func checkVersion(dir string, m Metadata) error {
	if m.Version != SchemaVersion {
		return fmt.Errorf("%s: %w %d (want %d); run `shipgate db update`", dir, ErrSchemaVersion, m.Version, SchemaVersion)
	}
	return nil
}

// Status describes the database in dir (DefaultDir when empty). It fails
// with ErrNoDB when the directory has no database and ErrSchemaVersion when
// the schema is not version 2.
func Status(dir string) (StatusInfo, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return StatusInfo{}, err
	}
	m, err := ReadMetadata(dir)
	if err != nil {
		return StatusInfo{}, err
	}
	st := StatusInfo{
		Path:          dir,
		DBPath:        filepath.Join(dir, dbFile),
		SchemaVersion: m.Version,
		UpdatedAt:     m.UpdatedAt,
		NextUpdate:    m.NextUpdate,
		DownloadedAt:  m.DownloadedAt,
	}
	fi, err := os.Stat(st.DBPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return st, fmt.Errorf("stat %s: %w: %w", st.DBPath, ErrNoDB, err)
		}
		return st, fmt.Errorf("stat %s: %w", st.DBPath, err)
	}
	if !fi.Mode().IsRegular() {
		return st, fmt.Errorf("%s: %w: not a regular file", st.DBPath, ErrNoDB)
	}
	st.Size = fi.Size()
	if err := checkVersion(dir, m); err != nil {
		return st, err
	}
	return st, nil
}

// NeedsUpdate reports whether the database in dir should be downloaded:
// it is missing, unreadable, of another schema version, or past its
// NextUpdate — unless it was downloaded less than an hour before now.
func NeedsUpdate(dir string, now time.Time) bool {
	st, err := Status(dir)
	if err != nil {
		return true
	}
	return statusNeedsUpdate(st, now)
}

func statusNeedsUpdate(st StatusInfo, now time.Time) bool {
	if !now.After(st.NextUpdate) {
		return false
	}
	if !st.DownloadedAt.IsZero() && now.Sub(st.DownloadedAt) < recentDownload && !st.DownloadedAt.After(now) {
		return false
	}
	return true
}
