package lib

// Hello does nothing.
func Hello() {}
