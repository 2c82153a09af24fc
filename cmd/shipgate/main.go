// Command shipgate scans what is about to ship — source, dependencies and
// container images — writes the SBOM, and decides pass or fail with
// policies compiled to WebAssembly.
//
// Exit codes: 0 the gate passed, 1 the gate failed (a policy denied),
// 2 a tool or usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/gate"
	gosecplugin "github.com/shipgate/shipgate/plugins/code/gosec"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	// gosec's rules ask `go list -m -json`, run in the current directory,
	// for the Go version of the code they check (G304's advice, G402's TLS
	// default) unless GOSECGOVERSION says it: a scan must not run the go
	// command outside gosec's full mode (with GOTOOLCHAIN=auto it may
	// download a toolchain). The version shipgate was built with stands in,
	// which is what gosec falls back to when the command fails.
	if _, ok := os.LookupEnv(gosecplugin.GoVersionEnv); !ok {
		_ = os.Setenv(gosecplugin.GoVersionEnv, runtime.Version())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startCPUProfile(os.Getenv("SHIPGATE_CPUPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	writeAllocProfile(os.Getenv("SHIPGATE_MEMPROFILE"))
	stop()
	os.Exit(code)
}

// startCPUProfile writes a CPU profile of the whole run to path (the
// SHIPGATE_CPUPROFILE environment variable, for `go tool pprof`) when it is
// set; the returned function stops it. Profiling problems are reported on
// stderr and never change the run.
func startCPUProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shipgate: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "shipgate: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// writeAllocProfile writes the profile of every allocation of the run to
// path (the SHIPGATE_MEMPROFILE environment variable, for `go tool pprof
// -sample_index=alloc_space`) when it is set. Like the CPU profile, it never
// changes the run.
func writeAllocProfile(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "shipgate: memory profile: %v\n", err)
	}
}

// exitError carries an exit code and a message for the last line.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error in how shipgate was called (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: gate.ExitError, err: fmt.Errorf(format, args...)}
}

// app is the state shared by the subcommands of one invocation.
type app struct {
	stdout, stderr io.Writer
	quiet, debug   bool
	log            *slog.Logger
	// code is the exit code a command decided on (gate verdicts).
	code int
}

// run executes one shipgate invocation and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return a.code
	}
	code := gate.ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if inGitHubActions() && os.Getenv("GITHUB_OUTPUT") != "" {
		setOutput(githubactions.New(githubactions.WithWriter(stdout)), "verdict", gate.Error)
	}
	// The last line says what happened; details of a multi-line error
	// (several repositories tried, say) come before it.
	msg := err.Error()
	if first, rest, ok := strings.Cut(msg, "\n"); ok {
		fmt.Fprintf(stderr, "%s\n", rest)
		msg = first
	}
	fmt.Fprintf(stderr, "shipgate: ERROR: %s\n", msg)
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "shipgate",
		Short: "The security gate for what is about to ship",
		Long: `Shipgate scans what is about to ship — source code, dependency lockfiles and
container images — matches the packages against a vulnerability database,
writes a CycloneDX SBOM, and lets policies compiled to WebAssembly decide
whether the build passes.

Exit codes:
  0  the gate passed
  1  the gate failed (a policy denied)
  2  a tool or usage error (bad flags, unreadable input with --strict, a
     policy that crashed or hit a limit)`,
		Example: `  # Scan the current repository and gate on the default policy
  shipgate scan .

  # Write an SBOM of every lockfile below ./services
  shipgate sbom ./services -o cyclonedx-json=sbom.cdx.json

  # Machine-readable report for later processing, table on the terminal
  shipgate scan . -o table -o json=shipgate-report.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if a.debug {
				level = slog.LevelDebug
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "no progress or informational messages on stderr")
	root.PersistentFlags().BoolVar(&a.debug, "debug", false, "debug logging on stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError("%v (see --help)", err)
	})
	root.AddCommand(a.scanCommand(), a.sbomCommand(), a.versionCommand(), a.hookCommand(), newDBCommand(), newPolicyCommand(), newPolicyWorkerCommand())
	return root
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "shipgate %s\n", buildVersion())
			return nil
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
