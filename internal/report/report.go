// Package report defines Shipgate's report model: the single document that
// every stage fills in, that policies receive as input, and that every output
// format is rendered from.
//
// Field names are camelCase and stable: they are a public contract, described
// by the JSON Schema in sdk/report.schema.json. Add fields; never rename them.
package report

import "time"

// SchemaVersion is the version of the report document written by this build.
const SchemaVersion = "1"

// Stage names.
const (
	StageCode  = "code"
	StageDeps  = "deps"
	StageImage = "image"
)

// Severities, ordered from most to least severe.
const (
	SeverityCritical = "CRITICAL"
	SeverityHigh     = "HIGH"
	SeverityMedium   = "MEDIUM"
	SeverityLow      = "LOW"
	SeverityUnknown  = "UNKNOWN"
)

// Finding kinds.
const (
	KindCode   = "code"
	KindSecret = "secret"
	KindConfig = "config"
)

// Relationship values of a package to the project that declares it.
const (
	RelationshipDirect     = "direct"
	RelationshipTransitive = "transitive"
	RelationshipUnknown    = "unknown"
)

// Analyzer status values.
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusPartial = "partial"
)

// Report is the result of one scan.
type Report struct {
	// SchemaVersion is the report format version (SchemaVersion).
	SchemaVersion string `json:"schemaVersion"`
	// Tool names the program that wrote the report.
	Tool Tool `json:"tool"`
	// CreatedAt is when the scan started (UTC).
	CreatedAt time.Time `json:"createdAt"`
	// Target is what was scanned.
	Target Target `json:"target"`
	// Stages lists the stages that ran, in order.
	Stages []string `json:"stages"`
	// OS is the operating system found (image scans).
	OS *OS `json:"os,omitempty"`
	// Image holds the image metadata for image scans.
	Image *Image `json:"image,omitempty"`
	// Packages are all packages found, in a stable order.
	Packages []Package `json:"packages"`
	// Vulnerabilities are the vulnerabilities matched against the packages.
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	// Findings are code, secret and configuration findings.
	Findings []Finding `json:"findings"`
	// Analyzers is the status of each analyzer that ran, so that nothing
	// disappears silently: every file that could not be analysed is here.
	Analyzers []AnalyzerStatus `json:"analyzers"`
	// Database describes the vulnerability database used, if any.
	Database *Database `json:"database,omitempty"`
	// Policies holds each policy's decision, once policies have run.
	Policies []PolicyResult `json:"policies,omitempty"`
	// Warnings are run-level warnings (a stale database, a truncated output).
	Warnings []string `json:"warnings,omitempty"`
}

// Tool identifies the scanner.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target describes what was scanned.
type Target struct {
	// Type is "filesystem" or "image".
	Type string `json:"type"`
	// Name is the path or image reference as given by the user.
	Name string `json:"name"`
	// Path is the absolute path of a filesystem target.
	Path string `json:"path,omitempty"`
	// Git is set when the target is inside a git work tree.
	Git *Git `json:"git,omitempty"`
}

// Git is the state of the git work tree that was scanned.
type Git struct {
	Commit string `json:"commit,omitempty"`
	Branch string `json:"branch,omitempty"`
}

// OS is an operating system distribution.
type OS struct {
	// Family is the distribution id, e.g. debian, ubuntu, alpine, redhat.
	Family string `json:"family"`
	// Version is the distribution version, e.g. "12" or "3.20.1".
	Version string `json:"version"`
	// Name is the pretty name, if known.
	Name string `json:"name,omitempty"`
	// EOL is true when the distribution is known to be end of life.
	EOL bool `json:"eol,omitempty"`
}

