package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/gate"
	"github.com/shipgate/shipgate/internal/policy"
	"github.com/shipgate/shipgate/internal/policyoci"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/policies"
)

// maxPolicySize bounds a policy module read from disk.
const maxPolicySize = 64 << 20

// maxReportSize bounds a report read by policy eval and policy test.
const maxReportSize = 256 << 20

// policyFlags are the engine settings shared by the policy subcommands.
type policyFlags struct {
	timeout  time.Duration
	memory   uint64
	cacheDir string
	insecure []string
}

func (f *policyFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.timeout, "policy-timeout", policy.DefaultTimeout, "wall-time limit of one policy evaluation")
	cmd.Flags().Uint64Var(&f.memory, "policy-memory", policy.DefaultMemoryLimit>>20, "memory limit of one policy, in MiB")
	f.registerSource(cmd)
}

// registerSource adds the flags that say where oci:// policies come from.
func (f *policyFlags) registerSource(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", "", "cache DIR for compiled and pulled policies (default $SHIPGATE_CACHE_DIR, else $XDG_CACHE_HOME/shipgate)")
	cmd.Flags().StringArrayVar(&f.insecure, "insecure-registry", nil, "reach `HOST[:PORT]` over plain HTTP (loopback test registries), repeatable")
}

// cacheRoot is the shipgate cache directory (empty when none can be found).
func (f *policyFlags) cacheRoot() string {
	dir := f.cacheDir
	if dir == "" {
		dir = os.Getenv("SHIPGATE_CACHE_DIR")
	}
	if dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "shipgate")
		}
	}
	return dir
}

// source is where readPolicy finds oci:// policies.
func (f *policyFlags) source() policySource {
	return policySource{insecure: f.insecure, cacheDir: f.cacheRoot()}
}

func (f *policyFlags) engine(ctx context.Context) (*policy.Engine, error) {
	dir := f.cacheRoot()
	if dir != "" {
		dir = filepath.Join(dir, "wazero")
	}
	return policy.NewEngine(ctx, policy.Options{CacheDir: dir, Timeout: f.timeout, MemoryLimit: f.memory << 20})
}

// policySource tells readPolicy how to reach oci:// policies: the
// registries reached over plain HTTP and the shipgate cache root (pulled
// modules are kept by digest in its policies/ directory).
type policySource struct {
	insecure []string
	cacheDir string
}

// ociOptions are the policyoci options of src.
func (src policySource) ociOptions() policyoci.Options {
	o := policyoci.Options{Insecure: src.insecure, MaxSize: maxPolicySize}
	if src.cacheDir != "" {
		o.CacheDir = filepath.Join(src.cacheDir, "policies")
	}
	return o
}

// readPolicy resolves POLICY (a path, builtin:NAME or oci://REF) to its
// name and module. An oci:// policy is pulled and verified (a digest
// reference is served from the cache once pulled); its name is the
// reference as given.
func readPolicy(ctx context.Context, ref string, src policySource) (string, []byte, error) {
	if name, ok := strings.CutPrefix(ref, "builtin:"); ok {
		wasm, ok := policies.Builtin(name)
		if !ok {
			return "", nil, fmt.Errorf("no built-in policy %q (have %s)", name, strings.Join(policies.Names(), ", "))
		}
		return ref, wasm, nil
	}
	if policyoci.IsRef(ref) {
		p, err := policyoci.Pull(ctx, ref, src.ociOptions())
		if err != nil {
			return "", nil, err
		}
		return ref, p.Wasm, nil
	}
	b, err := readCapped(ref, maxPolicySize)
	if err != nil {
		return "", nil, fmt.Errorf("read policy: %w", err)
	}
	return filepath.Base(ref), b, nil
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, limit>>20)
	}
	return b, nil
}

func readReport(path string) (*report.Report, error) {
	b, err := readCapped(path, maxReportSize)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse report %s: %w", path, err)
	}
	return &r, nil
}

