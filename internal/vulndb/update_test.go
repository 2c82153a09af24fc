package vulndb

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUpdateAndOpen(t *testing.T) {
	host := newRegistry(t, nil)
	repo, _ := pushArtifact(t, host, fixV1.tgz)
	dir := filepath.Join(t.TempDir(), "cache", "db")
	opts := testOptions(t, repo)

	if !NeedsUpdate(dir, t1) {
		t.Fatal("NeedsUpdate(missing) = false")
	}
	if err := Update(context.Background(), dir, opts); err != nil {
		t.Fatalf("Update: %v", err)
	}
	assertDB(t, dir, fixV1)
	assertNoLeftovers(t, dir)
	m, err := ReadMetadata(dir)
	if err != nil || !m.DownloadedAt.Equal(t1.Add(time.Hour)) {
		t.Fatalf("DownloadedAt = %v, %v; want %v", m.DownloadedAt, err, t1.Add(time.Hour))
	}
	if NeedsUpdate(dir, t1.Add(2*time.Hour)) {
		t.Error("NeedsUpdate before NextUpdate = true")
	}

	// A handle opened before an update keeps working across the swap.
	old, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pushArtifact(t, host, fixV2.tgz)
	if err := Update(context.Background(), dir, opts); err != nil {
		t.Fatalf("second Update: %v", err)
	}
	if advs, err := old.GetAdvisories(testSource, testPkg); err != nil || len(advs) != 1 || advs[0].VulnerabilityID != fixV1.vulnID {
		t.Errorf("old handle after swap: %+v, %v", advs, err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	assertDB(t, dir, fixV2)
	assertNoLeftovers(t, dir)

	// OnlyIfNeeded does not download a current database.
	hits := 0
	opts.OnlyIfNeeded = true
	opts.Repositories = []string{"127.0.0.1:1/none:2"}
	opts.Logf = func(string, ...any) { hits++ }
	if err := Update(context.Background(), dir, opts); err != nil || hits != 1 {
		t.Errorf("OnlyIfNeeded Update = %v (log lines %d)", err, hits)
	}
}

// countingFault answers the first n of Update's manifest requests with
// status code, then passes through. Requests are told apart from the test's
// own pushes by the "shipgate" User-Agent.
func countingFault(code int, n int32, hits *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.UserAgent(), "shipgate") && strings.Contains(r.URL.Path, "/manifests/") {
				if hits.Add(1) <= n {
					http.Error(w, http.StatusText(code), code)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestUpdateRetriesOn429(t *testing.T) {
	var hits atomic.Int32
	host := newRegistry(t, countingFault(http.StatusTooManyRequests, 2, &hits))
	repo, _ := pushArtifact(t, host, fixV1.tgz)
	dir := filepath.Join(t.TempDir(), "db")
	start := time.Now()
	if err := Update(context.Background(), dir, testOptions(t, repo)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if hits.Load() != 3 {
		t.Errorf("manifest requests = %d, want 3 (2 refused + 1)", hits.Load())
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s; backoff not injected?", el)
	}
	assertDB(t, dir, fixV1)
}

func TestUpdateFallsThroughToNextRepository(t *testing.T) {
	var bad atomic.Int32
	badHost := newRegistry(t, countingFault(http.StatusInternalServerError, 1<<30, &bad))
	goodHost := newRegistry(t, nil)
	badRepo, _ := pushArtifact(t, badHost, fixV2.tgz)
	goodRepo, _ := pushArtifact(t, goodHost, fixV1.tgz)
	dir := filepath.Join(t.TempDir(), "db")
	if err := Update(context.Background(), dir, testOptions(t, badRepo, goodRepo)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := bad.Load(); got != int32(fastRetry.Attempts) {
		t.Errorf("requests to failing repository = %d, want %d", got, fastRetry.Attempts)
	}
	assertDB(t, dir, fixV1)

	// Every repository failing is an error naming each; the DB stays.
	err := Update(context.Background(), dir, testOptions(t, badRepo, badRepo))
	if err == nil || strings.Count(err.Error(), badRepo) < 2 {
		t.Fatalf("Update with only failing repositories = %v", err)
	}
	assertDB(t, dir, fixV1)
	assertNoLeftovers(t, dir)
}

func TestUpdateNotFoundIsNotRetried(t *testing.T) {
	var hits atomic.Int32
	host := newRegistry(t, countingFault(http.StatusNotFound, 1<<30, &hits))
	dir := filepath.Join(t.TempDir(), "db")
	if err := Update(context.Background(), dir, testOptions(t, host+"/aquasec/trivy-db")); err == nil {
		t.Fatal("Update from 404 succeeded")
	}
	if hits.Load() != 1 {
		t.Errorf("requests = %d, want 1 (404 is permanent)", hits.Load())
	}
}

// blobFault rewrites the body of GET blob responses for digest; chunked
// drops the Content-Length header so the client cannot pre-check the size.
func blobFault(digest string, chunked bool, rewrite func([]byte) []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+digest) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rewrite(rec.Body.Bytes())
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(rec.Code)
			if chunked {
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write(body)
		})
	}
}

func TestUpdateCorruptBlobKeepsOldDB(t *testing.T) {
	for _, tc := range []struct {
		name    string
		chunked bool
		rewrite func([]byte) []byte
		want    string
	}{
		{"truncated", false, func(b []byte) []byte { return b[:len(b)/2] }, "does not match expected size"},
		{"truncated chunked", true, func(b []byte) []byte { return b[:len(b)/2] }, "error verifying size"},
		{"appended junk", false, func(b []byte) []byte { return append(append([]byte(nil), b...), "junk"...) }, "does not match expected size"},
		{"corrupt deflate data", false, func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[len(c)-10] ^= 0xff
			return c
		}, "flate: corrupt input"},
		// The gzip MTIME field is covered by no checksum of gzip or tar:
		// only the layer digest catches this change.
		{"digest mismatch only", true, func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[4] ^= 0x01
			return c
		}, "checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var digest atomic.Value
			digest.Store("none")
			host := newRegistry(t, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					blobFault(digest.Load().(string), tc.chunked, tc.rewrite)(next).ServeHTTP(w, r)
				})
			})
			repo, d := pushArtifact(t, host, fixV2.tgz)
			digest.Store(d.String())
			dir := filepath.Join(t.TempDir(), "db")
			installFixture(t, dir, fixV1)
			err := Update(context.Background(), dir, testOptions(t, repo))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Update = %v, want error containing %q", err, tc.want)
			}
			assertDB(t, dir, fixV1)
			assertNoLeftovers(t, dir)
		})
	}
}

