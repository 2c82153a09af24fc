package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"
	bolt "go.etcd.io/bbolt"

	"github.com/shipgate/shipgate/internal/vulndb"
)

// pushTestDB serves a loopback registry holding a minimal trivy-db artifact
// (a real bolt file with one bucket) and returns its repository.
func pushTestDB(t *testing.T, updatedAt time.Time) string {
	t.Helper()
	dir := t.TempDir()
	bdb, err := bolt.Open(filepath.Join(dir, "trivy.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("data-source"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	dbBytes, err := os.ReadFile(filepath.Join(dir, "trivy.db"))
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(vulndb.Metadata{Version: 2, UpdatedAt: updatedAt, NextUpdate: updatedAt.Add(24 * time.Hour)})
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range []struct {
		name string
		body []byte
	}{{"trivy.db", dbBytes}, {"metadata.json", meta}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/aquasec/trivy-db:2"
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, ggcrtypes.OCIManifestSchema1), "application/vnd.aquasec.trivy.config.v1+json")
	img, err = mutate.AppendLayers(img, static.NewLayer(buf.Bytes(), vulndb.LayerMediaType))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return repo
}

// runDB runs `shipgate db ARGS...` and returns stdout, stderr and the error.
func runDB(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newDBCommand()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

func TestDBUpdateAndStatus(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // hermetic keychain
	updated := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	repo := pushTestDB(t, updated)
	dir := filepath.Join(t.TempDir(), "db")

	_, _, err := runDB(t, "status", "--db-dir", dir)
	if !errors.Is(err, vulndb.ErrNoDB) || !strings.Contains(err.Error(), "shipgate db update") {
		t.Fatalf("status without a database = %v", err)
	}

	_, stderr, err := runDB(t, "update", "--db-dir", dir, "--db-repository", repo, "--insecure-registry")
	if err != nil {
		t.Fatalf("update: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "built 2026-03-01T06:00:00Z") {
		t.Errorf("update stderr = %q", stderr)
	}

	out, _, err := runDB(t, "status", "--db-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Path:            " + dir, "Schema version:  2", "Updated at:      2026-03-01T06:00:00Z", "Next update:     2026-03-02T06:00:00Z", " bytes)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runDB(t, "status", "--db-dir", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st vulndb.StatusInfo
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.SchemaVersion != 2 || st.Size == 0 || st.Path != dir {
		t.Errorf("status --json = %+v, %v\n%s", st, err, out)
	}

	// A failing repository (404, not retried) leaves the database in place.
	missing := strings.Replace(repo, "/aquasec/", "/missing/", 1)
	if _, _, err := runDB(t, "update", "--db-dir", dir, "--db-repository", missing, "--insecure-registry"); err == nil || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Errorf("update from a missing repository = %v", err)
	}
	if _, err := vulndb.Status(dir); err != nil {
		t.Errorf("database gone after a failed update: %v", err)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
