# An object without msg (policy error).
package main

import rego.v1

deny contains {"rule": "x"} if input.apiVersion
