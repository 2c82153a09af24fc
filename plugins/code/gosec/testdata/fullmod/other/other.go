// Package other is built everywhere.
package other

// Answer is fine.
func Answer() int { return 42 }
