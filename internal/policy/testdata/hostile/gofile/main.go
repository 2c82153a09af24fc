// Command gofile is a hostile command policy that tries to read a host file.
package main

import (
	"fmt"
	"os"

	shipgate "github.com/shipgate/shipgate/sdk/go"
)

func main() {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot open:", err)
		os.Exit(3)
	}
	shipgate.Main(func(shipgate.Input) shipgate.Decision {
		var d shipgate.Decision
		d.Denyf("leaked %d bytes", len(b))
		return d
	})
}
