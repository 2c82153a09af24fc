# A complete rule with two values: a Rego runtime error (policy error).
package main

import rego.v1

deny := "a" if input.apiVersion

deny := "b" if input.apiVersion
