package fullmod

import "math"

// Narrow converts without a bound check: G115.
func Narrow(x int64) int32 {
	return int32(x)
}

// NarrowChecked converts after a bound check: fine.
func NarrowChecked(x int64) int32 {
	if x < math.MinInt32 || x > math.MaxInt32 {
		return 0
	}
	return int32(x)
}

// Widen converts to a wider type: fine.
func Widen(x int32) int64 {
	return int64(x)
}
