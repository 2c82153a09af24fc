//go:build !wasip1

package shipgate

import (
	"fmt"
	"os"
)

// Register makes f the reactor-shape policy. Outside WebAssembly it does
// nothing (test policies natively with Evaluate).
func Register(f func(Input) Decision) { _ = f }

// Log writes a line to stderr outside WebAssembly.
func Log(level Level, msg string) { fmt.Fprintf(os.Stderr, "[%d] %s\n", level, msg) }

// SetMetadata does nothing outside WebAssembly.
func SetMetadata(m Metadata) { _ = m }
