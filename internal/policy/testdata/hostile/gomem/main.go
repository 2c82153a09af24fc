// Command gomem is a hostile reactor policy that allocates without end.
package main

import shipgate "github.com/shipgate/shipgate/sdk/go"

func init() { shipgate.Register(evaluate) }

func main() {}

var keep [][]byte

func evaluate(in shipgate.Input) shipgate.Decision {
	for {
		b := make([]byte, 1<<20)
		b[0] = 1
		keep = append(keep, b)
	}
}
