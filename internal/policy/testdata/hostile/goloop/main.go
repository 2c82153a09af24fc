// Command goloop is a hostile reactor policy that never returns.
package main

import shipgate "github.com/shipgate/shipgate/sdk/go"

func init() { shipgate.Register(evaluate) }

func main() {}

func evaluate(in shipgate.Input) shipgate.Decision {
	n := 0
	for len(in.Report.Packages) >= 0 {
		n++
	}
	return shipgate.Decision{}
}
