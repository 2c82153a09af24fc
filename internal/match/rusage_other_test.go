//go:build !unix

package match

import "time"

// processUsage is not available on this platform.
func processUsage() (time.Duration, int64, bool) { return 0, 0, false }
