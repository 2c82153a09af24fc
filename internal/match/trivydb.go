package match

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/types"
	bolt "go.etcd.io/bbolt"
)

// Bucket names fixed by trivy-db's layout.
const (
	dataSourceBucket    = "data-source"
	vulnerabilityBucket = "vulnerability"
)

// TrivyDB is a read-only Source over a trivy-db v2 database directory
// (trivy.db, metadata.json).
//
// It opens trivy.db with bbolt directly rather than through trivy-db's
// pkg/db: that package keeps the connection in a package-level variable set
// by db.Init (one database per process, opened read-write unless told
// otherwise) and rescans the root buckets with a cursor on every
// GetAdvisories call. TrivyDB instead holds its own read-only handle, lists
// the root buckets and data sources once when opened, and decodes values
// with trivy-db's own types, so the layout and encoding are trivy-db's.
// A TrivyDB is safe for concurrent use.
type TrivyDB struct {
	db      *bolt.DB
	path    string
	roots   []string // sorted root bucket names
	sources map[string]types.DataSource
}

// OpenTrivyDB opens dir/trivy.db read-only. When dir/metadata.json exists its
// schema Version must be 2.
func OpenTrivyDB(dir string) (*TrivyDB, error) {
	path := filepath.Join(dir, "trivy.db")
	if err := checkMetadata(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	db, err := bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w", path, err)
	}
	t := &TrivyDB{db: db, path: path, sources: map[string]types.DataSource{}}
	err = t.view(func(tx *bolt.Tx) error {
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			t.roots = append(t.roots, string(name))
			return nil
		}); err != nil {
			return err
		}
		b := tx.Bucket([]byte(dataSourceBucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var ds types.DataSource
			if v == nil {
				return nil
			}
			if err := json.Unmarshal(v, &ds); err != nil {
				return fmt.Errorf("data source %q: %w", k, err)
			}
			t.sources[string(k)] = ds
			return nil
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read vulnerability database %s: %w", path, err)
	}
	slices.Sort(t.roots)
	return t, nil
}

// checkMetadata rejects a metadata.json of another schema version.
func checkMetadata(dir string) error {
	p := filepath.Join(dir, "metadata.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	var m struct{ Version int }
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("parse %s: %w", p, err)
	}
	if m.Version != 2 {
		return fmt.Errorf("%s: unsupported trivy-db schema version %d (want 2)", p, m.Version)
	}
	return nil
}

// Close closes the database.
func (t *TrivyDB) Close() error {
	if err := t.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", t.path, err)
	}
	return nil
}

// view runs fn in a read transaction, turning a bbolt panic on a corrupt
// file (bad page, fault on the memory map) into an error.
func (t *TrivyDB) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt database %s: %v", t.path, r)
		}
	}()
	return t.db.View(fn)
}

// Buckets returns the root bucket names that start with prefix, sorted.
func (t *TrivyDB) Buckets(prefix string) ([]string, error) {
	i, _ := slices.BinarySearch(t.roots, prefix)
	j := i
	for j < len(t.roots) && strings.HasPrefix(t.roots[j], prefix) {
		j++
	}
	return slices.Clip(t.roots[i:j]), nil
}

