package main

import (
	"context"
	"os"
	"testing"

	"github.com/shipgate/shipgate/internal/policy"
)

// TestMain lets this test binary stand in for shipgate when scan
// re-executes itself as the policy worker (policy.IsolationProcess uses
// os.Executable(), which is the test binary here). Tests that choose no
// cache directory get one of their own, so that no test reads or writes
// the user's cache (scan results, layers, compiled WebAssembly).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == policy.WorkerCommand {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	if os.Getenv("SHIPGATE_CACHE_DIR") == "" {
		dir, err := os.MkdirTemp("", "shipgate-test-cache-")
		if err != nil {
			panic(err)
		}
		os.Setenv("SHIPGATE_CACHE_DIR", dir)
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}