// newPolicyCommand returns `shipgate policy` and its subcommands.
func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate, inspect and test WebAssembly policies",
		Long: `Policies are WebAssembly modules following sdk/ABI.md (ABI v1). POLICY is
a path to a .wasm file, builtin:NAME (` + strings.Join(policies.Names(), ", ") + `)
or oci://REGISTRY/REPO:TAG, oci://REGISTRY/REPO@sha256:HEX or
oci://REGISTRY/REPO:TAG@sha256:HEX (an OCI artifact made by policy push; a
TAG@DIGEST reference fails when the tag has moved).`,
	}
	cmd.AddCommand(newPolicyEvalCommand(), newPolicyInspectCommand(), newPolicyTestCommand(), newPolicyPushCommand(), newPolicyPullCommand())
	return cmd
}

func newPolicyEvalCommand() *cobra.Command {
	var pf policyFlags
	var input, params, enforce string
	cmd := &cobra.Command{
		Use:   "eval POLICY --input REPORT",
		Short: "Evaluate a policy on a JSON report and print its result",
		Long: `Evaluate POLICY on REPORT (the output of shipgate scan -o json) and print
the policy result as JSON. Exit 0 on pass or warn, 1 on deny, 2 on a policy
error or a host abort (timeout, memory limit, trap).`,
		Example: `  shipgate policy eval builtin:default --input report.json
  shipgate policy eval ./licenses.wasm --input report.json --params '{"deny":["GPL-3.0-only"]}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if input == "" {
				return &exitError{code: gate.ExitError, err: errors.New("--input REPORT is required")}
			}
			if params != "" && !json.Valid([]byte(params)) {
				return &exitError{code: gate.ExitError, err: errors.New("--params is not valid JSON")}
			}
			name, wasm, err := readPolicy(cmd.Context(), args[0], pf.source())
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			rep, err := readReport(input)
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			ctx := cmd.Context()
			e, err := pf.engine(ctx)
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			defer e.Close(context.WithoutCancel(ctx))
			res := e.EvaluateAll(ctx, rep, []policy.Spec{{Name: name, Wasm: wasm, Params: json.RawMessage(params), Enforce: enforce}})[0]
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				return err
			}
			switch policy.Outcome(res.Outcome) {
			case policy.OutcomeDeny:
				return &exitError{code: gate.ExitFail, err: fmt.Errorf("policy %s denied (%d)", name, len(res.Decision.Deny))}
			case policy.OutcomeError, policy.OutcomeAbort:
				return &exitError{code: gate.ExitError, err: errors.New(res.Error)}
			}
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&input, "input", "", "REPORT JSON file to evaluate")
	cmd.Flags().StringVar(&params, "params", "", "policy params as a JSON object")
	cmd.Flags().StringVar(&enforce, "enforce", policy.EnforceDeny, "deny or warn: under warn, denials do not fail")
	return cmd
}

func newPolicyInspectCommand() *cobra.Command {
	var pf policyFlags
	cmd := &cobra.Command{
		Use:   "inspect POLICY",
		Short: "Show a policy's shape, imports, exports and metadata",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, wasm, err := readPolicy(cmd.Context(), args[0], pf.source())
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			info, err := policy.Inspect(wasm)
			if err != nil {
				return &exitError{code: gate.ExitError, err: fmt.Errorf("policy %s: %w", name, err)}
			}
			// A reactor's metadata export and an OPA module's entrypoints
			// and builtins are only known by loading the module.
			if info.Metadata == nil && info.Shape == policy.ShapeReactor || info.Shape == policy.ShapeOPA {
				ctx := cmd.Context()
				e, err := pf.engine(ctx)
				if err != nil {
					return &exitError{code: gate.ExitError, err: err}
				}
				defer e.Close(context.WithoutCancel(ctx))
				p, err := e.Load(ctx, name, wasm)
				if err != nil {
					return &exitError{code: gate.ExitError, err: err}
				}
				if info.Shape == policy.ShapeOPA {
					info = p.Info
				} else if info.Metadata, err = p.Metadata(ctx); err != nil {
					return &exitError{code: gate.ExitError, err: err}
				}
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Name string `json:"name"`
				policy.Info
			}{name, info})
		},
	}
	pf.register(cmd)
	return cmd
}

func newPolicyTestCommand() *cobra.Command {
	var pf policyFlags
	var ref string
	cmd := &cobra.Command{
		Use:   "test DIR",
		Short: "Run a policy's test cases",
		Long: `Run the test cases in DIR against a policy (any language). Each case is a
subdirectory of DIR holding input.json (a report), expected.json (the expected
decision, {"deny": [...], "warn": [...]}, or {"outcome": "error"|"abort"} for
a case that must fail) and optionally params.json. The policy is --policy
POLICY, or DIR/policy.wasm.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if ref == "" {
				ref = filepath.Join(dir, "policy.wasm")
			}
			name, wasm, err := readPolicy(cmd.Context(), ref, pf.source())
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				return &exitError{code: gate.ExitError, err: fmt.Errorf("read test cases: %w", err)}
			}
			ctx := cmd.Context()
			e, err := pf.engine(ctx)
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			defer e.Close(context.WithoutCancel(ctx))
			out := cmd.OutOrStdout()
			var failed, ran int
			for _, ent := range entries {
				if !ent.IsDir() {
					continue
				}
				ran++
				caseDir := filepath.Join(dir, ent.Name())
				if err := runPolicyCase(ctx, e, name, wasm, caseDir); err != nil {
					failed++
					fmt.Fprintf(out, "FAIL %s: %v\n", ent.Name(), err)
					continue
				}
				fmt.Fprintf(out, "ok   %s\n", ent.Name())
			}
			if ran == 0 {
				return &exitError{code: gate.ExitError, err: fmt.Errorf("no test cases in %s", dir)}
			}
			if failed > 0 {
				return &exitError{code: gate.ExitFail, err: fmt.Errorf("%d of %d policy test cases failed", failed, ran)}
			}
			fmt.Fprintf(out, "PASS %d cases\n", ran)
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&ref, "policy", "", "POLICY to test (default DIR/policy.wasm)")
	return cmd
}

