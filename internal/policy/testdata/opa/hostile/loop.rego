# Ten billion iterations: stopped at the deadline (abort).
package main

import rego.v1

deny contains "never" if {
	r := numbers.range(1, 100000)
	n := count([1 |
		some i in r
		some j in r
		i < 0
		j < 0
	])
	n > 0
}
