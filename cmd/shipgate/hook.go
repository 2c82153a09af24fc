package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// hookMarker identifies a hook written by shipgate, so that install can
// replace its own hook but never a user's.
const hookMarker = "# installed by: shipgate hook install"

// prePushHook runs the fast stages on the working tree: code and deps, with
// the cached vulnerability DB and no image.
const prePushHook = `#!/bin/sh
` + hookMarker + `
# Runs the Shipgate gate before every push: code and deps stages, cached
# vulnerability DB, cached results of unchanged files, no image.
# Bypass once with: git push --no-verify
if ! command -v shipgate >/dev/null 2>&1; then
  echo "shipgate pre-push hook: shipgate is not on PATH (go install github.com/shipgate/shipgate/cmd/shipgate@latest)" >&2
  exit 1
fi
exec shipgate scan "$(git rev-parse --show-toplevel)" --stages code,deps --skip-db-update
`

func (a *app) hookCommand() *cobra.Command {
	hook := &cobra.Command{
		Use:   "hook",
		Short: "Manage the git pre-push hook",
	}
	var force bool
	install := &cobra.Command{
		Use:   "install",
		Short: "Install a git pre-push hook that runs the gate",
		Long: `Install writes a pre-push hook into the current git repository that runs
"shipgate scan" on the work tree with the fast stages (code and deps, the
cached vulnerability DB, no image) and blocks the push when the gate fails.
Files unchanged since the last scan are not analysed again: their results
come from the result cache.

Bypass it for one push with: git push --no-verify

An existing pre-push hook that shipgate did not write is left alone unless
--force is given.`,
		Example: `  shipgate hook install
  git push --no-verify   # skip the gate once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := hooksDir()
			if err != nil {
				return usageError("%v", err)
			}
			path := filepath.Join(dir, "pre-push")
			if old, err := os.ReadFile(path); err == nil && !bytes.Contains(old, []byte(hookMarker)) && !force {
				return usageError("%s exists and was not written by shipgate: use --force to replace it", path)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("install hook: %w", err)
			}
			if err := os.WriteFile(path, []byte(prePushHook), 0o755); err != nil {
				return fmt.Errorf("install hook: %w", err)
			}
			if err := os.Chmod(path, 0o755); err != nil {
				return fmt.Errorf("install hook: %w", err)
			}
			fmt.Fprintf(a.stdout, "installed %s (bypass once with: git push --no-verify)\n", path)
			return nil
		},
	}
	install.Flags().BoolVar(&force, "force", false, "replace an existing pre-push hook")
	hook.AddCommand(install)
	return hook
}

// hooksDir asks git where hooks live (worktrees and core.hooksPath
// included).
func hooksDir() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--git-path", "hooks").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("not inside a git repository: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("run git: %w", err)
	}
	return filepath.Abs(strings.TrimSpace(string(out)))
}