// Package is one installed or locked package.
type Package struct {
	// BOMRef is unique within the report and used as the CycloneDX bom-ref.
	BOMRef string `json:"bomRef"`
	// Name is the package name as its ecosystem spells it
	// (Maven: group:artifact; npm: @scope/name).
	Name string `json:"name"`
	// Version is the resolved version; empty when the manifest does not pin one.
	Version string `json:"version"`
	// Constraint is the declared requirement when the version is not pinned.
	Constraint string `json:"constraint,omitempty"`
	// Purl is the package URL.
	Purl string `json:"purl,omitempty"`
	// Ecosystem is one of the Ecosystem* constants.
	Ecosystem string `json:"ecosystem"`
	// Type is the kind of component: library, application, os-package.
	Type string `json:"type,omitempty"`
	// Locations are the files (and lines) that declare the package.
	Locations []Location `json:"locations"`
	// Relationship is direct, transitive or unknown.
	Relationship string `json:"relationship"`
	// Dev is true for development-only dependencies.
	Dev bool `json:"dev"`
	// DependsOn lists the bom-refs of the package's own dependencies.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Licenses are SPDX ids or expressions (or names) as stated by the source.
	Licenses []string `json:"licenses,omitempty"`
	// Hashes are integrity hashes recorded by the lockfile.
	Hashes []Hash `json:"hashes,omitempty"`
	// SrcName and SrcVersion are the source package for OS packages.
	SrcName    string `json:"srcName,omitempty"`
	SrcVersion string `json:"srcVersion,omitempty"`
	// Arch is the architecture of an OS package.
	Arch string `json:"arch,omitempty"`
	// Layer is the image layer that brought the package (image scans).
	Layer *Layer `json:"layer,omitempty"`
	// Analyzer names the analyzer that found the package.
	Analyzer string `json:"analyzer"`
}

// Hash is a content hash.
type Hash struct {
	// Algorithm is SHA-1, SHA-256, SHA-384, SHA-512 or MD5 (CycloneDX names).
	Algorithm string `json:"algorithm"`
	// Value is the lower-case hex digest.
	Value string `json:"value"`
}