// runPolicyCase runs one test case directory and compares the result.
func runPolicyCase(ctx context.Context, e *policy.Engine, name string, wasm []byte, dir string) error {
	rep, err := readReport(filepath.Join(dir, "input.json"))
	if err != nil {
		return err
	}
	expRaw, err := readCapped(filepath.Join(dir, "expected.json"), maxReportSize)
	if err != nil {
		return fmt.Errorf("read expected decision: %w", err)
	}
	var params json.RawMessage
	if b, err := readCapped(filepath.Join(dir, "params.json"), 1<<20); err == nil {
		params = b
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var exp struct {
		report.Decision
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal(expRaw, &exp); err != nil {
		return fmt.Errorf("parse expected.json: %w", err)
	}
	res := e.EvaluateAll(ctx, rep, []policy.Spec{{Name: name, Wasm: wasm, Params: params}})[0]
	if exp.Outcome != "" {
		if res.Outcome != exp.Outcome {
			return fmt.Errorf("outcome %s, want %s (%s)", res.Outcome, exp.Outcome, res.Error)
		}
		if exp.Outcome == string(policy.OutcomeError) || exp.Outcome == string(policy.OutcomeAbort) {
			return nil
		}
	} else if res.Error != "" {
		return errors.New(res.Error)
	}
	want := normalize(exp.Decision)
	got := normalize(res.Decision)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		return fmt.Errorf("decision differs:\n  got  %s\n  want %s", g, w)
	}
	return nil
}

// normalize makes empty and nil lists compare equal.
func normalize(d report.Decision) report.Decision {
	fix := func(vs []report.Violation) []report.Violation {
		out := make([]report.Violation, 0, len(vs))
		for _, v := range vs {
			if len(v.Refs) == 0 {
				v.Refs = nil
			}
			out = append(out, v)
		}
		return slices.Clip(out)
	}
	return report.Decision{Deny: fix(d.Deny), Warn: fix(d.Warn)}
}

func newPolicyPushCommand() *cobra.Command {
	var pf policyFlags
	cmd := &cobra.Command{
		Use:   "push POLICY oci://REGISTRY/REPO:TAG",
		Short: "Store a policy in an OCI registry and print its digest reference",
		Long: `Push POLICY (a .wasm file or builtin:NAME) to an OCI registry as an artifact:
config ` + policyoci.ConfigMediaType + ` (shape, module digest,
metadata), one layer ` + policyoci.LayerMediaType + ` (the module).
Prints the digest-pinned reference oci://REGISTRY/REPO@sha256:HEX, the one
to put in --policy or shipgate.yaml. Credentials come from docker login and
credential helpers.`,
		Example: `  shipgate policy push ./licenses.wasm oci://ghcr.io/acme/policies/licenses:1.0.0`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if policyoci.IsRef(args[0]) {
				return usageError("push: POLICY must be a file or builtin:NAME, not %s", args[0])
			}
			name, wasm, err := readPolicy(ctx, args[0], pf.source())
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			info, err := policy.Inspect(wasm)
			if err != nil {
				return &exitError{code: gate.ExitError, err: fmt.Errorf("policy %s: %w", name, err)}
			}
			o := pf.source().ociOptions()
			if info.Metadata == nil && info.Shape == policy.ShapeReactor {
				// No metadata section: record what shipgate_metadata returns.
				md, err := reactorMetadata(ctx, &pf, name, wasm)
				if err != nil {
					return &exitError{code: gate.ExitError, err: err}
				}
				o.Metadata = md
			}
			pinned, err := policyoci.Push(ctx, args[1], wasm, o)
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), pinned)
			return nil
		},
	}
	pf.register(cmd)
	return cmd
}

