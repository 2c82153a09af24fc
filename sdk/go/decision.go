package shipgate

import (
	"encoding/json"
	"fmt"
)

// Decision is what a policy returns (sdk/ABI.md section 2).
type Decision struct {
	Deny []Violation `json:"deny"`
	Warn []Violation `json:"warn"`
}

// Violation is one deny or warn entry.
type Violation struct {
	Message  string   `json:"message"`
	Rule     string   `json:"rule,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Refs     []string `json:"refs,omitempty"`
}

// Builder refines the violation just added by Denyf or Warnf.
type Builder struct {
	list *[]Violation
	i    int
}

// Denyf appends a deny entry with a formatted message.
func (d *Decision) Denyf(format string, args ...any) Builder {
	d.Deny = append(d.Deny, Violation{Message: fmt.Sprintf(format, args...)})
	return Builder{list: &d.Deny, i: len(d.Deny) - 1}
}

// Warnf appends a warn entry with a formatted message.
func (d *Decision) Warnf(format string, args ...any) Builder {
	d.Warn = append(d.Warn, Violation{Message: fmt.Sprintf(format, args...)})
	return Builder{list: &d.Warn, i: len(d.Warn) - 1}
}

// Rule sets the rule id.
func (b Builder) Rule(rule string) Builder { (*b.list)[b.i].Rule = rule; return b }

// Severity sets the severity.
func (b Builder) Severity(s string) Builder { (*b.list)[b.i].Severity = s; return b }

// Refs appends bom-refs or finding ids.
func (b Builder) Refs(refs ...string) Builder {
	(*b.list)[b.i].Refs = append((*b.list)[b.i].Refs, refs...)
	return b
}

// Evaluate decodes an input document, calls f and encodes its decision. It is
// what Register and Main do inside the module, exposed so that policies can
// be unit-tested natively with `go test`.
func Evaluate(f func(Input) Decision, input []byte) ([]byte, error) {
	var in Input
	if !decodeInput(input, &in) {
		// Invalid or unusual input: encoding/json decides (and words the error).
		in = Input{}
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, fmt.Errorf("decode input: %w", err)
		}
	}
	if in.APIVersion != APIVersion {
		return nil, fmt.Errorf("unsupported apiVersion %q (want %q)", in.APIVersion, APIVersion)
	}
	d := f(in)
	if d.Deny == nil {
		d.Deny = []Violation{}
	}
	if d.Warn == nil {
		d.Warn = []Violation{}
	}
	return json.Marshal(d)
}

// Metadata describes a policy (sdk/ABI.md §5).
type Metadata struct {
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
	// Params is a JSON Schema of policy.params.
	Params json.RawMessage `json:"params,omitempty"`
}
