// Package assemblyscript holds the tests of the AssemblyScript policy
// example (assembly/index.ts): they install the assemblyscript compiler from
// the npm registry, build the policy with asc and evaluate it through
// internal/policy. See README.md.
package assemblyscript
