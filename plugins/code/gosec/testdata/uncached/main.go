// Package uncached needs a module that is not in any cache: full mode
// cannot load it and falls back to syntax mode.
package uncached

import (
	"crypto/md5"
	"os"

	"example.invalid/notcached"
)

// Run drops an error (G104, full mode only) and hashes with MD5 (G401).
func Run() [16]byte {
	os.Remove(notcached.Name)
	return md5.Sum(nil)
}
