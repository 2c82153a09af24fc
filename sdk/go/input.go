// Package shipgate is the Go SDK for Shipgate policies (sdk/ABI.md, ABI v1).
//
// A policy is a standard Go program built for WASI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o policy.wasm   # reactor shape
//	GOOS=wasip1 GOARCH=wasm go build -o policy.wasm                       # command shape
//
// A reactor registers its function from init and has an empty main:
//
//	func init() { shipgate.Register(evaluate) }
//	func main() {}
//
// A command calls shipgate.Main(evaluate) from main. The package uses only the
// standard library, so policies stay small and build with the plain Go
// toolchain (no TinyGo).
package shipgate

import (
	"encoding/json"
	"time"
)

// APIVersion is the apiVersion of the input documents this SDK understands.
const APIVersion = "shipgate.dev/v1"

// Input is the document a policy receives (sdk/ABI.md section 1).
type Input struct {
	APIVersion string `json:"apiVersion"`
	Policy     Policy `json:"policy"`
	Report     Report `json:"report"`
}

// Policy is the policy's own configuration: its name and params.
type Policy struct {
	Name   string          `json:"name"`
	Params json.RawMessage `json:"params,omitempty"`
}

// DecodeParams decodes the policy params into v (a pointer). Absent or null
// params leave v untouched, so callers set defaults first.
func (p Policy) DecodeParams(v any) error {
	if len(p.Params) == 0 || string(p.Params) == "null" {
		return nil
	}
	return json.Unmarshal(p.Params, v)
}

// Report mirrors the subset of Shipgate's report (sdk/report.schema.json)
// that policies commonly need. Unknown fields are ignored, so the report may
// gain fields without breaking policies.
type Report struct {
	SchemaVersion   string          `json:"schemaVersion"`
	CreatedAt       time.Time       `json:"createdAt"`
	Target          Target          `json:"target"`
	Stages          []string        `json:"stages"`
	OS              *OS             `json:"os,omitempty"`
	Image           *Image          `json:"image,omitempty"`
	Packages        []Package       `json:"packages"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	Findings        []Finding       `json:"findings"`
}

// Target is what was scanned.
type Target struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// OS is the operating system of a scanned image.
type OS struct {
	Family  string `json:"family"`
	Version string `json:"version"`
	Name    string `json:"name,omitempty"`
	EOL     bool   `json:"eol,omitempty"`
}

// Location is a place in a file (1-based line; 0 when unknown).
type Location struct {
	Path string `json:"path"`
	Line int    `json:"line,omitempty"`
}

// Package is one package of the report.
type Package struct {
	BOMRef       string     `json:"bomRef"`
	Name         string     `json:"name"`
	Version      string     `json:"version"`
	Purl         string     `json:"purl,omitempty"`
	Ecosystem    string     `json:"ecosystem"`
	Type         string     `json:"type,omitempty"`
	Locations    []Location `json:"locations"`
	Relationship string     `json:"relationship"`
	Dev          bool       `json:"dev"`
	Licenses     []string   `json:"licenses,omitempty"`
}

// DevOnly reports whether the package is a development-only dependency.
func (p Package) DevOnly() bool { return p.Dev }

// Suppression says why a vulnerability or finding is suppressed.
type Suppression struct {
	Kind   string `json:"kind"`
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Vulnerability is one advisory affecting one package.
type Vulnerability struct {
	ID               string       `json:"id"`
	Aliases          []string     `json:"aliases,omitempty"`
	PackageRef       string       `json:"packageRef"`
	PackageName      string       `json:"packageName"`
	InstalledVersion string       `json:"installedVersion"`
	FixedVersion     string       `json:"fixedVersion"`
	Status           string       `json:"status,omitempty"`
	Severity         string       `json:"severity"`
	Title            string       `json:"title,omitempty"`
	Location         *Location    `json:"location,omitempty"`
	Dev              bool         `json:"dev"`
	Suppressed       *Suppression `json:"suppressed,omitempty"`
	New              *bool        `json:"new,omitempty"`
}

// HasFix reports whether a fixed version is known.
func (v Vulnerability) HasFix() bool { return v.FixedVersion != "" }

// DevOnly reports whether the affected package is development-only.
func (v Vulnerability) DevOnly() bool { return v.Dev }

// IsSuppressed reports whether an ignore rule or VEX statement applies.
func (v Vulnerability) IsSuppressed() bool { return v.Suppressed != nil }

// IsNew reports whether --baseline marked it new; true when no baseline was used.
func (v Vulnerability) IsNew() bool { return v.New == nil || *v.New }

// Finding is a code, secret or configuration issue.
type Finding struct {
	ID         string       `json:"id"`
	Kind       string       `json:"kind"`
	Rule       string       `json:"rule"`
	Severity   string       `json:"severity"`
	Title      string       `json:"title,omitempty"`
	Message    string       `json:"message"`
	Location   Location     `json:"location"`
	Suppressed *Suppression `json:"suppressed,omitempty"`
	New        *bool        `json:"new,omitempty"`
}

// IsSuppressed reports whether an ignore rule applies.
func (f Finding) IsSuppressed() bool { return f.Suppressed != nil }

// IsNew reports whether --baseline marked it new; true when no baseline was used.
func (f Finding) IsNew() bool { return f.New == nil || *f.New }

// Image is the metadata of a scanned container image.
type Image struct {
	Name        string            `json:"name"`
	ID          string            `json:"id,omitempty"`
	RepoDigests []string          `json:"repoDigests,omitempty"`
	Created     *time.Time        `json:"created,omitempty"`
	User        string            `json:"user"`
	Env         []string          `json:"env,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	BaseImage   string            `json:"baseImage,omitempty"`
	History     []string          `json:"history,omitempty"`
	// Signature is verified, unsigned, invalid or not-checked.
	Signature string `json:"signature,omitempty"`
}
