package image

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipgate/shipgate/fixtures/images"
)

// sign pushes a cosign-style signature, made with key, of the image with
// digest signed, at the signature tag of the image with digest at.
func sign(t *testing.T, repo, at, signed string, key *ecdsa.PrivateKey) {
	t.Helper()
	payload := fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, repo, signed)
	h := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sigImg, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:       static.NewLayer(payload, types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json")),
		Annotations: map[string]string{cosignAnnotation: base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		t.Fatal(err)
	}
	images.Push(t, repo+":"+strings.Replace(at, ":", "-", 1)+".sig", sigImg)
}

func writeKey(t *testing.T, dir string, key *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "cosign.pub")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	return p
}

func TestVerifySignature(t *testing.T) {
	host := images.Registry(t)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, err := LoadPublicKey(writeKey(t, dir, key))
	if err != nil {
		t.Fatal(err)
	}

	mk := func(tag, body string) (string, v1.Image, string) {
		t.Helper()
		img := images.Image(t, v1.Config{}, images.Layered{Layer: images.Layer(t, images.File("etc/os-release", "ID="+body+"\n"))})
		ref := host + "/app:" + tag
		images.Push(t, ref, img)
		d, _ := img.Digest()
		return ref, img, d.String()
	}
	signedRef, signedImg, signedDigest := mk("signed", "a")
	sign(t, host+"/app", signedDigest, signedDigest, key)
	unsignedRef, _, _ := mk("unsigned", "b")
	wrongKeyRef, _, wrongKeyDigest := mk("wrongkey", "c")
	sign(t, host+"/app", wrongKeyDigest, wrongKeyDigest, other)
	// A valid signature of another image, copied under this image's tag.
	swappedRef, _, swappedDigest := mk("swapped", "d")
	sign(t, host+"/app", swappedDigest, signedDigest, key)

	for _, tt := range []struct{ ref, want, reason string }{
		{signedRef, SignatureVerified, ""},
		{unsignedRef, SignatureUnsigned, "no signature"},
		{wrongKeyRef, SignatureInvalid, "does not verify"},
		{swappedRef, SignatureInvalid, "signature is for"},
	} {
		t.Run(tt.want+" "+tt.ref[strings.LastIndex(tt.ref, ":")+1:], func(t *testing.T) {
			res, err := Scan(context.Background(), tt.ref, Analyzers(), Options{Source: SourceOptions{Insecure: []string{host}}, VerifyKey: pub, TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if res.Image.Signature != tt.want || !strings.Contains(res.Image.SignatureReason, tt.reason) {
				t.Errorf("signature %s (%s), want %s (%s)", res.Image.Signature, res.Image.SignatureReason, tt.want, tt.reason)
			}
		})
	}
	// Archives have no registry to hold signatures.
	archive := filepath.Join(dir, "a.tar")
	images.DockerArchive(t, archive, "example.com/a:1", signedImg)
	res, err := Scan(context.Background(), archive, Analyzers(), Options{VerifyKey: pub, TempDir: dir})
	if err != nil || res.Image.Signature != SignatureNotChecked {
		t.Errorf("archive: %v %+v", err, res.Image)
	}
	if _, err := LoadPublicKey(filepath.Join(dir, "missing.pub")); err == nil {
		t.Error("missing key accepted")
	}
}
