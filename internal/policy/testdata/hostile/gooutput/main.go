// Command gooutput is a hostile command policy that writes 5 MiB to stdout.
package main

import (
	"bytes"
	"os"
)

func main() {
	os.Stdout.Write([]byte(`{"deny":[],"warn":[],"x":"`))
	os.Stdout.Write(bytes.Repeat([]byte("a"), 5<<20))
	os.Stdout.Write([]byte(`"}`))
}
