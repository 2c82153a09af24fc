package gate

import (
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
)

func TestDecide(t *testing.T) {
	deny := report.Decision{Deny: []report.Violation{{Message: "CVE-1 in a"}, {Message: "CVE-2 in b"}}}
	warn := report.Decision{Warn: []report.Violation{{Message: "w"}}}
	tests := []struct {
		name     string
		policies []report.PolicyResult
		result   string
		code     int
		reason   string
	}{
		{"none ran", nil, Error, 2, "no policy ran"},
		{"pass", []report.PolicyResult{{Name: "default", Outcome: "pass"}}, Pass, 0, "1 policies passed"},
		{"warn only", []report.PolicyResult{{Name: "default", Outcome: "warn", Decision: warn}}, Pass, 0, "with 1 warnings"},
		{"deny", []report.PolicyResult{{Name: "default", Outcome: "deny", Decision: deny}}, Fail, 1, "policy default denied: CVE-1 in a (and 1 more)"},
		{"deny under enforce warn", []report.PolicyResult{{Name: "licenses", Enforce: "warn", Outcome: "deny", Decision: deny}}, Pass, 0, "with 2 warnings"},
		{"policy error beats deny", []report.PolicyResult{{Name: "default", Outcome: "deny", Decision: deny}, {Name: "x.wasm", Outcome: "abort", Error: "timeout after 10s"}}, Error, 2, "policy x.wasm was aborted: timeout after 10s"},
		{"policy error", []report.PolicyResult{{Name: "y.wasm", Outcome: "error", Error: "invalid JSON"}}, Error, 2, "policy y.wasm failed: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(&report.Report{Policies: tt.policies})
			if v.Result != tt.result || v.Code() != tt.code || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("got %+v (code %d), want %s %d %q", v, v.Code(), tt.result, tt.code, tt.reason)
			}
			if !strings.HasPrefix(v.Line(), "shipgate: "+strings.ToUpper(tt.result)+": ") {
				t.Errorf("line %q", v.Line())
			}
		})
	}
}
