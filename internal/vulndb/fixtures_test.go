package vulndb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"
	bolt "go.etcd.io/bbolt"
)

const (
	testSource = "npm::GitHub Security Advisory npm"
	testPkg    = "lodash"
)

// fixture is one real trivy-db build: the files and their db.tar.gz.
type fixture struct {
	vulnID   string
	meta     Metadata
	dbBytes  []byte
	metaJSON []byte
	tgz      []byte
}

// Built once in TestMain, before any test runs: trivy-db's Init/Close use
// its process-global connection, which must not change under an open DB.
var fixV1, fixV2 fixture

var (
	t1 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("SHIPGATE_VULNDB_HELPER_DIR"); dir != "" {
		os.Exit(helperProcess(dir, os.Getenv("SHIPGATE_VULNDB_HELPER_REPO")))
	}
	var err error
	if fixV1, err = buildFixture("CVE-2021-23337", Metadata{Version: 2, UpdatedAt: t1, NextUpdate: t1.Add(24 * time.Hour)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if fixV2, err = buildFixture("CVE-2020-8203", Metadata{Version: 2, UpdatedAt: t2, NextUpdate: t2.Add(24 * time.Hour)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// helperProcess is the child side of TestConcurrentUpdatesProcesses.
func helperProcess(dir, repo string) int {
	err := Update(context.Background(), dir, UpdateOptions{
		Repositories: []string{repo},
		Insecure:     true,
		Keychain:     authn.NewMultiKeychain(),
		Retry:        fastRetry,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// buildFixture writes a real trivy.db with trivy-db's own db package: one
// data source, one advisory for lodash and its vulnerability details.
func buildFixture(vulnID string, meta Metadata) (fixture, error) {
	dir, err := os.MkdirTemp("", "vulndb-fixture-")
	if err != nil {
		return fixture{}, err
	}
	defer os.RemoveAll(dir)
	if err := trivydb.Init(dir); err != nil {
		return fixture{}, err
	}
	dbc := trivydb.Config{}
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		if err := dbc.PutDataSource(tx, testSource, types.DataSource{ID: "ghsa", Name: "GitHub Security Advisory npm", URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"}); err != nil {
			return err
		}
		if err := dbc.PutAdvisory(tx, []string{testSource, testPkg}, vulnID, types.Advisory{VulnerableVersions: []string{"<4.17.21"}, PatchedVersions: []string{"4.17.21"}}); err != nil {
			return err
		}
		return dbc.PutVulnerability(tx, vulnID, types.Vulnerability{Title: "lodash: command injection", Severity: "HIGH"})
	})
	if cerr := trivydb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fixture{}, err
	}
	f := fixture{vulnID: vulnID, meta: meta}
	if f.dbBytes, err = os.ReadFile(filepath.Join(dir, dbFile)); err != nil {
		return fixture{}, err
	}
	if f.metaJSON, err = json.Marshal(meta); err != nil {
		return fixture{}, err
	}
	f.tgz = makeTGZ([]tarEntry{{name: dbFile, body: f.dbBytes}, {name: metadataFile, body: f.metaJSON}})
	return f, nil
}

// tarEntry describes one member of a test archive.
type tarEntry struct {
	name     string
	body     []byte
	typeflag byte
	linkname string
	size     int64 // 0: len(body)
}

// makeTGZ builds a gzipped tar of entries.
func makeTGZ(entries []tarEntry) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typeflag, Linkname: e.linkname, ModTime: t1}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if e.size > 0 {
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if h.Typeflag == tar.TypeReg {
			if e.size > 0 {
				if _, err := io.CopyN(tw, zeroReader{}, e.size); err != nil {
					panic(err)
				}
			} else if _, err := tw.Write(e.body); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// fastRetry keeps fault tests fast.
var fastRetry = RetryPolicy{Attempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, MaxElapsed: 10 * time.Second}

// newRegistry serves an in-memory OCI registry on loopback; wrap (may be
// nil) intercepts requests to inject faults.
func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pushArtifact pushes tgz as a trivy-db artifact to host/aquasec/trivy-db:2
// and returns the repository reference and the layer digest.
func pushArtifact(t *testing.T, host string, tgz []byte) (string, v1.Hash) {
	t.Helper()
	repo := host + "/aquasec/trivy-db:2"
	layer := static.NewLayer(tgz, LayerMediaType)
	img := mutate.MediaType(empty.Image, ggcrtypes.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.aquasec.trivy.config.v1+json")
	img, err := mutate.Append(img, mutate.Addendum{Layer: layer, Annotations: map[string]string{"org.opencontainers.image.title": "db.tar.gz"}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", repo, err)
	}
	d, err := layer.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return repo, d
}

// testOptions returns hermetic UpdateOptions for repos.
func testOptions(t *testing.T, repos ...string) UpdateOptions {
	return UpdateOptions{
		Repositories: repos,
		Insecure:     true,
		Keychain:     authn.NewMultiKeychain(),
		Retry:        fastRetry,
		Logf:         t.Logf,
		Now:          func() time.Time { return t1.Add(time.Hour) },
	}
}

// installFixture writes f directly into dir (the "old" database).
func installFixture(t *testing.T, dir string, f fixture) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dbFile), f.dbBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, metadataFile), f.metaJSON, 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertDB checks that dir holds fixture f, opens it and finds its advisory.
func assertDB(t *testing.T, dir string, f fixture) {
	t.Helper()
	st, err := Status(dir)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.SchemaVersion != 2 || !st.UpdatedAt.Equal(f.meta.UpdatedAt) || !st.NextUpdate.Equal(f.meta.NextUpdate) {
		t.Fatalf("Status = %+v, want fixture with UpdatedAt %s", st, f.meta.UpdatedAt)
	}
	if st.Size != int64(len(f.dbBytes)) {
		t.Errorf("Size = %d, want %d", st.Size, len(f.dbBytes))
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer d.Close()
	advs, err := d.GetAdvisories(testSource, testPkg)
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 1 || advs[0].VulnerabilityID != f.vulnID || advs[0].DataSource == nil || advs[0].DataSource.ID != "ghsa" {
		t.Fatalf("advisories = %+v, want one %s from ghsa", advs, f.vulnID)
	}
	// The matcher calls trivy-db directly; that must see the same database.
	advs, err = d.Config().GetAdvisories(testSource, testPkg)
	if err != nil || len(advs) != 1 {
		t.Fatalf("Config().GetAdvisories = %v, %v", advs, err)
	}
	v, err := d.GetVulnerability(f.vulnID)
	if err != nil || v.Severity != "HIGH" {
		t.Fatalf("GetVulnerability = %+v, %v", v, err)
	}
}

// assertNoLeftovers checks that no temporary or set-aside directory remains
// beside dir.
func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), ".old-") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}
