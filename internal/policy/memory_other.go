//go:build !linux

package policy

// prefault does nothing where MADV_POPULATE_WRITE does not exist: pages
// fault in as the policy touches them.
func prefault([]byte) {}
