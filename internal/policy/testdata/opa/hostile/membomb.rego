# A set of ten million numbers: stopped at the memory limit (abort).
package main

import rego.v1

deny contains x if {
	some x in numbers.range(1, 10000000)
}
