package sbom

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/shipgate/shipgate/internal/report"
)

// Property names, in the "shipgate:" taxonomy.
const (
	PropLocation        = "shipgate:location"
	PropDev             = "shipgate:dev"
	PropRelationship    = "shipgate:relationship"
	PropEcosystem       = "shipgate:ecosystem"
	PropConstraint      = "shipgate:constraint"
	PropAnalyzer        = "shipgate:analyzer"
	PropLayerDiffID     = "shipgate:layer:diffID"
	PropLayerDigest     = "shipgate:layer:digest"
	PropLayerCreatedBy  = "shipgate:layer:createdBy"
	PropSrcName         = "shipgate:srcName"
	PropSrcVersion      = "shipgate:srcVersion"
	PropArch            = "shipgate:arch"
	PropHash            = "shipgate:hash"
	PropGitCommit       = "shipgate:git:commit"
	PropGitBranch       = "shipgate:git:branch"
	PropImageID         = "shipgate:image:id"
	PropImageRepoDigest = "shipgate:image:repoDigest"
	PropImageArch       = "shipgate:image:architecture"
	PropImageOS         = "shipgate:image:os"
	PropImageBase       = "shipgate:image:baseImage"
	PropImageSignature  = "shipgate:image:signature"
	PropOSName          = "shipgate:os:name"
	PropOSEOL           = "shipgate:os:eol"
	PropVulnStatus      = "shipgate:vulnerability:status"
	PropVulnNew         = "shipgate:new"
	PropCWE             = "shipgate:cwe"
	PropReference       = "shipgate:reference"
	PropSuppressedKind  = "shipgate:suppressed:kind"
	PropSuppressedBy    = "shipgate:suppressed:source"
	PropSuppressedWhy   = "shipgate:suppressed:reason"
	PropPackageName     = "shipgate:packageName"
	PropPackageRef      = "shipgate:packageRef"
)

// builder holds what the parts of the BOM share: the packages in output
// order, with their (unique) bom-refs.
type builder struct {
	r *report.Report
	// pkgs are the report's packages in output order.
	pkgs []report.Package
	// refs[i] is the unique bom-ref of pkgs[i].
	refs []string
	// known holds every component bom-ref of the BOM.
	known map[string]bool
	// rootRef and osRef are the metadata and operating-system components.
	rootRef, osRef string
}

func newBuilder(r *report.Report) *builder {
	tmp := report.Report{Packages: slices.Clone(r.Packages)}
	tmp.Sort()
	b := &builder{r: r, pkgs: tmp.Packages, known: map[string]bool{}}
	b.refs = make([]string, len(b.pkgs))
	for i, p := range b.pkgs {
		b.refs[i] = b.unique(cmp.Or(p.BOMRef, p.Purl, p.Ecosystem+":"+p.Name+"@"+p.Version))
	}
	b.rootRef = b.unique("shipgate:target")
	if r.OS != nil {
		b.osRef = b.unique("shipgate:os:" + r.OS.Family + "@" + r.OS.Version)
	}
	return b
}

// unique returns ref, or ref with a "#n" suffix when ref is taken, and
// records it.
func (b *builder) unique(ref string) string {
	out := ref
	for n := 2; b.known[out]; n++ {
		out = ref + "#" + strconv.Itoa(n)
	}
	b.known[out] = true
	return out
}

func (b *builder) metadata() *cdx.Metadata {
	r := b.r
	m := &cdx.Metadata{}
	if !r.CreatedAt.IsZero() {
		m.Timestamp = r.CreatedAt.UTC().Format(time.RFC3339)
	}
	tool := cdx.Component{
		Type:    cdx.ComponentTypeApplication,
		Name:    cmp.Or(r.Tool.Name, "shipgate"),
		Version: r.Tool.Version,
	}
	m.Tools = &cdx.ToolsChoice{Components: &[]cdx.Component{tool}}

	root := cdx.Component{BOMRef: b.rootRef, Type: cdx.ComponentTypeApplication, Name: targetName(r)}
	var props []cdx.Property
	if r.Target.Git != nil {
		props = addProp(props, PropGitCommit, r.Target.Git.Commit)
		props = addProp(props, PropGitBranch, r.Target.Git.Branch)
	}
	if r.Target.Type == "image" || r.Image != nil {
		root.Type = cdx.ComponentTypeContainer
		if img := r.Image; img != nil {
			root.Name = cmp.Or(img.Name, root.Name)
			props = addProp(props, PropImageID, img.ID)
			for _, d := range img.RepoDigests {
				props = addProp(props, PropImageRepoDigest, d)
			}
			props = addProp(props, PropImageArch, img.Architecture)
			props = addProp(props, PropImageOS, img.OSName)
			props = addProp(props, PropImageBase, img.BaseImage)
			props = addProp(props, PropImageSignature, img.Signature)
			if d := imageDigest(img); d != "" {
				root.Version = d
				if hex, ok := strings.CutPrefix(d, "sha256:"); ok && isHex(hex, 64) {
					root.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: strings.ToLower(hex)}}
				}
			}
		}
	}
	root.Properties = sortedProps(props)
	m.Component = &root
	return m
}

