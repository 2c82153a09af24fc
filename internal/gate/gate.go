// Package gate turns the policies' decisions in a report into the pass or
// fail verdict and the exit code: a deny from an enforcing policy fails the
// gate, a policy that errs or hits a host limit fails it closed (error).
package gate

import (
	"fmt"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// Exit codes.
const (
	ExitPass  = 0
	ExitFail  = 1
	ExitError = 2
)

// Results of a verdict.
const (
	Pass  = "pass"
	Fail  = "fail"
	Error = "error"
)

// Verdict is the outcome of the gate.
type Verdict struct {
	Result string
	Reason string
}

// Code returns the process exit code for the verdict.
func (v Verdict) Code() int {
	switch v.Result {
	case Pass:
		return ExitPass
	case Fail:
		return ExitFail
	}
	return ExitError
}

// Line is the last line of a run: which way the gate went and why.
func (v Verdict) Line() string {
	return fmt.Sprintf("shipgate: %s: %s", strings.ToUpper(v.Result), v.Reason)
}

// Decide returns the verdict for a report from its policies' decisions: a
// policy that errored or was aborted fails closed (error), any deny from an
// enforcing policy fails. A report without policy results is an error: a
// gate that decided nothing must not pass.
func Decide(r *report.Report) Verdict {
	if len(r.Policies) == 0 {
		return Verdict{Result: Error, Reason: "no policy ran"}
	}
	return fromPolicies(r.Policies)
}

func fromPolicies(ps []report.PolicyResult) Verdict {
	var errs, denies []string
	warns := 0
	for _, p := range ps {
		switch {
		case p.Outcome == "error" || p.Outcome == "abort":
			errs = append(errs, fmt.Sprintf("policy %s %s: %s", p.Name, outcomeWord(p.Outcome), p.Error))
		case len(p.Decision.Deny) > 0 && p.Enforce != "warn":
			first := p.Decision.Deny[0].Message
			more := ""
			if n := len(p.Decision.Deny) - 1; n > 0 {
				more = fmt.Sprintf(" (and %d more)", n)
			}
			denies = append(denies, fmt.Sprintf("policy %s denied: %s%s", p.Name, first, more))
		default:
			warns += len(p.Decision.Warn) + len(p.Decision.Deny)
		}
	}
	if len(errs) > 0 {
		return Verdict{Result: Error, Reason: strings.Join(errs, "; ")}
	}
	if len(denies) > 0 {
		return Verdict{Result: Fail, Reason: strings.Join(denies, "; ")}
	}
	reason := fmt.Sprintf("%d policies passed", len(ps))
	if warns > 0 {
		reason += fmt.Sprintf(" with %d warnings", warns)
	}
	return Verdict{Result: Pass, Reason: reason}
}

func outcomeWord(o string) string {
	if o == "abort" {
		return "was aborted"
	}
	return "failed"
}
