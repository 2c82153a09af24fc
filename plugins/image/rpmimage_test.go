package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipgate/shipgate/fixtures/images"
)

// TestRPMImages scans images whose RPM database is in each format rpm has
// used, through the whole image path (layers, OS detection, purls). The
// databases are go-rpmdb's own, taken from real images.
func TestRPMImages(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Skipf("go-rpmdb module not found: %v", err)
	}
	td := filepath.Join(strings.TrimSpace(string(out)), "pkg", "testdata")
	for _, tt := range []struct {
		name, db, target, osRelease string
		family, pkg, purl           string
		count                       int
	}{
		{"fedora35-sqlite", "fedora35/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite",
			"ID=fedora\nVERSION_ID=35\n", "fedora", "bash",
			"pkg:rpm/fedora/bash@5.1.8-2.fc35?arch=x86_64&distro=fedora-35", 137},
		{"sle15-ndb", "sle15-bci/Packages.db", "usr/lib/sysimage/rpm/Packages.db",
			"ID=\"sles\"\nVERSION_ID=\"15.3\"\n", "sles", "libreadline7",
			"pkg:rpm/sles/libreadline7@7.0-19.6.1?arch=x86_64&distro=sles-15.3&upstream=bash", 35},
		{"centos7-bdb", "centos7-plain/Packages", "var/lib/rpm/Packages",
			"ID=\"centos\"\nVERSION_ID=\"7\"\n", "centos", "bash",
			"pkg:rpm/centos/bash@4.2.46-30.el7?arch=x86_64&distro=centos-7", 144},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := os.ReadFile(filepath.Join(td, tt.db))
			if err != nil {
				t.Skip(err)
			}
			img := images.Image(t, v1.Config{},
				images.Layered{Layer: images.Layer(t, images.File("etc/os-release", tt.osRelease)), CreatedBy: "ADD rootfs.tar /"},
				images.Layered{Layer: images.Layer(t, images.File(tt.target, string(db))), CreatedBy: "RUN dnf install -y bash"},
			)
			dir := t.TempDir()
			layout := filepath.Join(dir, "img.tar")
			images.DockerArchive(t, layout, "example.com/rpm:1", img)
			res, err := Scan(context.Background(), layout, Analyzers(), Options{TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if res.OS == nil || res.OS.Family != tt.family {
				t.Fatalf("OS %+v", res.OS)
			}
			if len(res.Packages) != tt.count {
				t.Errorf("%d packages, want %d (rpm -qa in that image)", len(res.Packages), tt.count)
			}
			layers, _ := img.Layers()
			top, _ := layers[1].DiffID()
			found := false
			for _, p := range res.Packages {
				if p.Name == tt.pkg {
					found = true
					if p.Purl != tt.purl || p.Layer == nil || p.Layer.DiffID != top.String() {
						t.Errorf("%s: purl %s layer %+v", p.Name, p.Purl, p.Layer)
					}
				}
			}
			if !found {
				t.Errorf("%s not found", tt.pkg)
			}
			for _, a := range res.Analyzers {
				if a.Status == "error" {
					t.Errorf("analyzer %s: %+v", a.Name, a.Errors)
				}
			}
		})
	}
}
