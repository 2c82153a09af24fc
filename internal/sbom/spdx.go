package sbom

import (
	_ "embed"
	"strings"
	"sync"
)

// spdxIDList is the SPDX license and exception list that CycloneDX accepts
// as license.id: the enum of CycloneDX's spdx.schema.json, one id a line.
// TestSPDXListMatchesSchema keeps it in step with the schema
// (go test ./internal/sbom -run TestSPDXListMatchesSchema -update rewrites it).
//
//go:embed spdx_ids.txt
var spdxIDList string

// spdxIDs maps lower-cased SPDX ids to their canonical spelling (SPDX ids
// are case-insensitive; the CycloneDX schema is not).
var spdxIDs = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, id := range strings.Split(spdxIDList, "\n") {
		if id = strings.TrimSpace(id); id != "" {
			m[strings.ToLower(id)] = id
		}
	}
	return m
})
