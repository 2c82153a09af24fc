// Command image-hardening is the built-in image hardening policy
// (builtin:image-hardening). On image scans it checks the image metadata:
// a non-root user, no secrets in the environment or the build history,
// allowed registries, a digest-pinned reference, a maximum age and a
// verified signature. Reports without an image pass.
//
// Params: {"allowRoot": false, "allowedRegistries": [], "requireDigest": false,
// "maxAgeDays": 0, "requireSignature": false}.
package main

import (
	"regexp"
	"slices"
	"strings"
	"time"

	shipgate "github.com/shipgate/shipgate/sdk/go"
)

func init() {
	shipgate.SetMetadata(shipgate.Metadata{
		Name: "image-hardening", Version: "1.0.0",
		Description: "non-root user, no secrets in env or history, allowed registries, pinned digest, maximum age, signature",
		Params: []byte(`{"type":"object","properties":{` +
			`"allowRoot":{"type":"boolean"},` +
			`"allowedRegistries":{"type":"array","items":{"type":"string"}},` +
			`"requireDigest":{"type":"boolean"},` +
			`"maxAgeDays":{"type":"integer","minimum":0},` +
			`"requireSignature":{"type":"boolean"}}}`),
	})
	shipgate.Register(evaluate)
}

func main() {}

type params struct {
	AllowRoot         bool     `json:"allowRoot"`
	AllowedRegistries []string `json:"allowedRegistries"`
	RequireDigest     bool     `json:"requireDigest"`
	MaxAgeDays        int      `json:"maxAgeDays"`
	RequireSignature  bool     `json:"requireSignature"`
}

// secretAssign matches NAME=value where NAME looks like it holds a secret.
var secretAssign = regexp.MustCompile(`(?i)\b([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)[A-Z0-9_]*)\s*[= ]\s*("[^"]+"|'[^']+'|[^\s"']+)`)

// registry returns the registry host of an image reference (docker.io by default).
func registry(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return "docker.io"
	}
	return first
}

func evaluate(in shipgate.Input) shipgate.Decision {
	var p params
	var d shipgate.Decision
	if err := in.Policy.DecodeParams(&p); err != nil {
		d.Denyf("invalid params: %v", err).Rule("params")
		return d
	}
	img := in.Report.Image
	if img == nil {
		return d
	}
	user := strings.TrimSpace(img.User)
	name, _, _ := strings.Cut(user, ":")
	if !p.AllowRoot && (name == "" || name == "root" || name == "0") {
		shown := user
		if shown == "" {
			shown = "unset (root)"
		}
		d.Denyf("image %s runs as root (USER %s)", img.Name, shown).Rule("image-root-user").Severity("HIGH")
	}
	for _, e := range img.Env {
		if m := secretAssign.FindStringSubmatch(e); m != nil {
			d.Denyf("image %s has a secret in its environment: %s=<redacted>", img.Name, m[1]).Rule("image-env-secret").Severity("CRITICAL")
		}
	}
	for i, h := range img.History {
		if m := secretAssign.FindStringSubmatch(h); m != nil {
			d.Denyf("image %s has a secret in its build history (step %d): %s=<redacted>", img.Name, i+1, m[1]).Rule("image-history-secret").Severity("CRITICAL")
		}
	}
	if len(p.AllowedRegistries) > 0 {
		reg := registry(img.Name)
		if !slices.ContainsFunc(p.AllowedRegistries, func(r string) bool { return strings.EqualFold(r, reg) }) {
			d.Denyf("image %s comes from registry %s, not in the allowed registries %v", img.Name, reg, p.AllowedRegistries).Rule("image-registry")
		}
	}
	if !strings.Contains(img.Name, "@sha256:") {
		if p.RequireDigest {
			d.Denyf("image reference %s is not pinned by digest", img.Name).Rule("image-digest")
		} else {
			d.Warnf("image reference %s is not pinned by digest", img.Name).Rule("image-digest")
		}
	}
	if p.MaxAgeDays > 0 && img.Created != nil && !in.Report.CreatedAt.IsZero() {
		age := in.Report.CreatedAt.Sub(*img.Created)
		if age > time.Duration(p.MaxAgeDays)*24*time.Hour {
			d.Denyf("image %s was built %d days ago (maximum %d)", img.Name, int(age.Hours()/24), p.MaxAgeDays).Rule("image-age")
		}
	}
	switch {
	case img.Signature == "verified":
	case p.RequireSignature:
		sig := img.Signature
		if sig == "" {
			sig = "not-checked"
		}
		d.Denyf("image %s signature is %s; a verified signature is required", img.Name, sig).Rule("image-signature")
	case img.Signature == "invalid":
		d.Denyf("image %s has an invalid signature", img.Name).Rule("image-signature")
	}
	return d
}
