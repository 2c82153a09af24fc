//go:build !unix && !windows

package vulndb

import "context"

// lockFile is a no-op on platforms without file locking (js/wasm, plan9,
// wasip1): concurrent Updates there are not coordinated across processes.
func lockFile(context.Context, string, bool) (func(), error) {
	return func() {}, nil
}
