package resultcache

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

func sampleResult() *plugins.Result {
	return &plugins.Result{
		Findings: []report.Finding{{
			ID: "aws-access-token:f1", Kind: report.KindSecret, Rule: "aws-access-token", Severity: report.SeverityCritical,
			CWEs: []string{"CWE-798"}, Location: report.Location{Path: "a/b.env", Line: 3, Column: 7},
			Fingerprint: "f1", Message: "AWS access key", Snippet: "AKIA…(20)", Analyzer: "secrets",
		}},
		Notes: []report.FileNote{{Path: "a/b.env", Message: "note"}},
	}
}

// store runs a scan of /src/app by build that misses k and stores a result.
func store(t *testing.T, dir, build string, k Key) {
	t.Helper()
	c, err := Open(dir, "/src/app", build)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(k); ok {
		t.Fatal("hit before the result was stored")
	}
	c.Put(k, sampleResult())
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFor(t *testing.T) {
	sum := ContentHash([]byte("x"))
	base := KeyFor("secrets", "cfg", "a/b", sum)
	// Length-prefixed fields: moving a byte between two fields changes the key.
	for name, k := range map[string]Key{
		"analyzer": KeyFor("gosec", "cfg", "a/b", sum),
		"config":   KeyFor("secrets", "cfg2", "a/b", sum),
		"path":     KeyFor("secrets", "cfg", "a/c", sum),
		"content":  KeyFor("secrets", "cfg", "a/b", ContentHash([]byte("y"))),
		"boundary": KeyFor("secretsc", "fg", "a/b", sum),
	} {
		if k == base {
			t.Errorf("a different %s gives the same key", name)
		}
	}
	if KeyFor("secrets", "cfg", "a/b", sum) != base {
		t.Error("the key is not deterministic")
	}
}

// TestRoundTrip: what one scan stores, the next scan of the same directory
// by the same build finds, unchanged; entries the second scan did not use
// are gone after its save.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k1 := KeyFor("secrets", "", "a", ContentHash([]byte("1")))
	k2 := KeyFor("secrets", "", "b", ContentHash([]byte("2")))
	c, err := Open(dir, "/src/app", "go:build1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(k1); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Put(k1, sampleResult())
	c.Put(k2, nil)
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}

	c, err = Open(dir, "/src/app", "go:build1")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k1)
	if !ok || !reflect.DeepEqual(got, sampleResult()) {
		t.Errorf("Get = %+v, %v; want %+v", got, ok, sampleResult())
	}
	if hits, misses := c.Stats(); hits != 1 || misses != 0 {
		t.Errorf("Stats = %d, %d", hits, misses)
	}
	if err := c.Save(); err != nil { // k2 was not used
		t.Fatal(err)
	}
	c, _ = Open(dir, "/src/app", "go:build1")
	if _, ok := c.Get(k2); ok {
		t.Error("an entry the last scan did not use survived its save")
	}
	if _, ok := c.Get(k1); !ok {
		t.Error("an entry the last scan used was dropped")
	}
}

// TestIsolation: another build, another directory or a damaged file give
// an empty cache, never an error that stops the scan nor a foreign result.
func TestIsolation(t *testing.T) {
	dir := t.TempDir()
	k := KeyFor("secrets", "", "a", ContentHash([]byte("1")))
	store(t, dir, "go:build1", k)
	if c, err := Open(dir, "/src/app", "go:build2"); err == nil || c == nil {
		t.Errorf("another build: err = %v", err)
	} else if _, ok := c.Get(k); ok {
		t.Error("another build got a result")
	}
	if c, err := Open(dir, "/src/other", "go:build1"); err != nil {
		t.Errorf("another directory: %v", err)
	} else if _, ok := c.Get(k); ok {
		t.Error("another directory got a result")
	}

	files, _ := filepath.Glob(filepath.Join(dir, "*.gob"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	for name, b := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"garbage":   []byte("not a gob stream"),
		"empty":     nil,
	} {
		if err := os.WriteFile(files[0], b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Open(dir, "/src/app", "go:build1")
		if err == nil || c == nil {
			t.Errorf("%s: err = %v", name, err)
			continue
		}
		if _, ok := c.Get(k); ok {
			t.Errorf("%s: got a result", name)
		}
		// The next save replaces the damaged file.
		c.Put(k, sampleResult())
		if err := c.Save(); err != nil {
			t.Errorf("%s: save: %v", name, err)
		}
		if c, err := Open(dir, "/src/app", "go:build1"); err != nil {
			t.Errorf("%s: after save: %v", name, err)
		} else if _, ok := c.Get(k); !ok {
			t.Errorf("%s: not replaced", name)
		}
	}
}

// TestConcurrent: workers look up and store at once (go test -race).
func TestConcurrent(t *testing.T) {
	c, _ := Open(t.TempDir(), "/src/app", "go:b")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				k := KeyFor("a", "", "p", ContentHash([]byte{byte(i), byte(j)}))
				c.Get(k)
				c.Put(k, &plugins.Result{})
			}
		}()
	}
	wg.Wait()
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if hits, misses := c.Stats(); hits != 0 || misses != 800 {
		t.Errorf("Stats = %d, %d", hits, misses)
	}
}

// FuzzRead: a damaged or hostile cache file is an error, never a panic.
func FuzzRead(f *testing.F) {
	want := header{Format: format, BuildID: "go:b", Root: "/r"}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	_ = enc.Encode(want)
	_ = enc.Encode([]entry{{Key{1}, *sampleResult()}, {Key{2}, plugins.Result{}}})
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = read(bytes.NewReader(b), want)
	})
}

// TestSaveKeeps: a scan that looked nothing up (no code stage) leaves the
// file as it was; a save removes other directories' files not written for
// MaxAge, and only those; an unchanged re-scan marks its file as in use.
func TestSaveKeeps(t *testing.T) {
	dir := t.TempDir()
	k := KeyFor("secrets", "", "a", ContentHash([]byte("1")))
	store(t, dir, "go:b", k)
	c, _ := Open(dir, "/src/app", "go:b")
	if err := c.Save(); err != nil { // no lookups
		t.Fatal(err)
	}
	c, _ = Open(dir, "/src/app", "go:b")
	if _, ok := c.Get(k); !ok {
		t.Error("a scan without lookups emptied the cache")
	}

	old := filepath.Join(dir, "0123.gob")
	recent := filepath.Join(dir, "4567.gob")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{old, recent, other} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-MaxAge - time.Hour)
	for _, p := range []string{old, other} {
		if err := os.Chtimes(p, long, long); err != nil {
			t.Fatal(err)
		}
	}
	c.Put(k, &plugins.Result{})
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{old: false, recent: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}

	// A directory re-scanned unchanged for longer than MaxAge writes
	// nothing, yet its file is in use: another directory's save keeps it.
	if err := os.Chtimes(c.path, long, long); err != nil {
		t.Fatal(err)
	}
	c, _ = Open(dir, "/src/app", "go:b")
	if _, ok := c.Get(k); !ok {
		t.Fatal("miss")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c2, _ := Open(dir, "/src/other", "go:b")
	if _, ok := c2.Get(k); ok {
		t.Fatal("another directory's cache served /src/app's result")
	}
	c2.Put(k, &plugins.Result{})
	if err := c2.Save(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{c.path: true, c2.path: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
