package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/types"
	bolt "go.etcd.io/bbolt"
)

// openTimeout bounds how long bolt waits for its own file lock.
const openTimeout = 5 * time.Second

// trivyHandle guards trivy-db's package-level state. trivy-db keeps a single
// process-wide *bolt.DB set by db.Init and used by every db.Config method,
// so only one database directory can be open per process at a time. This is
// the one piece of package-level mutable state in vulndb; it exists only to
// serialise access to trivy-db's own global. Handles opened on the same
// directory share the connection (reference counted); the connection is
// closed when the last handle is closed.
var trivyHandle struct {
	mu   sync.Mutex
	dir  string
	refs int
	meta Metadata
}

// DB is an open, read-only trivy-db database. Its methods and the trivy-db
// db.Config returned by Config are valid until Close.
type DB struct {
	dir       string
	meta      Metadata
	closeOnce sync.Once
	closeErr  error
}

// Open opens the database in dir (DefaultDir when empty) read-only through
// trivy-db's db.Init, so trivy-db's db.Config{} methods work until Close.
// Several handles on the same directory may be open at once (in goroutines
// or processes); opening a different directory while one is open in this
// process is an error, because trivy-db holds a single global connection.
// A handle keeps reading the database it opened even if Update swaps in a
// newer one meanwhile (Unix semantics; on Windows the swap fails instead).
func Open(dir string) (*DB, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, err
	}
	// Shared swap lock: never observe a directory in the middle of a swap.
	// Lock files beside a read-only cache cannot be created; reading
	// without the lock is then the best we can do.
	unlock, lerr := lockFile(context.Background(), dir+".swap.lock", false)
	if lerr == nil {
		defer unlock()
	}

	trivyHandle.mu.Lock()
	defer trivyHandle.mu.Unlock()
	if trivyHandle.refs > 0 {
		if trivyHandle.dir != dir {
			return nil, fmt.Errorf("open vulnerability database %s: %s is already open in this process (trivy-db allows one database at a time)", dir, trivyHandle.dir)
		}
		trivyHandle.refs++
		return &DB{dir: dir, meta: trivyHandle.meta}, nil
	}

	st, err := Status(dir)
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	m, err := ReadMetadata(dir)
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	if err := trivydb.Init(dir, trivydb.WithBoltOptions(&bolt.Options{ReadOnly: true, Timeout: openTimeout})); err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w", st.DBPath, err)
	}
	trivyHandle.dir, trivyHandle.refs, trivyHandle.meta = dir, 1, m
	return &DB{dir: dir, meta: m}, nil
}

// Dir returns the absolute database directory.
func (d *DB) Dir() string { return d.dir }

// Metadata returns metadata.json as read when the database was opened.
func (d *DB) Metadata() Metadata { return d.meta }

// Config returns the trivy-db accessor bound to this open database; it is
// the zero db.Config because trivy-db's connection is process-global.
func (d *DB) Config() trivydb.Config { return trivydb.Config{} }

// GetAdvisories returns the advisories of pkgName in the data source bucket
// source (e.g. "npm::GitHub Security Advisory npm", "debian 12").
func (d *DB) GetAdvisories(source, pkgName string) ([]types.Advisory, error) {
	a, err := trivydb.Config{}.GetAdvisories(source, pkgName)
	if err != nil {
		return nil, fmt.Errorf("advisories for %s in %q: %w", pkgName, source, err)
	}
	return a, nil
}

// ForEachAdvisory returns the raw advisories of pkgName in every bucket
// matching sources (a bucket name ending in "::" is a prefix).
func (d *DB) ForEachAdvisory(sources []string, pkgName string) (map[string]trivydb.Value, error) {
	v, err := trivydb.Config{}.ForEachAdvisory(sources, pkgName)
	if err != nil {
		return nil, fmt.Errorf("advisories for %s in %q: %w", pkgName, sources, err)
	}
	return v, nil
}

// GetVulnerability returns the details (title, severity, CVSS, references)
// of a vulnerability ID.
func (d *DB) GetVulnerability(id string) (types.Vulnerability, error) {
	v, err := trivydb.Config{}.GetVulnerability(id)
	if err != nil {
		return types.Vulnerability{}, fmt.Errorf("vulnerability %s: %w", id, err)
	}
	return v, nil
}

// Close releases the handle; the shared connection closes with the last
// handle. Closing twice is harmless.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		trivyHandle.mu.Lock()
		defer trivyHandle.mu.Unlock()
		if trivyHandle.refs == 0 || trivyHandle.dir != d.dir {
			return
		}
		trivyHandle.refs--
		if trivyHandle.refs == 0 {
			trivyHandle.dir = ""
			if err := trivydb.Close(); err != nil {
				d.closeErr = fmt.Errorf("close vulnerability database %s: %w", d.dir, err)
			}
		}
	})
	return d.closeErr
}

// validate checks that dir holds a schema-v2 metadata.json and a readable
// bolt file with at least one bucket. It opens bolt directly (read-only),
// never trivy-db's global connection, so it is safe while a DB is open.
func validate(dir string) (m Metadata, err error) {
	m, err = ReadMetadata(dir)
	if err != nil {
		return m, err
	}
	if err := checkVersion(dir, m); err != nil {
		return m, err
	}
	p := filepath.Join(dir, dbFile)
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m, fmt.Errorf("%s: %w", p, ErrNoDB)
		}
		return m, fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return m, fmt.Errorf("%s: not a regular file", p)
	}
	// A corrupt bolt file can fault on access; turn that into an error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validate %s: corrupt database: %v", p, r)
		}
	}()
	bdb, err := openBoltReadOnly(p)
	if err != nil {
		return m, fmt.Errorf("validate %s: %w", p, err)
	}
	defer bdb.Close()
	n := 0
	err = bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func([]byte, *bolt.Bucket) error { n++; return nil })
	})
	if err != nil {
		return m, fmt.Errorf("validate %s: %w", p, err)
	}
	if n == 0 {
		return m, fmt.Errorf("validate %s: database has no buckets", p)
	}
	return m, nil
}

// openBoltReadOnly opens a bolt file read-only (shared bolt lock).
func openBoltReadOnly(p string) (*bolt.DB, error) {
	return bolt.Open(p, 0o444, &bolt.Options{ReadOnly: true, Timeout: openTimeout})
}
