package main

import (
	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/policy"
)

// newPolicyWorkerCommand is the hidden command that shipgate re-executes to
// evaluate one policy in a child process (policy.IsolationProcess): it
// reads the request on stdin and writes the response on stdout. It is not
// meant to be run by hand.
func newPolicyWorkerCommand() *cobra.Command {
	return &cobra.Command{
		Use:    policy.WorkerCommand,
		Short:  "Evaluate one policy for the parent shipgate process (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return policy.ServeWorker(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}
