// Package resultcache keeps per-file analyzer results between scans of the
// same directory, so that a re-scan (a pre-push hook, a local `make scan`,
// a CI job restoring its cache) analyses only the files that changed.
//
// An entry is keyed by the analyzer, its configuration, the file's path and
// the SHA-256 of its content; the whole cache is tied to one build of
// shipgate (internal/buildid), so an upgraded analyzer never sees an older
// build's results. Only analyzers whose result depends on nothing but those
// (plugins.Cacheable) are cached. One file per scanned directory holds the
// entries; each save keeps only the entries the scan used, so files that
// were deleted or changed drop out by themselves.
package resultcache

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shipgate/shipgate/plugins"
)

// format changes whenever the meaning of a stored entry does.
const format = "shipgate-results-v1"

// MaxFileSize bounds the cache file read back (a larger one is ignored).
const MaxFileSize = 1 << 30

// MaxAge is how long the cache file of a directory that is no longer
// scanned is kept: each save removes the files older than this.
const MaxAge = 30 * 24 * time.Hour

// Key identifies one analyzer's result for one file's content.
type Key [sha256.Size]byte

// ContentHash is the SHA-256 of a file's content.
func ContentHash(data []byte) [sha256.Size]byte { return sha256.Sum256(data) }

// KeyFor derives the key of analyzer's result, under configuration config,
// for the file at path whose content hashes to content.
func KeyFor(analyzer, config, path string, content [sha256.Size]byte) Key {
	h := sha256.New()
	for _, s := range []string{analyzer, config, path} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	h.Write(content[:])
	var k Key
	h.Sum(k[:0])
	return k
}

// Cache holds the results of one directory's scans. It is safe for
// concurrent use.
type Cache struct {
	path    string
	header  header
	mu      sync.Mutex
	old     map[Key]*plugins.Result
	used    map[Key]*plugins.Result
	hits    int
	misses  int
	changed bool
}

// header is written before the entries; a file whose header differs from
// the running build's is ignored.
type header struct {
	Format  string
	BuildID string
	Root    string
}

// Open returns the cache of the directory root (an absolute path) kept in
// dir for the build buildID. It never fails to return a usable cache: a
// missing, unreadable, corrupt or foreign file gives an empty one, and the
// error says why (for a log line; nil when there was simply none yet).
func Open(dir, root, buildID string) (*Cache, error) {
	sum := sha256.Sum256([]byte(root))
	c := &Cache{
		path:   filepath.Join(dir, hex.EncodeToString(sum[:16])+".gob"),
		header: header{Format: format, BuildID: buildID, Root: root},
		old:    map[Key]*plugins.Result{},
		used:   map[Key]*plugins.Result{},
	}
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("result cache: %w", err)
	}
	defer f.Close()
	old, err := read(io.LimitReader(f, MaxFileSize), c.header)
	if err != nil {
		return c, fmt.Errorf("result cache %s: %w", c.path, err)
	}
	c.old = old
	return c, nil
}

// entry is one stored result. The file holds a list of them, not a map:
// gob sizes a map from the count the file claims before reading it, so a
// damaged file could ask for gigabytes, while a list grows with the data.
type entry struct {
	Key    Key
	Result plugins.Result
}

// errForeign marks a cache file written by another build or format.
var errForeign = errors.New("written by another build of shipgate; starting afresh")

// read decodes a cache file, which must have been written with want.
func read(r io.Reader, want header) (map[Key]*plugins.Result, error) {
	dec := gob.NewDecoder(bufio.NewReader(r))
	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if h != want {
		return nil, errForeign
	}
	var list []entry
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	entries := make(map[Key]*plugins.Result, len(list))
	for i := range list {
		entries[list[i].Key] = &list[i].Result
	}
	return entries, nil
}

// Get returns the result stored under k by an earlier scan.
func (c *Cache) Get(k Key) (*plugins.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.old[k]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.used[k] = r
	return r, true
}

// Put stores r under k for later scans. The caller must not change r
// afterwards.
func (c *Cache) Put(k Key, r *plugins.Result) {
	if r == nil {
		r = &plugins.Result{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[k] = r
	c.changed = true
}

// Stats returns how many lookups this scan found in the cache and missed.
func (c *Cache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// Save writes the entries this scan used (found or stored), replacing the
// file atomically, so that a concurrent scan reads the old file or the new
// one, never a mix. Nothing is written when the scan looked nothing up (a
// scan without the code stage keeps the file as it was); when nothing
// changed, the file only gets the current time, which marks it as in use.
// Cache files of other directories not written or used for MaxAge are
// removed.
func (c *Cache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits+c.misses == 0 {
		return nil
	}
	if !c.changed && len(c.used) == len(c.old) {
		// An unchanged tree re-scanned for weeks must not look abandoned
		// to other directories' saves (prune). No file yet: nothing to mark.
		now := time.Now()
		if err := os.Chtimes(c.path, now, now); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("result cache: %w", err)
		}
		return nil
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("result cache: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := gob.NewEncoder(w)
	list := make([]entry, 0, len(c.used))
	for k, r := range c.used {
		list = append(list, entry{Key: k, Result: *r})
	}
	err = enc.Encode(c.header)
	if err == nil {
		err = enc.Encode(list)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("result cache %s: %w", c.path, err)
	}
	c.old, c.changed = c.used, false
	prune(dir, time.Now().Add(-MaxAge))
	return nil
}

// prune removes the cache files (and leftover temporary files) in dir last
// written or marked as used (Save) before cutoff.
func prune(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".gob") && !strings.HasPrefix(name, ".tmp-") {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, name))
		}
	}
}
