package pipeline

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipgate/shipgate/fixtures/images"
	"github.com/shipgate/shipgate/internal/report"
)

// TestImageScan runs the image stage through the pipeline: OS packages,
// language packages inside the image, and secrets in the image config,
// never printed in full.
func TestImageScan(t *testing.T) {
	const secret = "AKIAZ7VRSQ5QWERTYU7Q"
	const token = "ghp_" + "Zq8mT3vX9kL2pR7wY4nB6cD1fH5jG0sA2eU8"
	img := images.Image(t, v1.Config{Env: []string{"AWS_ACCESS_KEY_ID=" + secret, "PATH=/bin"}, User: "root"},
		images.Layered{Layer: images.Layer(t,
			images.File("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"),
			images.File("lib/apk/db/installed", "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\n"),
			images.File("app/node_modules/lodash/package.json", `{"name":"lodash","version":"4.17.20","license":"MIT"}`),
		), CreatedBy: "ADD rootfs /"},
		images.Layered{Layer: images.Layer(t, images.File("root/.token", "x")), CreatedBy: "RUN echo " + token + " > /root/.token"},
	)
	archive := filepath.Join(t.TempDir(), "img.tar")
	images.DockerArchive(t, archive, "example.com/app:1", img)
	rep, err := Scan(context.Background(), Options{Stages: []string{report.StageImage}, Image: archive})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target.Type != "image" || rep.OS == nil || rep.OS.Family != "alpine" || rep.Image == nil {
		t.Fatalf("target %+v os %+v", rep.Target, rep.OS)
	}
	names := map[string]string{}
	for _, p := range rep.Packages {
		names[p.Name] = p.Ecosystem
		if p.Layer == nil {
			t.Errorf("%s has no layer", p.Name)
		}
	}
	if names["musl"] != report.EcosystemApk || names["lodash"] != report.EcosystemNpm {
		t.Errorf("packages %v", names)
	}
	inEnv, inHistory := false, false
	for _, f := range rep.Findings {
		inEnv = inEnv || f.Kind == report.KindSecret && strings.Contains(f.Location.Path, "env")
		inHistory = inHistory || f.Kind == report.KindSecret && strings.Contains(f.Location.Path, "history") && strings.Contains(f.Rule, "github")
	}
	if !inEnv || !inHistory {
		t.Errorf("secrets in the env (%v) and the history (%v) are not both findings: %+v", inEnv, inHistory, rep.Findings)
	}
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), secret) || strings.Contains(string(b), secret[4:]) || strings.Contains(string(b), token[4:]) {
		t.Error("a secret appears in the report")
	}
}