// Location is a place in a file. Line and Column are 1-based; 0 means unknown.
type Location struct {
	Path      string `json:"path"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	EndLine   int    `json:"endLine,omitempty"`
	EndColumn int    `json:"endColumn,omitempty"`
}

// Layer identifies an image layer.
type Layer struct {
	Digest    string `json:"digest,omitempty"`
	DiffID    string `json:"diffId"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Vulnerability is one advisory affecting one package.
type Vulnerability struct {
	// ID is the advisory id (CVE-..., GHSA-...).
	ID string `json:"id"`
	// Aliases are other ids of the same advisory.
	Aliases []string `json:"aliases,omitempty"`
	// PackageRef is the bom-ref of the affected package.
	PackageRef string `json:"packageRef"`
	// PackageName and InstalledVersion repeat the package's for readability.
	PackageName      string `json:"packageName"`
	InstalledVersion string `json:"installedVersion"`
	// FixedVersion is the lowest version that fixes it; empty if none.
	FixedVersion string `json:"fixedVersion"`
	// Status is fixed, affected, will_not_fix, fix_deferred, end_of_life or unknown.
	Status string `json:"status,omitempty"`
	// Severity is CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN.
	Severity string `json:"severity"`
	// SeveritySource names where the severity came from.
	SeveritySource string     `json:"severitySource,omitempty"`
	Title          string     `json:"title,omitempty"`
	Description    string     `json:"description,omitempty"`
	CWEs           []string   `json:"cwes,omitempty"`
	CVSS           []CVSS     `json:"cvss,omitempty"`
	References     []string   `json:"references,omitempty"`
	PublishedDate  *time.Time `json:"publishedDate,omitempty"`
	// DataSource is the database bucket's source.
	DataSource *DataSource `json:"dataSource,omitempty"`
	// Location is where the package is declared (lockfile line).
	Location *Location `json:"location,omitempty"`
	// Dev repeats the package's dev flag.
	Dev bool `json:"dev"`
	// Suppressed is set when an ignore rule or VEX statement applies.
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// New is set by --baseline: true when absent from the baseline.
	New *bool `json:"new,omitempty"`
}

// CVSS is one CVSS rating.
type CVSS struct {
	Source  string  `json:"source"`
	Version string  `json:"version"`
	Vector  string  `json:"vector,omitempty"`
	Score   float64 `json:"score,omitempty"`
}

// DataSource names a vulnerability data source.
type DataSource struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Suppression records why a vulnerability or finding is suppressed.
type Suppression struct {
	// Kind is ignore-file, vex or inline.
	Kind string `json:"kind"`
	// Source is the file the suppression came from.
	Source string `json:"source,omitempty"`
	// Reason or justification as given.
	Reason string `json:"reason,omitempty"`
}

// Finding is a code, secret or configuration issue at a location.
type Finding struct {
	// ID is a stable identifier (rule and fingerprint).
	ID string `json:"id"`
	// Kind is code, secret or config.
	Kind string `json:"kind"`
	// Rule is the rule id, e.g. "dockerfile-root-user" or "G101".
	Rule string `json:"rule"`
	// References are ids of the same check in other tools (DS002, KSV017, ...).
	References []string `json:"references,omitempty"`
	// Severity is CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN.
	Severity string `json:"severity"`
	// Title is the rule's short description.
	Title string `json:"title,omitempty"`
	// Message explains this occurrence. Secrets are always redacted.
	Message string `json:"message"`
	// Location is where the issue is.
	Location Location `json:"location"`
	// CWEs are CWE ids like "CWE-798".
	CWEs []string `json:"cwes,omitempty"`
	// Fingerprint is stable across line moves.
	Fingerprint string `json:"fingerprint"`
	// Snippet is the (redacted) offending text.
	Snippet string `json:"snippet,omitempty"`
	// Analyzer names the analyzer that produced it.
	Analyzer   string       `json:"analyzer"`
	Suppressed *Suppression `json:"suppressed,omitempty"`
	New        *bool        `json:"new,omitempty"`
}

// AnalyzerStatus says what one analyzer did: ok, or which files failed and why.
type AnalyzerStatus struct {
	Name   string `json:"name"`
	Stage  string `json:"stage"`
	Status string `json:"status"`
	// Files is the number of files the analyzer claimed.
	Files int `json:"files"`
	// Errors lists each file that could not be (fully) analysed.
	Errors []FileError `json:"errors,omitempty"`
	// Notes say how the analyzer ran where that is not an error, per file
	// or module: for example that gosec analysed a Go module in full mode,
	// and how much of it. They never change the status.
	Notes []FileNote `json:"notes,omitempty"`
}

// FileNote is something an analyzer says about how it analysed a file or
// module, that is not an error.
type FileNote struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// FileError is an error analysing one file.
type FileError struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Database describes the vulnerability database used by a scan.
type Database struct {
	SchemaVersion int       `json:"schemaVersion"`
	UpdatedAt     time.Time `json:"updatedAt"`
	NextUpdate    time.Time `json:"nextUpdate"`
	Path          string    `json:"path"`
	Stale         bool      `json:"stale"`
}

// Image is the metadata of a scanned container image.
type Image struct {
	Name         string            `json:"name"`
	ID           string            `json:"id,omitempty"`
	RepoDigests  []string          `json:"repoDigests,omitempty"`
	Architecture string            `json:"architecture,omitempty"`
	OSName       string            `json:"os,omitempty"`
	Created      *time.Time        `json:"created,omitempty"`
	User         string            `json:"user"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	Env          []string          `json:"env,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Healthcheck  []string          `json:"healthcheck,omitempty"`
	WorkingDir   string            `json:"workingDir,omitempty"`
	BaseImage    string            `json:"baseImage,omitempty"`
	Layers       []Layer           `json:"layers,omitempty"`
	History      []string          `json:"history,omitempty"`
	// Signature is verified, unsigned, invalid or not-checked.
	Signature string `json:"signature,omitempty"`
	// SignatureReason explains the signature result.
	SignatureReason string `json:"signatureReason,omitempty"`
}

// PolicyResult is one policy's decision.
type PolicyResult struct {
	Name       string   `json:"name"`
	Digest     string   `json:"digest,omitempty"`
	Shape      string   `json:"shape,omitempty"`
	Enforce    string   `json:"enforce"`
	Decision   Decision `json:"decision"`
	DurationMs int64    `json:"durationMs"`
	// Error is set when the policy failed or was aborted by the host.
	Error string `json:"error,omitempty"`
	// Outcome is pass, deny, warn, error (policy error) or abort (host limit).
	Outcome string `json:"outcome"`
}

// Decision is what a policy returned (sdk/ABI.md).
type Decision struct {
	Deny []Violation `json:"deny"`
	Warn []Violation `json:"warn"`
}

// Violation is one deny or warn entry of a decision.
type Violation struct {
	Message  string   `json:"message"`
	Rule     string   `json:"rule,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Refs     []string `json:"refs,omitempty"`
}
