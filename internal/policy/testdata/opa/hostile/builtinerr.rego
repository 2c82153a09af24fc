# semver.compare on an invalid version: a builtin error fails closed (policy error).
package main

import rego.v1

deny contains "x" if semver.compare("not-a-version", "1.0.0") < 0
