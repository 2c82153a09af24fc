package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shipgate/shipgate/internal/report"
)

// TestDebootstrapRootfs checks the image stage against dpkg itself: a
// real Debian root filesystem made by debootstrap, packed as an image
// layer, must give exactly the packages `dpkg-query -W` lists there. It
// needs a root filesystem: SHIPGATE_DEBIAN_ROOTFS=DIR names one, or
// SHIPGATE_DEBOOTSTRAP=1 makes one (debootstrap --variant=minbase
// bookworm, a few minutes and a Debian mirror).
func TestDebootstrapRootfs(t *testing.T) {
	root := os.Getenv("SHIPGATE_DEBIAN_ROOTFS")
	if root == "" && os.Getenv("SHIPGATE_DEBOOTSTRAP") == "1" {
		root = filepath.Join(t.TempDir(), "rootfs")
		if out, err := exec.Command("debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian").CombinedOutput(); err != nil {
			t.Fatalf("debootstrap: %v\n%s", err, out)
		}
	}
	if root == "" {
		t.Skip("no Debian root filesystem: set SHIPGATE_DEBIAN_ROOTFS=DIR or SHIPGATE_DEBOOTSTRAP=1")
	}
	out, err := exec.Command("dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f", "${Package} ${Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(want)

	tarPath := filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", root, "-cf", tarPath, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	layer, err := tarball.LayerFromFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ScanImage(context.Background(), &Source{Image: img, Name: "debootstrap"}, Analyzers(), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Packages {
		if p.Ecosystem == report.EcosystemDeb {
			got = append(got, p.Name+" "+p.Version)
			if p.Layer == nil || !strings.Contains(p.Purl, "distro=debian-12") {
				t.Errorf("%s: layer %v purl %s", p.Name, p.Layer, p.Purl)
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("packages differ from dpkg-query:\n got %d %v\nwant %d %v", len(got), got, len(want), want)
	}
	if res.OS == nil || res.OS.Family != "debian" || res.OS.Version != "12" {
		t.Errorf("OS %+v", res.OS)
	}
}
