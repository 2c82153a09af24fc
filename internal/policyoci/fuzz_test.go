package policyoci

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FuzzCheckManifest parses arbitrary manifests (as a registry or a corrupt
// cache could return them): an error or a layer within the cap, never a
// panic.
func FuzzCheckManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.shipgate.policy.config.v1+json","size":10,"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},"layers":[{"mediaType":"application/vnd.wasm.content.layer.v1+wasm","size":8,"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"}]}`))
	f.Add([]byte(`{"layers":[{"mediaType":"application/wasm","size":-1,"digest":"md5:00"}]}`))
	f.Add([]byte(`{"manifests":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, mt := range []types.MediaType{types.OCIManifestSchema1, types.MediaType(mediaTypeOf(raw))} {
			_, l, err := checkManifest(mt, raw, 1<<20)
			if err == nil && (l.Size < 0 || l.Size > 1<<20 || l.Digest.Algorithm != "sha256") {
				t.Fatalf("accepted layer %+v", l)
			}
		}
	})
}

// FuzzParse reads arbitrary policy references: an error or a reference,
// never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"oci://127.0.0.1:5000/p/x:1", "oci://r.example/p@sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12", "oci://h/p:t@sha256:00", "oci://", "oci://h:1/a:b:c@@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parse(s, []string{"h"})
		if err == nil && p.ref == nil {
			t.Fatalf("parse(%q): no reference and no error", s)
		}
	})
}
