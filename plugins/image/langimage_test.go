package image

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipgate/shipgate/fixtures/images"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/deps"
)

// TestLanguagePackagesInImage: installed gems (specifications/*.gemspec)
// and a Rust binary built with cargo-auditable, found inside an image by the
// deps stage's analyzers, each attributed to its layer.
func TestLanguagePackagesInImage(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	rake := read("../deps/gemspec/testdata/usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec")
	rack := read("../deps/gemspec/testdata/usr/local/bundle/specifications/rack-2.2.22.gemspec")
	bin := read("../deps/cargoauditable/testdata/hello-auditable")
	img := images.Image(t, v1.Config{},
		images.Layered{Layer: images.Layer(t,
			images.File("etc/os-release", osRelease),
			images.File("usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec", rake)), CreatedBy: "ADD rootfs.tar /"},
		images.Layered{Layer: images.Layer(t,
			images.File("usr/local/bundle/specifications/rack-2.2.22.gemspec", rack),
			images.Entry{Name: "usr/local/bin/hello-auditable", Body: bin, Mode: 0o755}), CreatedBy: "COPY --from=build /app /usr/local/bin/"},
	)
	dir := t.TempDir()
	archive := filepath.Join(dir, "img.tar")
	images.DockerArchive(t, archive, "example.com/lang:1", img)
	res, err := Scan(context.Background(), archive, append(Analyzers(), deps.Analyzers()...), Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	diff := func(i int) string { d, _ := layers[i].DiffID(); return d.String() }
	want := map[string]struct {
		eco   string
		layer int
	}{
		"rake@13.0.6":           {report.EcosystemGem, 0},
		"rack@2.2.22":           {report.EcosystemGem, 1},
		"hello-auditable@0.1.0": {report.EcosystemCargo, 1},
		"serde@1.0.193":         {report.EcosystemCargo, 1},
		"openssl-sys@0.9.96":    {report.EcosystemCargo, 1},
	}
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Name+"@"+p.Version] = p
	}
	for k, w := range want {
		p, ok := got[k]
		if !ok {
			t.Errorf("%s not found in %v", k, keys(got))
			continue
		}
		if p.Ecosystem != w.eco || p.Layer == nil || p.Layer.DiffID != diff(w.layer) {
			t.Errorf("%s: ecosystem %s layer %+v, want %s in layer %d", k, p.Ecosystem, p.Layer, w.eco, w.layer)
		}
	}
	if _, ok := got["syn@2.0.39"]; ok {
		t.Error("a build-only crate is listed as shipped")
	}
}