// Advisories returns the advisories stored under bucket/pkgName, in key
// order, with VulnerabilityID and DataSource filled in. A value holding
// per-arch Entries (types.Advisories, used by Rocky, Alma, Oracle...) is
// flattened into one advisory per entry; a legacy value with only a
// top-level FixedVersion becomes one advisory.
func (t *TrivyDB) Advisories(bucket, pkgName string) ([]types.Advisory, error) {
	var out []types.Advisory
	err := t.view(func(tx *bolt.Tx) error {
		var err error
		out, err = t.newTxReader(tx).advisories(bucket, pkgName, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read advisories: %w", err)
	}
	detach(out)
	return out, nil
}

// withReader runs fn with a reader over one read transaction, turning a
// bbolt panic on a corrupt file (bad page, fault on the memory map) into an
// error. Several may run at once: each has its own transaction.
func (t *TrivyDB) withReader(fn func(*txReader) error) error {
	return t.view(func(tx *bolt.Tx) error { return fn(t.newTxReader(tx)) })
}

// txReader reads advisories and details through one read transaction. It
// is not safe for concurrent use (nor is a bolt.Tx).
type txReader struct {
	t     *TrivyDB
	tx    *bolt.Tx
	roots map[string]*bolt.Bucket // opened root buckets (nil: absent)
	vulns *bolt.Bucket
	ds    map[string]*types.DataSource // shared by the advisories of a bucket
	key   []byte                       // reused lookup key
}

func (t *TrivyDB) newTxReader(tx *bolt.Tx) *txReader {
	return &txReader{t: t, tx: tx, roots: map[string]*bolt.Bucket{}, vulns: tx.Bucket([]byte(vulnerabilityBucket)), ds: map[string]*types.DataSource{}}
}

func (r *txReader) buckets(prefix string) ([]string, error) { return r.t.Buckets(prefix) }

// root returns the root bucket and the data source of name.
func (r *txReader) root(name string) (*bolt.Bucket, *types.DataSource) {
	b, ok := r.roots[name]
	if !ok {
		b = r.tx.Bucket([]byte(name))
		r.roots[name] = b
		if d, ok := r.t.sources[name]; ok {
			r.ds[name] = &d
		}
	}
	return b, r.ds[name]
}

// advisories appends the advisories of pkgName in bucket to buf, with
// VulnerabilityID set and DataSource pointing at one value shared by the
// bucket's advisories (callers must not modify it).
func (r *txReader) advisories(bucket, pkgName string, buf []types.Advisory) ([]types.Advisory, error) {
	root, ds := r.root(bucket)
	if root == nil {
		return buf, nil
	}
	r.key = append(r.key[:0], pkgName...)
	b := root.Bucket(r.key)
	if b == nil {
		return buf, nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) == 0 {
			continue // nested bucket or empty value
		}
		n := len(buf)
		var err error
		if buf, err = appendAdvisories(buf, v); err != nil {
			return buf, fmt.Errorf("advisory %s/%s/%s: %w", bucket, pkgName, k, err)
		}
		id := string(k)
		for i := n; i < len(buf); i++ {
			buf[i].VulnerabilityID = id
			buf[i].DataSource = ds
		}
	}
	return buf, nil
}

// vulnerability returns the details of id; ok is false when the database
// has none.
func (r *txReader) vulnerability(id string) (v types.Vulnerability, ok bool, err error) {
	if r.vulns == nil {
		return v, false, nil
	}
	r.key = append(r.key[:0], id...)
	val := r.vulns.Get(r.key)
	if val == nil {
		return v, false, nil
	}
	if err := json.Unmarshal(val, &v); err != nil {
		return types.Vulnerability{}, false, fmt.Errorf("vulnerability %s: %w", id, err)
	}
	return v, true, nil
}

// dbAdvisory is the stored form of types.Advisory (Status as an integer)
// and of types.Advisories (Entries), decoded in one pass.
type dbAdvisory struct {
	VendorIDs          []string       `json:",omitempty"`
	Arches             []string       `json:",omitempty"`
	IntStatus          int            `json:"Status,omitempty"`
	Severity           types.Severity `json:",omitempty"`
	FixedVersion       string         `json:",omitempty"`
	VulnerableVersions []string       `json:",omitempty"`
	PatchedVersions    []string       `json:",omitempty"`
	UnaffectedVersions []string       `json:",omitempty"`
	Entries            []dbAdvisory   `json:",omitempty"`
}

func (a dbAdvisory) advisory() types.Advisory {
	return types.Advisory{
		VendorIDs:          a.VendorIDs,
		Arches:             a.Arches,
		Status:             types.Status(a.IntStatus),
		Severity:           a.Severity,
		FixedVersion:       a.FixedVersion,
		VulnerableVersions: a.VulnerableVersions,
		PatchedVersions:    a.PatchedVersions,
		UnaffectedVersions: a.UnaffectedVersions,
	}
}

// decodeAdvisory decodes one advisory value as trivy-db encodes it
// (types.Advisory.MarshalJSON, or types.Advisories with per-arch Entries),
// flattening Entries.
func decodeAdvisory(v []byte) ([]types.Advisory, error) {
	return appendAdvisories(nil, v)
}

// appendAdvisories is decodeAdvisory appending to buf.
func appendAdvisories(buf []types.Advisory, v []byte) ([]types.Advisory, error) {
	var a dbAdvisory
	if err := json.Unmarshal(v, &a); err != nil {
		return buf, err
	}
	if len(a.Entries) == 0 {
		return append(buf, a.advisory()), nil
	}
	for _, e := range a.Entries {
		buf = append(buf, e.advisory())
	}
	return buf, nil
}

// Vulnerability returns the details of id; ok is false when the database
// has none.
func (t *TrivyDB) Vulnerability(id string) (v types.Vulnerability, ok bool, err error) {
	err = t.view(func(tx *bolt.Tx) error {
		v, ok, err = t.newTxReader(tx).vulnerability(id)
		return err
	})
	if err != nil {
		return types.Vulnerability{}, false, fmt.Errorf("read vulnerability: %w", err)
	}
	return v, ok, nil
}

// RedHatCPEIndices returns the sorted, duplicate-free CPE indices that the
// "Red Hat CPE" bucket maps the repositories (content sets) and NVRs
// (name-version-release-arch) to; unknown ones map to nothing.
func (t *TrivyDB) RedHatCPEIndices(repositories, nvrs []string) ([]int, error) {
	var out []int
	err := t.view(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte(redhatCPEBucket))
		if root == nil {
			return nil
		}
		for _, kind := range []struct {
			bucket string
			keys   []string
		}{{redhatRepoBucket, repositories}, {redhatNVRBucket, nvrs}} {
			b := root.Bucket([]byte(kind.bucket))
			if b == nil {
				continue
			}
			for _, k := range kind.keys {
				if k == "" {
					continue
				}
				v := b.Get([]byte(k))
				if v == nil {
					continue
				}
				idx, err := decodeCPEIndices(v)
				if err != nil {
					return fmt.Errorf("%s/%s/%s: %w", redhatCPEBucket, kind.bucket, k, err)
				}
				out = append(out, idx...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read Red Hat CPEs: %w", err)
	}
	return sortedUnique(out), nil
}

// RedHatAdvisories returns the Red Hat advisories of pkgName that affect
// one of the CPE indices cpes (sorted), in key order (see
// Source.RedHatAdvisories).
func (t *TrivyDB) RedHatAdvisories(pkgName string, cpes []int) ([]types.Advisory, error) {
	var out []types.Advisory
	err := t.view(func(tx *bolt.Tx) error {
		var err error
		out, err = t.newTxReader(tx).redhatAdvisories(pkgName, cpes, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read Red Hat advisories: %w", err)
	}
	detach(out)
	return out, nil
}

// redhatAdvisories appends the Red Hat advisories of pkgName that affect
// one of cpes to buf; DataSource points at one value shared by the
// bucket's advisories and VendorIDs may be shared too (callers must not
// modify either).
func (r *txReader) redhatAdvisories(pkgName string, cpes []int, buf []types.Advisory) ([]types.Advisory, error) {
	root, ds := r.root(redhatBucket)
	if root == nil || len(cpes) == 0 {
		return buf, nil
	}
	r.key = append(r.key[:0], pkgName...)
	b := root.Bucket(r.key)
	if b == nil {
		return buf, nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) == 0 {
			continue // nested bucket or empty value
		}
		var err error
		if buf, err = appendRedHatAdvisories(buf, string(k), v, cpes, ds); err != nil {
			return buf, fmt.Errorf("advisory %s/%s/%s: %w", redhatBucket, pkgName, k, err)
		}
	}
	return buf, nil
}

// detach gives each advisory its own copy of what the transaction reader
// shares between advisories (the data source, vendor ids), as callers of the
// exported methods may modify them.
func detach(out []types.Advisory) {
	for i := range out {
		if out[i].DataSource != nil {
			d := *out[i].DataSource
			out[i].DataSource = &d
		}
		out[i].VendorIDs = slices.Clone(out[i].VendorIDs)
	}
}
