package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Time      string         `xml:"time,attr"`
	Failures  []junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure  `xml:"error,omitempty"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML so that CI test views show the gate: one test
// case per policy with a failure per denying violation; without policies,
// one test case for the built-in gate.
func WriteJUnit(w io.Writer, r *report.Report, opts Options) error {
	suite := junitSuite{Name: "shipgate"}
	if len(r.Policies) > 0 {
		for _, p := range r.Policies {
			c := junitCase{Name: p.Name, Classname: "shipgate.policy", Time: fmt.Sprintf("%.3f", float64(p.DurationMs)/1000)}
			switch {
			case p.Outcome == "error" || p.Outcome == "abort":
				c.Error = &junitFailure{Message: p.Error, Type: p.Outcome}
				suite.Errors++
			case p.Enforce != "warn":
				for _, v := range p.Decision.Deny {
					c.Failures = append(c.Failures, junitFailure{Message: v.Message, Type: firstNonEmpty(v.Rule, "deny"), Text: violationText(v)})
				}
				if len(c.Failures) > 0 {
					suite.Failures++
				}
			}
			var warns []string
			for _, v := range p.Decision.Warn {
				warns = append(warns, "warn: "+v.Message)
			}
			c.SystemOut = strings.Join(warns, "\n")
			suite.Cases = append(suite.Cases, c)
		}
	} else {
		c := junitCase{Name: "default-gate", Classname: "shipgate.gate", Time: "0.000"}
		if opts.Verdict != nil {
			switch opts.Verdict.Result {
			case "fail":
				c.Failures = []junitFailure{{Message: opts.Verdict.Reason, Type: "gate"}}
				suite.Failures++
			case "error":
				c.Error = &junitFailure{Message: opts.Verdict.Reason, Type: "error"}
				suite.Errors++
			}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	suite.Time = "0.000"
	doc := junitSuites{Name: "shipgate", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func violationText(v report.Violation) string {
	s := v.Message
	if v.Severity != "" {
		s += "\nseverity: " + v.Severity
	}
	if len(v.Refs) > 0 {
		s += "\nrefs: " + strings.Join(v.Refs, ", ")
	}
	return s
}
