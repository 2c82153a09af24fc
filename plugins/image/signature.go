package image

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Signature results, as report.Image.Signature holds them.
const (
	SignatureVerified   = "verified"
	SignatureUnsigned   = "unsigned"
	SignatureInvalid    = "invalid"
	SignatureNotChecked = "not-checked"
)

// cosignAnnotation holds the base64 signature of a cosign signature layer.
const cosignAnnotation = "dev.cosignproject.cosign/signature"

// simpleSigning is the payload cosign signs (the "simple signing" format).
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// LoadPublicKey reads a PEM public key as `cosign generate-key-pair` writes
// it (ECDSA P-256).
func LoadPublicKey(path string) (*ecdsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("verify key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("verify key %s: no PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("verify key %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("verify key %s: not an ECDSA key (%T)", path, k)
	}
	return ek, nil
}

// VerifySignature checks the cosign key-based signature of a registry
// image: the signature image at tag sha256-<digest>.sig in the same
// repository must hold a layer whose simple-signing payload names this
// image's digest and whose signature verifies with key. It returns
// verified, unsigned (no signature image) or invalid, with a reason.
func VerifySignature(ctx context.Context, src *Source, key *ecdsa.PublicKey, o SourceOptions) (string, string) {
	if src.Ref == nil {
		return SignatureNotChecked, "signatures are checked for registry images only"
	}
	digest, err := src.Image.Digest()
	if err != nil {
		return SignatureInvalid, err.Error()
	}
	tag := src.Ref.Context().Tag(strings.Replace(digest.String(), ":", "-", 1) + ".sig")
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if o.Transport != nil {
		ropts = append(ropts, remote.WithTransport(o.Transport))
	}
	sigImg, err := remote.Image(tag, ropts...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return SignatureUnsigned, "no signature at " + tag.String()
		}
		return SignatureInvalid, fmt.Sprintf("fetch %s: %v", tag, err)
	}
	m, err := sigImg.Manifest()
	if err != nil {
		return SignatureInvalid, err.Error()
	}
	var reasons []string
	for _, l := range m.Layers {
		sig := l.Annotations[cosignAnnotation]
		if sig == "" {
			continue
		}
		ok, why := verifyLayer(sigImg, l.Digest, sig, digest, key)
		if ok {
			return SignatureVerified, "signed by the given key"
		}
		reasons = append(reasons, why)
	}
	if len(reasons) == 0 {
		return SignatureInvalid, "signature image holds no cosign signature"
	}
	return SignatureInvalid, strings.Join(reasons, "; ")
}

func verifyLayer(sigImg v1.Image, layerDigest v1.Hash, sigB64 string, want v1.Hash, key *ecdsa.PublicKey) (bool, string) {
	l, err := sigImg.LayerByDigest(layerDigest)
	if err != nil {
		return false, err.Error()
	}
	rc, err := l.Compressed() // the payload is stored as is
	if err != nil {
		return false, err.Error()
	}
	defer rc.Close()
	payload, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return false, err.Error()
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return false, "signature is not base64"
	}
	h := sha256.Sum256(payload)
	if !ecdsa.VerifyASN1(key, h[:], sig) {
		return false, "signature does not verify with the given key"
	}
	var ss simpleSigning
	if err := json.Unmarshal(payload, &ss); err != nil {
		return false, "payload is not simple signing JSON"
	}
	if ss.Critical.Image.DockerManifestDigest != want.String() {
		return false, fmt.Sprintf("signature is for %s, not %s", ss.Critical.Image.DockerManifestDigest, want)
	}
	return true, ""
}

// parseRef is name.ParseReference honouring insecure registries.
func parseRef(ref string, insecure []string) (name.Reference, error) {
	var opts []name.Option
	for _, h := range insecure {
		if strings.HasPrefix(ref, h+"/") {
			opts = append(opts, name.Insecure)
		}
	}
	return name.ParseReference(ref, opts...)
}
