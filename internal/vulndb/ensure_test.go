package vulndb

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnsure(t *testing.T) {
	host := newRegistry(t, nil)
	goodRepo, _ := pushArtifact(t, host, fixV2.tgz)
	deadRepo := "127.0.0.1:1/aquasec/trivy-db:2" // nothing listens on port 1

	fresh := t1.Add(time.Hour)      // before fixV1.NextUpdate
	stale := t1.Add(72 * time.Hour) // past fixV1.NextUpdate
	for _, tc := range []struct {
		name      string
		cached    bool
		now       time.Time
		repo      string
		opts      EnsureOptions
		wantErr   string
		wantNoDB  bool
		wantFix   *fixture
		wantWarns []string
	}{
		{name: "missing offline", opts: EnsureOptions{Offline: true}, repo: goodRepo, now: fresh, wantErr: "--offline", wantNoDB: true},
		{name: "missing skip update", opts: EnsureOptions{SkipUpdate: true}, repo: goodRepo, now: fresh, wantErr: "--skip-db-update", wantNoDB: true},
		{name: "missing downloads", repo: goodRepo, now: fresh, wantFix: &fixV2, wantWarns: nil},
		{name: "missing and unreachable", repo: deadRepo, now: fresh, wantErr: "download failed"},
		{name: "fresh cache no download", cached: true, repo: deadRepo, now: fresh, wantFix: &fixV1},
		// fixV2's NextUpdate has passed too, but it was just downloaded: no warning.
		{name: "stale cache refreshed", cached: true, repo: goodRepo, now: stale, wantFix: &fixV2},
		{name: "stale cache unreachable warns", cached: true, repo: deadRepo, now: stale, wantFix: &fixV1, wantWarns: []string{"could not update", "stale"}},
		{name: "stale cache offline warns", cached: true, repo: goodRepo, now: stale, opts: EnsureOptions{Offline: true}, wantFix: &fixV1, wantWarns: []string{"stale"}},
		{name: "stale cache skip update warns", cached: true, repo: goodRepo, now: stale, opts: EnsureOptions{SkipUpdate: true}, wantFix: &fixV1, wantWarns: []string{"stale"}},
		{name: "max age exceeded", cached: true, repo: deadRepo, now: stale, opts: EnsureOptions{MaxAge: 48 * time.Hour}, wantErr: "--db-max-age"},
		{name: "max age ok", cached: true, repo: deadRepo, now: fresh, opts: EnsureOptions{MaxAge: 48 * time.Hour}, wantFix: &fixV1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			if tc.cached {
				installFixture(t, dir, fixV1)
			}
			opts := tc.opts
			opts.Update = testOptions(t, tc.repo)
			opts.Update.Retry = RetryPolicy{Attempts: 1}
			now := tc.now
			opts.Update.Now = func() time.Time { return now }
			d, warns, err := Ensure(context.Background(), dir, opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Ensure = %v, want error containing %q", err, tc.wantErr)
				}
				if tc.wantNoDB && !errors.Is(err, ErrNoDB) {
					t.Errorf("error %v does not wrap ErrNoDB", err)
				}
				if d != nil {
					t.Error("DB returned with error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			if got := d.Metadata().UpdatedAt; !got.Equal(tc.wantFix.meta.UpdatedAt) {
				t.Errorf("opened DB UpdatedAt = %s, want %s", got, tc.wantFix.meta.UpdatedAt)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if len(warns) != len(tc.wantWarns) {
				t.Fatalf("warnings = %q, want %d containing %q", warns, len(tc.wantWarns), tc.wantWarns)
			}
			for i, w := range tc.wantWarns {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %d = %q, want %q", i, warns[i], w)
				}
			}
			assertDB(t, dir, *tc.wantFix)
		})
	}
}

func TestNeedsUpdate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	installFixture(t, dir, fixV1)
	next := fixV1.meta.NextUpdate
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{next.Add(-time.Minute), false},
		{next, false},
		{next.Add(time.Minute), true},
	} {
		if got := NeedsUpdate(dir, tc.now); got != tc.want {
			t.Errorf("NeedsUpdate(%s) = %v, want %v", tc.now, got, tc.want)
		}
	}
	// Downloaded within the last hour: wait even if NextUpdate passed.
	m := fixV1.meta
	m.DownloadedAt = next.Add(30 * time.Minute)
	if err := writeMetadata(dir, m); err != nil {
		t.Fatal(err)
	}
	if NeedsUpdate(dir, next.Add(time.Hour)) {
		t.Error("NeedsUpdate right after a download = true")
	}
	if !NeedsUpdate(dir, next.Add(2*time.Hour)) {
		t.Error("NeedsUpdate an hour after the download = false")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, err := DefaultDir(); err != nil || d != filepath.Join("/xdg", "shipgate", "db") {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, err := DefaultDir(); err != nil || d != filepath.Join("/home/u", ".cache", "shipgate", "db") {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
}