func TestUpdateRejectsUnsafeArchives(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []tarEntry
		maxSize int64
		want    string
	}{
		{"dot-dot", []tarEntry{{name: "../evil", body: []byte("x")}, {name: dbFile, body: fixV2.dbBytes}, {name: metadataFile, body: fixV2.metaJSON}}, 0, "path traversal"},
		{"nested dot-dot", []tarEntry{{name: dbFile, body: fixV2.dbBytes}, {name: "a/../../evil", body: []byte("x")}, {name: metadataFile, body: fixV2.metaJSON}}, 0, "path traversal"},
		{"absolute", []tarEntry{{name: "/tmp/evil", body: []byte("x")}}, 0, "absolute"},
		{"symlink", []tarEntry{{name: dbFile, typeflag: '2', linkname: "/etc/passwd"}, {name: metadataFile, body: fixV2.metaJSON}}, 0, "link"},
		{"hardlink", []tarEntry{{name: metadataFile, body: fixV2.metaJSON}, {name: dbFile, typeflag: '1', linkname: metadataFile}}, 0, "link"},
		{"fifo", []tarEntry{{name: dbFile, typeflag: '6'}}, 0, "unsupported type"},
		{"duplicate", []tarEntry{{name: dbFile, body: fixV2.dbBytes}, {name: "./" + dbFile, body: fixV2.dbBytes}}, 0, "twice"},
		{"gzip bomb", []tarEntry{{name: metadataFile, body: fixV2.metaJSON}, {name: dbFile, size: 8 << 20}}, 1 << 20, "size limit"},
		{"bomb in skipped entry", []tarEntry{{name: "padding", size: 8 << 20}, {name: dbFile, body: fixV2.dbBytes}, {name: metadataFile, body: fixV2.metaJSON}}, 1 << 20, "size limit"},
		{"missing metadata", []tarEntry{{name: dbFile, body: fixV2.dbBytes}}, 0, "no metadata.json"},
		{"schema v1", []tarEntry{{name: dbFile, body: fixV2.dbBytes}, {name: metadataFile, body: []byte(`{"Version":1}`)}}, 0, "schema version"},
		{"not bolt", []tarEntry{{name: dbFile, body: []byte("not a bolt database at all, just text")}, {name: metadataFile, body: fixV2.metaJSON}}, 0, "not usable"},
		{"bad metadata", []tarEntry{{name: dbFile, body: fixV2.dbBytes}, {name: metadataFile, body: []byte("{")}}, 0, "parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := newRegistry(t, nil)
			repo, _ := pushArtifact(t, host, makeTGZ(tc.entries))
			root := t.TempDir()
			dir := filepath.Join(root, "a", "db")
			installFixture(t, dir, fixV1)
			opts := testOptions(t, repo)
			opts.MaxSize = tc.maxSize
			err := Update(context.Background(), dir, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Update = %v, want error containing %q", err, tc.want)
			}
			assertDB(t, dir, fixV1)
			assertNoLeftovers(t, dir)
			_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Name() == "evil" {
					t.Errorf("%s was written", p)
				}
				return nil
			})
		})
	}
}

