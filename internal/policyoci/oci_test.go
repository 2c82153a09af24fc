package policyoci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipgate/shipgate/fixtures/images"
	"github.com/shipgate/shipgate/internal/policy"
	"github.com/shipgate/shipgate/policies"
)

func builtin(t *testing.T, n string) []byte {
	t.Helper()
	b, ok := policies.Builtin(n)
	if !ok {
		t.Fatalf("no builtin %s", n)
	}
	return b
}

// opts returns hermetic options: an anonymous keychain and a fresh cache.
func opts(t *testing.T, host string) Options {
	return Options{Insecure: []string{host}, Keychain: authn.NewMultiKeychain(), CacheDir: t.TempDir()}
}

func TestPushPullRoundTrip(t *testing.T) {
	ctx := context.Background()
	host := images.Registry(t)
	// Metadata from the custom section, as policy.Inspect reads it.
	wasm, err := policy.AddMetadataSection(builtin(t, "licenses"), []byte(`{"name":"licenses","version":"1.0.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	o := opts(t, host)
	o.Metadata = json.RawMessage(`{"name":"ignored: the section wins"}`)

	pinned, err := Push(ctx, "oci://"+host+"/policies/licenses:v1", wasm, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pinned, "oci://"+host+"/policies/licenses@sha256:") {
		t.Fatalf("push returned %q, want a digest reference", pinned)
	}
	again, err := Push(ctx, "oci://"+host+"/policies/licenses:v1-again", wasm, o)
	if err != nil || strings.TrimPrefix(again, "oci://"+host+"/policies/licenses") != strings.TrimPrefix(pinned, "oci://"+host+"/policies/licenses") {
		t.Errorf("pushing the same module twice gave %s and %s (%v): want the same digest", pinned, again, err)
	}

	for _, ref := range []string{"oci://" + host + "/policies/licenses:v1", pinned, "oci://" + host + "/policies/licenses:v1@" + pinned[strings.Index(pinned, "@")+1:]} {
		p, err := Pull(ctx, ref, o)
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		if !bytes.Equal(p.Wasm, wasm) {
			t.Errorf("pull %s: module differs", ref)
		}
		if p.Ref != pinned {
			t.Errorf("pull %s: Ref %s, want %s", ref, p.Ref, pinned)
		}
		if p.Config.Shape != "reactor" || p.Config.Digest != p.Digest || !strings.HasPrefix(p.Digest, "sha256:") {
			t.Errorf("pull %s: config %+v, digest %s", ref, p.Config, p.Digest)
		}
		if string(p.Config.Metadata) != `{"name":"licenses","version":"1.0.0"}` {
			t.Errorf("pull %s: config metadata %s", ref, p.Config.Metadata)
		}
	}
}

func TestPullDigestOffline(t *testing.T) {
	ctx := context.Background()
	host := images.Registry(t)
	o := opts(t, host)
	wasm := builtin(t, "default")
	o.Metadata = json.RawMessage(`{"name":"default"}`)
	pinned, err := Push(ctx, "oci://"+host+"/p/default:1", wasm, o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Pull(ctx, pinned, o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cached || string(p.Config.Metadata) != `{"name":"default"}` {
		t.Errorf("first pull: cached %v, metadata %s", p.Cached, p.Config.Metadata)
	}
	// The same reference, with the registry unreachable: served from cache.
	offline := o
	offline.Transport = failTransport{}
	p, err = Pull(ctx, pinned, offline)
	if err != nil {
		t.Fatalf("cached digest pull: %v", err)
	}
	if !p.Cached || !bytes.Equal(p.Wasm, wasm) {
		t.Errorf("cached pull: Cached=%v, module equal=%v", p.Cached, bytes.Equal(p.Wasm, wasm))
	}
	// A tag always needs the registry.
	if _, err := Pull(ctx, "oci://"+host+"/p/default:1", offline); err == nil {
		t.Error("a tag pull succeeded with the registry unreachable")
	}
}

// failTransport refuses every request (an offline registry).
type failTransport struct{}

func (failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("offline")
}

func TestPullErrors(t *testing.T) {
	ctx := context.Background()
	host := images.Registry(t)
	o := opts(t, host)
	first, err := Push(ctx, "oci://"+host+"/p/moving:stable", builtin(t, "default"), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, "oci://"+host+"/p/moving:stable", builtin(t, "licenses"), o); err != nil {
		t.Fatal(err)
	}
	firstDigest := first[strings.Index(first, "@")+1:]

	// An artifact whose layer is not WebAssembly.
	junk := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), ConfigMediaType)
	junk, err = mutate.AppendLayers(junk, static.NewLayer([]byte("#!/bin/sh\necho not wasm\n"), LayerMediaType))
	if err != nil {
		t.Fatal(err)
	}
	images.Push(t, host+"/p/junk:1", junk)
	// A plain container image.
	images.Push(t, host+"/p/image:1", images.Image(t, v1.Config{}, images.Layered{Layer: images.Layer(t, images.File("etc/x", "x"))}))

	tests := []struct {
		name, ref, want string
	}{
		{"tag moved", "oci://" + host + "/p/moving:stable@" + firstDigest, "tag stable moved"},
		{"missing tag", "oci://" + host + "/p/moving:nope", "not found in the registry"},
		{"missing repository", "oci://" + host + "/p/absent:1", "not found in the registry"},
		{"missing digest", "oci://" + host + "/p/moving@sha256:" + strings.Repeat("0", 64), "not found in the registry"},
		{"not wasm", "oci://" + host + "/p/junk:1", "is not a WebAssembly module"},
		{"container image", "oci://" + host + "/p/image:1", "not a policy artifact"},
		{"no registry", "oci://policies/default:1", "registry"},
		{"no tag", "oci://" + host + "/p/moving", "give a tag (:TAG) or a digest"},
		{"no repository", "oci://" + host, "want oci://REGISTRY/REPO"},
		{"no scheme", host + "/p/moving:stable", "must start with oci://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Pull(ctx, tt.ref, o)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Pull(%s) = %v, want an error containing %q", tt.ref, err, tt.want)
			}
		})
	}

	// The pinned digest alone still resolves: the registry keeps the manifest.
	if p, err := Pull(ctx, first, o); err != nil || !bytes.Equal(p.Wasm, builtin(t, "default")) {
		t.Errorf("pull %s after the tag moved: %v", first, err)
	}
}

func TestPullSizeCap(t *testing.T) {
	ctx := context.Background()
	host := images.Registry(t)
	o := opts(t, host)
	if _, err := Push(ctx, "oci://"+host+"/p/big:1", builtin(t, "default"), o); err != nil {
		t.Fatal(err)
	}
	o.MaxSize = 1024
	if _, err := Pull(ctx, "oci://"+host+"/p/big:1", o); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("pull over the cap: %v", err)
	}
	if _, err := Push(ctx, "oci://"+host+"/p/big:2", builtin(t, "default"), o); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("push over the cap: %v", err)
	}
}

func TestPushRefusesNonPolicies(t *testing.T) {
	ctx := context.Background()
	host := images.Registry(t)
	o := opts(t, host)
	for _, tt := range []struct{ name, ref, want string }{
		{"not wasm", "oci://" + host + "/p/x:1", "not a WebAssembly module"},
		{"digest", "oci://" + host + "/p/x@sha256:" + strings.Repeat("a", 64), "give a tag"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Push(ctx, tt.ref, []byte("hello"), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Push = %v, want %q", err, tt.want)
			}
		})
	}
	// A valid module with no policy shape (no exports).
	if _, err := Push(ctx, "oci://"+host+"/p/x:1", []byte("\x00asm\x01\x00\x00\x00"), o); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("push of a shapeless module: %v", err)
	}
}