// reactorMetadata runs a reactor's shipgate_metadata export (nil when the
// reactor has none).
func reactorMetadata(ctx context.Context, pf *policyFlags, name string, wasm []byte) (json.RawMessage, error) {
	e, err := pf.engine(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Close(context.WithoutCancel(ctx))
	p, err := e.Load(ctx, name, wasm)
	if err != nil {
		return nil, err
	}
	return p.Metadata(ctx)
}

func newPolicyPullCommand() *cobra.Command {
	var pf policyFlags
	var out string
	cmd := &cobra.Command{
		Use:   "pull oci://REF [-o FILE]",
		Short: "Fetch a policy from an OCI registry",
		Long: `Pull the policy at REF (a tag, a digest, or TAG@DIGEST, which fails when the
tag has moved), verify the layer digest and that it is a WebAssembly module,
and write it to FILE (default: the repository's last path element + .wasm).
Prints the digest-pinned reference and the module digest. Pulled modules are
cached by digest, so a digest reference works offline afterwards.`,
		Example: `  shipgate policy pull oci://ghcr.io/acme/policies/licenses:1.0.0 -o licenses.wasm`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !policyoci.IsRef(args[0]) {
				return usageError("pull: %s is not an oci:// reference", args[0])
			}
			p, err := policyoci.Pull(cmd.Context(), args[0], pf.source().ociOptions())
			if err != nil {
				return &exitError{code: gate.ExitError, err: err}
			}
			file := out
			if file == "" {
				repo, _, _ := strings.Cut(p.Ref, "@")
				file = repo[strings.LastIndex(repo, "/")+1:] + ".wasm"
			}
			if err := os.WriteFile(file, p.Wasm, 0o644); err != nil {
				return &exitError{code: gate.ExitError, err: fmt.Errorf("write policy: %w", err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\nmodule %s (%d bytes, %s) written to %s\n", p.Ref, p.Digest, len(p.Wasm), orUnknown(string(p.Config.Shape)), file)
			return nil
		},
	}
	pf.registerSource(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the module to `FILE`")
	return cmd
}

func orUnknown(s string) string {
	if s == "" {
		return "shape unknown"
	}
	return s
}