// targetName names the scanned target: the name the user gave, or the base
// name of the directory when that was "." or nothing.
func targetName(r *report.Report) string {
	switch r.Target.Name {
	case "", ".", "./":
	default:
		return r.Target.Name
	}
	if r.Target.Path != "" {
		return path.Base(strings.ReplaceAll(r.Target.Path, "\\", "/"))
	}
	return cmp.Or(r.Target.Name, "unknown")
}

// imageDigest is the image's manifest digest (from its first repo digest),
// or its id.
func imageDigest(img *report.Image) string {
	for _, d := range img.RepoDigests {
		if _, dg, ok := strings.Cut(d, "@"); ok && dg != "" {
			return dg
		}
	}
	return img.ID
}

// isOSPackage reports whether p belongs to the operating system.
func isOSPackage(p *report.Package) bool {
	if p.Type == report.TypeOSPackage {
		return true
	}
	switch p.Ecosystem {
	case report.EcosystemDeb, report.EcosystemApk, report.EcosystemRpm:
		return true
	}
	return false
}

func (b *builder) components() []cdx.Component {
	out := make([]cdx.Component, 0, len(b.pkgs)+1)
	if os := b.r.OS; os != nil {
		c := cdx.Component{BOMRef: b.osRef, Type: cdx.ComponentTypeOS, Name: cmp.Or(os.Family, "unknown"), Version: os.Version}
		var props []cdx.Property
		props = addProp(props, PropOSName, os.Name)
		if os.EOL {
			props = addProp(props, PropOSEOL, "true")
		}
		c.Properties = sortedProps(props)
		out = append(out, c)
	}
	ids := spdxIDs()
	for i := range b.pkgs {
		out = append(out, b.component(&b.pkgs[i], b.refs[i], ids))
	}
	return out
}

func (b *builder) component(p *report.Package, ref string, ids map[string]string) cdx.Component {
	c := cdx.Component{
		BOMRef:     ref,
		Type:       cdx.ComponentTypeLibrary,
		Version:    p.Version,
		PackageURL: p.Purl,
	}
	if p.Type == report.TypeApplication {
		c.Type = cdx.ComponentTypeApplication
	}
	c.Group, c.Name = splitName(p.Ecosystem, p.Name)
	if c.Name == "" {
		c.Name = "unknown"
	}
	var props []cdx.Property
	if lic := licenses(p.Licenses, ids); len(lic) > 0 {
		c.Licenses = &lic
	}
	hs, extra := hashes(p.Hashes)
	if len(hs) > 0 {
		c.Hashes = &hs
	}
	props = append(props, extra...)
	for _, l := range p.Locations {
		props = addProp(props, PropLocation, locationString(l))
	}
	if p.Dev {
		props = addProp(props, PropDev, "true")
	}
	props = addProp(props, PropRelationship, p.Relationship)
	props = addProp(props, PropEcosystem, p.Ecosystem)
	props = addProp(props, PropConstraint, p.Constraint)
	props = addProp(props, PropAnalyzer, p.Analyzer)
	props = addProp(props, PropSrcName, p.SrcName)
	props = addProp(props, PropSrcVersion, p.SrcVersion)
	props = addProp(props, PropArch, p.Arch)
	if l := p.Layer; l != nil {
		props = addProp(props, PropLayerDiffID, l.DiffID)
		props = addProp(props, PropLayerDigest, l.Digest)
		props = addProp(props, PropLayerCreatedBy, l.CreatedBy)
	}
	c.Properties = sortedProps(props)
	return c
}

// splitName splits an ecosystem's package name into CycloneDX group and
// name: Maven "group:artifact" and npm "@scope/name" (the group keeps the
// "@", as CycloneDX tools do); other names stay whole.
func splitName(ecosystem, name string) (group, short string) {
	switch ecosystem {
	case report.EcosystemMaven:
		if g, n, ok := strings.Cut(name, ":"); ok && g != "" && n != "" {
			return g, n
		}
	case report.EcosystemNpm:
		if strings.HasPrefix(name, "@") {
			if g, n, ok := strings.Cut(name, "/"); ok && len(g) > 1 && n != "" {
				return g, n
			}
		}
	}
	return "", name
}

