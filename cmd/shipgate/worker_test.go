package main

import (
	"context"
	"os"
	"testing"

	"github.com/shipgate/shipgate/internal/policy"
)

// TestMain lets this test binary stand in for shipgate when scan
// re-executes itself as the policy worker (policy.IsolationProcess uses
// os.Executable(), which is the test binary here).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == policy.WorkerCommand {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
