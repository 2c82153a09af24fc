//go:build unix

package match

import (
	"syscall"
	"time"
)

// processUsage returns the CPU time used by this process so far and its
// peak resident set size in bytes (Linux reports kilobytes).
func processUsage() (cpu time.Duration, peakRSS int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, int64(ru.Maxrss) * 1024, true
}