func TestUpdateLayerMissingAndTooLarge(t *testing.T) {
	host := newRegistry(t, nil)
	repo, _ := pushArtifact(t, host, fixV1.tgz)
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOptions(t, repo)
	opts.MaxSize = 100 // smaller than the compressed layer
	if err := Update(context.Background(), dir, opts); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Update over MaxSize = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("database directory created after failure: %v", err)
	}
}

func TestConcurrentUpdatesGoroutines(t *testing.T) {
	host := newRegistry(t, nil)
	repo, _ := pushArtifact(t, host, fixV1.tgz)
	dir := filepath.Join(t.TempDir(), "db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = Update(context.Background(), dir, testOptions(t, repo)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	assertDB(t, dir, fixV1)
	assertNoLeftovers(t, dir)
}

func TestConcurrentUpdatesProcesses(t *testing.T) {
	host := newRegistry(t, nil)
	repo, _ := pushArtifact(t, host, fixV2.tgz)
	dir := filepath.Join(t.TempDir(), "db")
	installFixture(t, dir, fixV1)

	var cmds []*exec.Cmd
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SHIPGATE_VULNDB_HELPER_DIR="+dir, "SHIPGATE_VULNDB_HELPER_REPO="+repo)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("child output: %s", out.String())
			}
		})
	}
	done := make(chan struct{})
	go func() {
		for _, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Errorf("child: %v", err)
			}
		}
		close(done)
	}()
	// Readers meanwhile always find a complete database (old or new).
	reads := 0
	for loop := true; loop; {
		select {
		case <-done:
			loop = false
		default:
		}
		d, err := Open(dir)
		if err != nil {
			t.Fatalf("Open during concurrent updates: %v", err)
		}
		advs, err := d.GetAdvisories(testSource, testPkg)
		if err != nil || len(advs) != 1 {
			t.Fatalf("read during concurrent updates: %+v, %v", advs, err)
		}
		d.Close()
		reads++
	}
	t.Logf("%d consistent reads during updates", reads)
	assertDB(t, dir, fixV2)
	assertNoLeftovers(t, dir)
}

func TestUpdateHonoursContext(t *testing.T) {
	var hits atomic.Int32
	host := newRegistry(t, countingFault(http.StatusServiceUnavailable, 1<<30, &hits))
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOptions(t, host+"/aquasec/trivy-db:2")
	opts.Retry = RetryPolicy{Attempts: 100, InitialBackoff: time.Hour, MaxElapsed: 2 * time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := Update(ctx, dir, opts)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update = %v, want deadline exceeded", err)
	}
}

func TestParseRepository(t *testing.T) {
	for in, want := range map[string]string{
		"ghcr.io/aquasecurity/trivy-db":                    "ghcr.io/aquasecurity/trivy-db:2",
		"ghcr.io/aquasecurity/trivy-db:2":                  "ghcr.io/aquasecurity/trivy-db:2",
		"localhost:5000/trivy-db":                          "localhost:5000/trivy-db:2",
		"mirror.gcr.io/aquasec/trivy-db:next":              "mirror.gcr.io/aquasec/trivy-db:next",
		"example.com/db@sha256:" + strings.Repeat("a", 64): "example.com/db@sha256:" + strings.Repeat("a", 64),
	} {
		ref, err := parseRepository(in, false)
		if err != nil || ref.Name() != want {
			t.Errorf("parseRepository(%q) = %v, %v; want %s", in, ref, err, want)
		}
	}
	if _, err := parseRepository("UPPER/Case:2", false); err == nil {
		t.Error("invalid reference accepted")
	}
}

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "db")
	if _, err := Open(missing); !errors.Is(err, ErrNoDB) {
		t.Errorf("Open(missing) = %v, want ErrNoDB", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open created %s", missing)
	}

	v1dir := filepath.Join(t.TempDir(), "db")
	installFixture(t, v1dir, fixV1)
	if err := os.WriteFile(filepath.Join(v1dir, metadataFile), []byte(`{"Version":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(v1dir); !errors.Is(err, ErrSchemaVersion) {
		t.Errorf("Open(schema 1) = %v, want ErrSchemaVersion", err)
	}

	a, b := filepath.Join(t.TempDir(), "db"), filepath.Join(t.TempDir(), "db")
	installFixture(t, a, fixV1)
	installFixture(t, b, fixV2)
	da, err := Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	if _, err := Open(b); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("Open of a second directory = %v, want already-open error", err)
	}
	da2, err := Open(a)
	if err != nil {
		t.Fatalf("second handle on the same directory: %v", err)
	}
	da2.Close()
	if _, err := da.GetAdvisories(testSource, testPkg); err != nil {
		t.Errorf("first handle after closing the second: %v", err)
	}
}

func TestEntryName(t *testing.T) {
	for in, want := range map[string]string{
		"trivy.db": "trivy.db", "./trivy.db": "trivy.db", "a/./b": "a/b",
		"../x": "", "a/../../x": "", "/etc/passwd": "", `..\x`: "", `\x`: "", "": "",
	} {
		got, err := entryName(in)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("entryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
