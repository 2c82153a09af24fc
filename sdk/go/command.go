package shipgate

import (
	"fmt"
	"io"
	"os"
)

// maxInput bounds the input a command reads from stdin (the host's own cap on
// the report is lower).
const maxInput = 1 << 30

// Main runs f as a command-shape policy: it reads the input from stdin, writes
// the decision to stdout and exits 1 with a message on stderr when the input
// cannot be decoded.
func Main(f func(Input) Decision) {
	in, err := io.ReadAll(io.LimitReader(os.Stdin, maxInput))
	if err != nil {
		fmt.Fprintf(os.Stderr, "read input: %v\n", err)
		os.Exit(1)
	}
	out, err := Evaluate(f, in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(out); err != nil {
		os.Exit(1)
	}
}
