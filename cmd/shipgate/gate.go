package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipgate/shipgate/internal/config"
	"github.com/shipgate/shipgate/internal/gate"
	"github.com/shipgate/shipgate/internal/policy"
	"github.com/shipgate/shipgate/internal/report"
)

// gateFlags are scan's policy flags.
type gateFlags struct {
	policies []string
	timeout  time.Duration
	memory   uint64
}

func (f *gateFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.policies, "policy", nil, "decide the gate with `POLICY`: a .wasm file, builtin:NAME or oci://REF, repeatable; when given, exactly these run (default builtin:default)")
	fl.DurationVar(&f.timeout, "policy-timeout", policy.DefaultTimeout, "wall-time limit of each policy evaluation")
	fl.Uint64Var(&f.memory, "policy-memory", policy.DefaultMemoryLimit>>20, "memory limit of each policy, in `MiB`")
}

// specs returns the policies to run: the flags' when given, else
// shipgate.yaml's (with params and enforce), else builtin:default.
func (f *gateFlags) specs(ctx context.Context, cfg *config.Config, src policySource) ([]policy.Spec, error) {
	var entries []config.Policy
	switch {
	case len(f.policies) > 0:
		for _, p := range f.policies {
			entries = append(entries, config.Policy{Path: p})
		}
	case len(cfg.Policies) > 0:
		entries = cfg.Policies
	default:
		entries = []config.Policy{{Path: "builtin:default"}}
	}
	var out []policy.Spec
	for _, e := range entries {
		name, wasm, err := readPolicy(ctx, e.Path, src)
		if err != nil {
			return nil, usageError("--policy %s: %v", e.Path, err)
		}
		var params json.RawMessage
		if e.Params != nil {
			if params, err = json.Marshal(e.Params); err != nil {
				return nil, usageError("policy %s params: %v", e.Path, err)
			}
		}
		out = append(out, policy.Spec{Name: name, Wasm: wasm, Params: params, Enforce: e.Enforce})
	}
	return out, nil
}

// limits applies shipgate.yaml's policyTimeout and policyMemory unless the
// flags were given.
func (f *gateFlags) limits(cmd *cobra.Command, cfg *config.Config) (time.Duration, uint64, error) {
	timeout, memory := f.timeout, f.memory
	if !cmd.Flags().Changed("policy-timeout") && cfg.PolicyTimeout != "" {
		d, err := time.ParseDuration(cfg.PolicyTimeout)
		if err != nil {
			return 0, 0, usageError("shipgate.yaml policyTimeout: %v", err)
		}
		timeout = d
	}
	if !cmd.Flags().Changed("policy-memory") && cfg.PolicyMemory != "" {
		m, err := parseMiB(cfg.PolicyMemory)
		if err != nil {
			return 0, 0, usageError("shipgate.yaml policyMemory: %v", err)
		}
		memory = m
	}
	return timeout, memory, nil
}

// parseMiB reads "256", "256MiB" or "1GiB" as MiB.
func parseMiB(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "GiB"):
		s, mult = strings.TrimSuffix(s, "GiB"), 1024
	case strings.HasSuffix(s, "MiB"):
		s = strings.TrimSuffix(s, "MiB")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a size in MiB (e.g. 256MiB, 1GiB)", s)
	}
	return n * mult, nil
}

// preparedGate is the policy engine of one scan, started before the stages
// run: the policies are loaded (compiled, or read from the compilation
// cache) on another goroutine while the scan works, so that the gate's own
// cost after the scan is evaluation alone.
type preparedGate struct {
	specs []policy.Spec
	eng   *policy.Engine
	err   error
	// loaded is closed once every policy was loaded (or failed to: the
	// evaluation reports that failure with the policy's name).
	loaded chan struct{}
}

// prepareGate resolves the policies and limits (usage errors come before
// the scan, not after it) and starts loading the policies.
func (a *app) prepareGate(ctx context.Context, cmd *cobra.Command, r *resolved, f *gateFlags) (*preparedGate, error) {
	specs, err := f.specs(ctx, r.cfg, policySource{insecure: r.insecure, cacheDir: r.cacheDir})
	if err != nil {
		return nil, err
	}
	timeout, memory, err := f.limits(cmd, r.cfg)
	if err != nil {
		return nil, err
	}
	cache := ""
	if r.cacheDir != "" {
		cache = filepath.Join(r.cacheDir, "wazero")
	}
	g := &preparedGate{specs: specs, loaded: make(chan struct{})}
	// Policies run in process: the engine rewrites each module with cheap
	// fuel checks (internal/policy/instrument.go) that stop it at the
	// deadline at nearly the unchecked speed, which is faster than the
	// child-process worker (policy.IsolationProcess: process start and a
	// cold module load on every evaluation).
	g.eng, g.err = policy.NewEngine(ctx, policy.Options{CacheDir: cache, Timeout: timeout, MemoryLimit: memory << 20})
	if g.err != nil {
		close(g.loaded)
		return g, nil
	}
	go func() {
		defer close(g.loaded)
		for _, s := range specs {
			if ctx.Err() != nil {
				return
			}
			g.eng.Load(ctx, s.Name, s.Wasm) // errors are reported by the evaluation
		}
	}()
	return g, nil
}

// Close waits for the loading to end and releases the engine.
func (g *preparedGate) Close(ctx context.Context) {
	<-g.loaded
	if g.eng != nil {
		g.eng.Close(ctx)
	}
}

// decide runs the policies on the report and returns the verdict. A policy
// that errs or hits a limit fails the gate closed (exit 2).
func (g *preparedGate) decide(ctx context.Context, rep *report.Report) (gate.Verdict, error) {
	<-g.loaded
	if g.err != nil {
		return gate.Verdict{}, &exitError{code: gate.ExitError, err: fmt.Errorf("policy engine: %w", g.err)}
	}
	rep.Policies = g.eng.EvaluateAll(ctx, rep, g.specs)
	return gate.Decide(rep), nil
}
