// Package lockfile holds small decoding helpers shared by several lockfile
// analyzers: Subresource Integrity strings (npm, yarn, pnpm) and the line
// of a YAML decoding error.
package lockfile

import (
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// sriAlgorithms maps Subresource Integrity names to CycloneDX names.
var sriAlgorithms = map[string]string{"sha1": "SHA-1", "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}

// SRIHashes decodes an SRI integrity string ("sha512-<base64> sha1-<base64>",
// options after "?" ignored) into hex hashes; unknown or malformed parts are
// skipped.
func SRIHashes(integrity string) []report.Hash {
	var out []report.Hash
	for _, f := range strings.Fields(integrity) {
		algo, b64, ok := strings.Cut(f, "-")
		name := sriAlgorithms[algo]
		if !ok || name == "" {
			continue
		}
		if i := strings.IndexByte(b64, '?'); i >= 0 {
			b64 = b64[:i]
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		out = append(out, report.Hash{Algorithm: name, Value: hex.EncodeToString(raw)})
	}
	return out
}

// YAMLErrorLine extracts the line from a go.yaml.in/yaml/v3 error
// ("yaml: line 12: ..."), or 0.
func YAMLErrorLine(err error) int {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range msg[i+5:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
