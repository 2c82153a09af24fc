# deny must be a set of messages, not a number (policy error).
package main

import rego.v1

deny := 42
