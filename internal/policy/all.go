package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/shipgate/shipgate/internal/report"
)

// Enforcement modes of a policy.
const (
	EnforceDeny = "deny"
	EnforceWarn = "warn"
)

// Spec is one policy to run on a report.
type Spec struct {
	// Name names the policy in messages and in the report (file name or builtin:NAME).
	Name string
	// Wasm is the module.
	Wasm []byte
	// Params is the policy's params object (nil means {}).
	Params json.RawMessage
	// Enforce is deny (default) or warn: under warn, denials do not fail the gate.
	Enforce string
}

// EvaluateAll loads and evaluates several policies concurrently on one
// report and returns one result per spec, in spec order. Load failures,
// policy errors and host aborts are results too (outcome error or abort),
// never a panic or a dropped policy.
func (e *Engine) EvaluateAll(ctx context.Context, rep *report.Report, specs []Spec) []report.PolicyResult {
	results := make([]report.PolicyResult, len(specs))
	repJSON, err := json.Marshal(rep)
	if err != nil {
		for i, s := range specs {
			results[i] = errorResult(s, &Error{Policy: s.Name, Outcome: OutcomeError, Err: fmt.Errorf("encode report: %w", err)}, 0)
		}
		return results
	}
	var start time.Time
	if rep != nil {
		start = rep.CreatedAt
	}
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = e.evaluateSpec(ctx, s, Input{Params: s.Params, Report: repJSON, Start: start, compact: true})
		}()
	}
	wg.Wait()
	return results
}

func (e *Engine) evaluateSpec(ctx context.Context, s Spec, in Input) report.PolicyResult {
	began := time.Now()
	p, err := e.Load(ctx, s.Name, s.Wasm)
	if err != nil {
		r := errorResult(s, err, time.Since(began))
		if info, ierr := Inspect(s.Wasm); ierr == nil {
			r.Digest, r.Shape = info.Digest, string(info.Shape)
		}
		return r
	}
	d, out, err := p.Evaluate(ctx, in)
	r := report.PolicyResult{
		Name:       s.Name,
		Digest:     p.Info.Digest,
		Shape:      string(p.Info.Shape),
		Enforce:    enforceOf(s),
		Decision:   d,
		DurationMs: time.Since(began).Milliseconds(),
		Outcome:    string(out),
	}
	if err != nil {
		r.Error = err.Error()
		r.Decision = report.Decision{Deny: []report.Violation{}, Warn: []report.Violation{}}
		return r
	}
	if out == OutcomeDeny && r.Enforce == EnforceWarn {
		r.Outcome = string(OutcomeWarn)
	}
	return r
}

func enforceOf(s Spec) string {
	if s.Enforce == EnforceWarn {
		return EnforceWarn
	}
	return EnforceDeny
}

func errorResult(s Spec, err error, took time.Duration) report.PolicyResult {
	out := OutcomeError
	var pe *Error
	if errors.As(err, &pe) {
		out = pe.Outcome
	}
	return report.PolicyResult{
		Name:       s.Name,
		Enforce:    enforceOf(s),
		Decision:   report.Decision{Deny: []report.Violation{}, Warn: []report.Violation{}},
		DurationMs: took.Milliseconds(),
		Error:      err.Error(),
		Outcome:    string(out),
	}
}
