// Package other is built everywhere.
package other

import "crypto/sha1"

// Answer is fine.
func Answer() int { return 42 }

// Legacy hashes with SHA-1: G401 and G505, found by both modes.
func Legacy(b []byte) [20]byte { return sha1.Sum(b) }
