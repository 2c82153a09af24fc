// Package policies embeds Shipgate's built-in policies: reactor-shape
// WebAssembly modules built from the Go sources in this directory with
// sdk/go by build.sh (`make policies`). The modules are committed; a test
// rebuilds them and fails when they are stale.
package policies

import (
	"embed"
	"path"
	"slices"
	"strings"
)

//go:embed wasm/*.wasm
var wasmFS embed.FS

// Builtin returns the module of the built-in policy name (e.g. "default").
func Builtin(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	b, err := wasmFS.ReadFile(path.Join("wasm", name+".wasm"))
	if err != nil {
		return nil, false
	}
	return b, true
}

// Names lists the built-in policies, sorted.
func Names() []string {
	entries, _ := wasmFS.ReadDir("wasm")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".wasm"))
	}
	slices.Sort(names)
	return names
}