// locationString renders a location as path:line (path when the line is
// unknown).
func locationString(l report.Location) string {
	if l.Line > 0 {
		return l.Path + ":" + strconv.Itoa(l.Line)
	}
	return l.Path
}

// licenses maps the stated licenses to CycloneDX: a valid SPDX id becomes
// license.id, a lone SPDX expression (AND, OR, WITH) becomes an expression,
// anything else license.name. CycloneDX does not allow an expression next
// to other licenses: then expressions are kept as names.
func licenses(in []string, ids map[string]string) cdx.Licenses {
	var out cdx.Licenses
	var seen []string
	for _, l := range in {
		l = strings.TrimSpace(l)
		if l == "" || slices.Contains(seen, l) {
			continue
		}
		seen = append(seen, l)
	}
	if len(seen) == 1 && isExpression(seen[0]) {
		return cdx.Licenses{{Expression: seen[0]}}
	}
	for _, l := range seen {
		if id, ok := ids[strings.ToLower(l)]; ok {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: id}})
			continue
		}
		out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
	}
	return out
}

// isExpression reports whether s is a compound SPDX license expression.
func isExpression(s string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '(' || r == ')' || r == '\t' }) {
		switch strings.ToUpper(f) {
		case "AND", "OR", "WITH":
			return true
		}
	}
	return false
}

// hashAlgorithms maps accepted spellings to CycloneDX algorithms and their
// hex digest length.
var hashAlgorithms = map[string]struct {
	alg cdx.HashAlgorithm
	n   int
}{
	"md5":        {cdx.HashAlgoMD5, 32},
	"sha1":       {cdx.HashAlgoSHA1, 40},
	"sha256":     {cdx.HashAlgoSHA256, 64},
	"sha384":     {cdx.HashAlgoSHA384, 96},
	"sha512":     {cdx.HashAlgoSHA512, 128},
	"sha3256":    {cdx.HashAlgoSHA3_256, 64},
	"sha3384":    {cdx.HashAlgoSHA3_384, 96},
	"sha3512":    {cdx.HashAlgoSHA3_512, 128},
	"blake3":     {cdx.HashAlgoBlake3, 64},
	"blake2b256": {cdx.HashAlgoBlake2b_256, 64},
	"blake2b384": {cdx.HashAlgoBlake2b_384, 96},
	"blake2b512": {cdx.HashAlgoBlake2b_512, 128},
}

// hashes maps the package hashes to CycloneDX. Digests are normalised to
// lower-case hex (base64 digests, as npm writes them, are decoded); a hash
// that CycloneDX cannot carry is kept as a property rather than dropped.
func hashes(in []report.Hash) ([]cdx.Hash, []cdx.Property) {
	var out []cdx.Hash
	var props []cdx.Property
	for _, h := range in {
		key := hashKey(h.Algorithm)
		a, ok := hashAlgorithms[key]
		v := strings.TrimSpace(h.Value)
		if ok {
			if hv, good := hexDigest(v, a.n); good {
				c := cdx.Hash{Algorithm: a.alg, Value: hv}
				if !slices.Contains(out, c) {
					out = append(out, c)
				}
				continue
			}
		}
		props = addProp(props, PropHash, h.Algorithm+":"+h.Value)
	}
	slices.SortFunc(out, func(a, b cdx.Hash) int {
		return cmp.Or(cmp.Compare(a.Algorithm, b.Algorithm), cmp.Compare(a.Value, b.Value))
	})
	return out, props
}

// hashKey lower-cases an algorithm name and drops '-' and '_'.
func hashKey(alg string) string {
	b := make([]byte, 0, len(alg))
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c == '-' || c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// hexDigest returns v as lower-case hex of n digits, decoding base64.
func hexDigest(v string, n int) (string, bool) {
	if isHex(v, n) {
		return strings.ToLower(v), true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(v); err == nil && len(raw)*2 == n {
			return hex.EncodeToString(raw), true
		}
	}
	return "", false
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// addProp appends a property unless its value is empty.
func addProp(props []cdx.Property, name, value string) []cdx.Property {
	if value == "" {
		return props
	}
	return append(props, cdx.Property{Name: name, Value: value})
}

// sortedProps sorts and de-duplicates properties; nil when there are none.
func sortedProps(props []cdx.Property) *[]cdx.Property {
	if len(props) == 0 {
		return nil
	}
	// Stable by name only: values of one name keep their order (locations
	// stay sorted by line, not as strings).
	slices.SortStableFunc(props, func(a, b cdx.Property) int { return cmp.Compare(a.Name, b.Name) })
	out := props[:0]
	seen := map[cdx.Property]bool{}
	for _, p := range props {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return &out
}
