package policy

import "golang.org/x/sys/unix"

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// prefault populates b's pages, writable, in one call; on an older kernel
// (EINVAL) the pages fault in one by one as before.
func prefault(b []byte) {
	if len(b) > 0 {
		_ = unix.Madvise(b, madvPopulateWrite)
	}
}
