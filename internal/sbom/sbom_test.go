package sbom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/shipgate/shipgate/internal/engine"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/sbom"
	"github.com/shipgate/shipgate/internal/schematest"
	"github.com/shipgate/shipgate/plugins/deps"
)

const schemaDir = "../../../shared/schemas/cyclonedx"

var update = flag.Bool("update", false, "rewrite spdx_ids.txt from the CycloneDX SPDX schema")

var createdAt = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// engineReport scans dir with the real deps analyzers, as `shipgate sbom`
// does.
func engineReport(dir string) (*report.Report, error) {
	out, err := engine.Run(context.Background(), os.DirFS(dir), deps.Analyzers(), engine.Options{})
	if err != nil {
		return nil, fmt.Errorf("engine.Run %s: %w", dir, err)
	}
	r := &report.Report{
		SchemaVersion:   report.SchemaVersion,
		Tool:            report.Tool{Name: "shipgate", Version: "0.0.0-test"},
		CreatedAt:       createdAt,
		Target:          report.Target{Type: "filesystem", Name: filepath.Base(dir), Git: &report.Git{Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main"}},
		Stages:          []string{report.StageDeps},
		OS:              out.OS,
		Packages:        append([]report.Package{}, out.Packages...),
		Vulnerabilities: []report.Vulnerability{},
		Findings:        out.Findings,
		Analyzers:       out.Analyzers,
	}
	r.Sort()
	return r, nil
}

func ptr[T any](v T) *T { return &v }

// imageReport is a hand-built image scan covering the OS, layers, every
// kind of license and hash, scoped and grouped names, and vulnerabilities
// with CVSS, CWEs and suppressions.
func imageReport() *report.Report {
	layer1 := &report.Layer{Digest: "sha256:" + strings.Repeat("a", 64), DiffID: "sha256:" + strings.Repeat("b", 64), CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "}
	layer2 := &report.Layer{DiffID: "sha256:" + strings.Repeat("c", 64), CreatedBy: "RUN npm ci"}
	pub := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "shipgate", Version: "1.2.3"},
		CreatedAt:     createdAt,
		Target:        report.Target{Type: "image", Name: "registry.example.com/app:1.0"},
		Stages:        []string{report.StageImage},
		OS:            &report.OS{Family: "debian", Version: "12.5", Name: "Debian GNU/Linux 12 (bookworm)"},
		Image: &report.Image{
			Name: "registry.example.com/app:1.0", ID: "sha256:" + strings.Repeat("d", 64),
			RepoDigests:  []string{"registry.example.com/app@sha256:" + strings.Repeat("e", 64)},
			Architecture: "amd64", OSName: "linux", User: "app", Layers: []report.Layer{*layer1, *layer2},
		},
		Packages: []report.Package{
			{BOMRef: "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5", Name: "libc6", Version: "2.36-9", Purl: "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5",
				Ecosystem: report.EcosystemDeb, Type: report.TypeOSPackage, Locations: []report.Location{{Path: "var/lib/dpkg/status", Line: 10}},
				Relationship: report.RelationshipUnknown, Licenses: []string{"LGPL-2.1-or-later", "GPL-2.0-or-later WITH GCC-exception-2.0"},
				Hashes: []report.Hash{{Algorithm: "MD5", Value: strings.Repeat("0", 32)}}, SrcName: "glibc", SrcVersion: "2.36-9", Arch: "amd64", Layer: layer1, Analyzer: "dpkg",
				DependsOn: []string{"pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12.5"}},
			{BOMRef: "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12.5", Name: "libgcc-s1", Version: "12.2.0-14", Purl: "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12.5",
				Ecosystem: report.EcosystemDeb, Type: report.TypeOSPackage, Locations: []report.Location{{Path: "var/lib/dpkg/status", Line: 40}},
				Relationship: report.RelationshipUnknown, Licenses: []string{"GPL-3.0-only WITH GCC-exception-3.1"}, Layer: layer1, Analyzer: "dpkg"},
			{BOMRef: "pkg:npm/%40babel/core@7.24.0?package-id=1", Name: "@babel/core", Version: "7.24.0", Purl: "pkg:npm/%40babel/core@7.24.0",
				Ecosystem: report.EcosystemNpm, Type: report.TypeLibrary, Locations: []report.Location{{Path: "app/package-lock.json", Line: 12}, {Path: "app/package-lock.json", Line: 9}},
				Relationship: report.RelationshipDirect, Dev: true, Licenses: []string{"mit"},
				Hashes: []report.Hash{
					{Algorithm: "SHA-512", Value: "tXbU8TVlZTbPutGl57leDlijeWqUhI4j6jpguRVC1zmzxVbMlVMxbeaLD7iU7XJ+8rYfwXkHfLRHtiJVBwZQtQ=="},
					{Algorithm: "sha1", Value: strings.Repeat("F", 40)},
					{Algorithm: "whirlpool", Value: "xyz"},
				},
				DependsOn: []string{"pkg:npm/ms@2.1.3?package-id=1", "pkg:npm/missing@1.0.0?package-id=1", "pkg:npm/%40babel/core@7.24.0?package-id=1"},
				Layer:     layer2, Analyzer: "npm-lock"},
			{BOMRef: "pkg:npm/ms@2.1.3?package-id=1", Name: "ms", Version: "2.1.3", Purl: "pkg:npm/ms@2.1.3",
				Ecosystem: report.EcosystemNpm, Locations: []report.Location{{Path: "app/package-lock.json", Line: 30}},
				Relationship: report.RelationshipTransitive, Licenses: []string{"MIT", "Apache-2.0 OR MIT", "Some Custom License"}, Layer: layer2, Analyzer: "npm-lock"},
			{BOMRef: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?package-id=2", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
				Ecosystem: report.EcosystemMaven, Type: report.TypeLibrary, Locations: []report.Location{{Path: "app/lib/log4j-core-2.14.1.jar"}},
				Relationship: report.RelationshipUnknown, Licenses: []string{"Apache-2.0"}, Hashes: []report.Hash{{Algorithm: "SHA-256", Value: strings.Repeat("ab", 32)}}, Analyzer: "jar"},
			{BOMRef: "pkg:golang/example.com/tool@v1.0.0?package-id=3", Name: "example.com/tool", Version: "v1.0.0", Purl: "pkg:golang/example.com/tool@v1.0.0",
				Ecosystem: report.EcosystemGo, Type: report.TypeApplication, Locations: []report.Location{{Path: "usr/local/bin/tool"}},
				Relationship: report.RelationshipDirect, Analyzer: "gobinary"},
			// Two packages with one bom-ref: the BOM must still be unique.
			{BOMRef: "pkg:cargo/dup@1.0.0?package-id=4", Name: "dup", Version: "1.0.0", Ecosystem: report.EcosystemCargo, Locations: []report.Location{{Path: "a/Cargo.lock", Line: 1}}, Relationship: report.RelationshipTransitive, Analyzer: "cargo",
				DependsOn: []string{"pkg:cargo/cycle@1.0.0?package-id=4"}},
			{BOMRef: "pkg:cargo/dup@1.0.0?package-id=4", Name: "dup", Version: "1.0.0", Ecosystem: report.EcosystemCargo, Locations: []report.Location{{Path: "b/Cargo.lock", Line: 1}}, Relationship: report.RelationshipTransitive, Analyzer: "cargo"},
			// A cycle that nothing reaches.
			{BOMRef: "pkg:cargo/cycle@1.0.0?package-id=4", Name: "cycle", Version: "1.0.0", Ecosystem: report.EcosystemCargo, Locations: []report.Location{{Path: "a/Cargo.lock", Line: 5}}, Relationship: report.RelationshipTransitive, Analyzer: "cargo",
				DependsOn: []string{"pkg:cargo/dup@1.0.0?package-id=4"}},
		},
		Vulnerabilities: []report.Vulnerability{
			{ID: "CVE-2021-44228", Aliases: []string{"GHSA-jfh8-c2jp-5v3q"}, PackageRef: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?package-id=2",
				PackageName: "org.apache.logging.log4j:log4j-core", InstalledVersion: "2.14.1", FixedVersion: "2.15.0", Status: "fixed",
				Severity: report.SeverityCritical, SeveritySource: "ghsa", Title: "Remote code injection in Log4j", Description: "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP.",
				CWEs: []string{"CWE-917", "CWE-20", "CWE-502", "CWE-20", "NVD-CWE-Other"},
				CVSS: []report.CVSS{
					{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10},
					{Source: "nvd", Version: "2.0", Vector: "AV:N/AC:M/Au:N/C:C/I:C/A:C", Score: 9.3},
					{Source: "ghsa", Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", Score: 10},
					{Source: "redhat", Version: "3.0", Vector: "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 9},
				},
				References:    []string{"https://logging.apache.org/log4j/2.x/security.html", "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"},
				PublishedDate: &pub, DataSource: &report.DataSource{ID: "ghsa", Name: "GitHub Security Advisory Maven", URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Amaven"},
				Location: &report.Location{Path: "app/lib/log4j-core-2.14.1.jar"}, New: ptr(true)},
			{ID: "CVE-2023-0001", PackageRef: "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5", PackageName: "libc6", InstalledVersion: "2.36-9",
				Status: "will_not_fix", Severity: report.SeverityLow, SeveritySource: "debian", CVSS: []report.CVSS{{Source: "nvd", Vector: "CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:N/A:N", Score: 1.9}},
				Suppressed: &report.Suppression{Kind: "vex", Source: "vex/openvex.json", Reason: "vulnerable_code_not_in_execute_path"}},
			{ID: "CVE-2023-0002", PackageRef: "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5", PackageName: "libc6", InstalledVersion: "2.36-9", FixedVersion: "2.36-10",
				Severity: report.SeverityMedium, Suppressed: &report.Suppression{Kind: "vex", Source: "vex.cdx.json", Reason: "fixed"}},
			{ID: "GHSA-xxxx-yyyy-zzzz", PackageRef: "pkg:npm/%40babel/core@7.24.0?package-id=1", PackageName: "@babel/core", InstalledVersion: "7.24.0",
				Severity: "UNKNOWN", Dev: true, Suppressed: &report.Suppression{Kind: "ignore-file", Source: ".shipgateignore", Reason: "dev only"}, New: ptr(false)},
			// The same advisory twice for one package: bom-refs stay unique.
			{ID: "GHSA-xxxx-yyyy-zzzz", PackageRef: "pkg:npm/%40babel/core@7.24.0?package-id=1", PackageName: "@babel/core", InstalledVersion: "7.24.0", Severity: report.SeverityHigh},
		},
		Findings:  []report.Finding{},
		Analyzers: []report.AnalyzerStatus{{Name: "dpkg", Stage: report.StageImage, Status: report.StatusOK, Files: 1}},
	}
}

// engineCases scans the testdata tree and the shared corpus of real
// lockfiles once for all tests.
var engineCases = sync.OnceValues(func() (map[string]*report.Report, error) {
	out := map[string]*report.Report{}
	dirs := map[string]string{"engine-testdata": "testdata/project"}
	if _, err := os.Stat(corpusDir); err == nil {
		dirs["engine-corpus"] = corpusDir
	}
	for name, dir := range dirs {
		r, err := engineReport(dir)
		if err != nil {
			return nil, err
		}
		out[name] = r
	}
	return out, nil
})

const corpusDir = "../../../shared/corpus/lockfiles"

// cases are the reports every invariant is checked on.
func cases(t testing.TB) map[string]*report.Report {
	t.Helper()
	eng, err := engineCases()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*report.Report{
		"image": imageReport(),
		"empty": {SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "shipgate"}, Target: report.Target{Type: "filesystem", Name: ".", Path: "/src/empty"}},
	}
	for k, v := range eng {
		out[k] = v
	}
	return out
}

// schemas compiles the CycloneDX JSON schemas once.
var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	out := map[string]*jsonschema.Schema{}
	for _, v := range []string{"1.5", "1.6"} {
		s, err := schematest.CompileJSON(filepath.Join(schemaDir, "bom-"+v+".schema.json"),
			filepath.Join(schemaDir, "spdx.schema.json"), filepath.Join(schemaDir, "jsf-0.82.schema.json"))
		if err != nil {
			return nil, err
		}
		out[v] = s
	}
	return out, nil
})

func validateJSON(t testing.TB, version string, doc []byte) {
	t.Helper()
	s, err := schemas()
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.CheckJSON(s[version], doc); err != nil {
		t.Fatalf("CycloneDX %s: %v", version, err)
	}
}

func encode(t testing.TB, r *report.Report, f sbom.Format, spec string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := sbom.Encode(&buf, r, f, sbom.Options{SpecVersion: spec}); err != nil {
		t.Fatalf("Encode %v %s: %v", f, spec, err)
	}
	return buf.Bytes()
}

func TestEncodeValidates(t *testing.T) {
	for name, r := range cases(t) {
		t.Run(name, func(t *testing.T) {
			if len(r.Packages) == 0 && strings.HasPrefix(name, "engine") {
				t.Fatalf("engine found no packages in %s", name)
			}
			for _, tc := range []struct {
				spec   string
				schema string
			}{
				{"1.6", "1.6"},
				{"", "1.6"},
				{"1.5", "1.5"},
			} {
				if name == "engine-corpus" && tc.spec != "1.6" {
					continue // big: one spec version is enough
				}
				doc := encode(t, r, sbom.JSON, tc.spec)
				validateJSON(t, tc.schema, doc)
				var head struct {
					Schema      string `json:"$schema"`
					SpecVersion string `json:"specVersion"`
				}
				if err := json.Unmarshal(doc, &head); err != nil {
					t.Fatal(err)
				}
				want := tc.spec
				if want == "" {
					want = "1.6"
				}
				if head.SpecVersion != want || !strings.Contains(head.Schema, "bom-"+want) {
					t.Errorf("spec %q: specVersion %q, $schema %q", tc.spec, head.SpecVersion, head.Schema)
				}
				checkBOM(t, r, doc)
			}
			xmlDoc := encode(t, r, sbom.XML, "1.6")
			if !bytes.Contains(xmlDoc, []byte(`xmlns="http://cyclonedx.org/schema/bom/1.6"`)) {
				t.Errorf("XML namespace is not 1.6:\n%.300s", xmlDoc)
			}
			schematest.ValidateXML(t, filepath.Join(schemaDir, "bom-1.6.xsd"), xmlDoc)
		})
	}
}

// checkBOM checks the invariants of a BOM against its report: unique
// bom-refs, one component per package, dependencies naming only known
// refs, and a graph connected from the metadata component.
func checkBOM(t *testing.T, r *report.Report, doc []byte) {
	t.Helper()
	var bom cdx.BOM
	if err := json.Unmarshal(doc, &bom); err != nil {
		t.Fatalf("decode BOM: %v", err)
	}
	if !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || bom.Version != 1 {
		t.Errorf("serialNumber %q version %d", bom.SerialNumber, bom.Version)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Component.BOMRef == "" {
		t.Fatal("no metadata component")
	}
	root := bom.Metadata.Component.BOMRef
	refs := map[string]bool{root: true}
	var comps []cdx.Component
	if bom.Components != nil {
		comps = *bom.Components
	}
	pkgComps := 0
	for _, c := range comps {
		if refs[c.BOMRef] {
			t.Errorf("duplicate bom-ref %q", c.BOMRef)
		}
		refs[c.BOMRef] = true
		if c.Type != cdx.ComponentTypeOS {
			pkgComps++
		}
	}
	if pkgComps != len(r.Packages) {
		t.Errorf("%d package components for %d packages", pkgComps, len(r.Packages))
	}
	if bom.Vulnerabilities != nil {
		if len(*bom.Vulnerabilities) != len(r.Vulnerabilities) {
			t.Errorf("%d vulnerabilities for %d", len(*bom.Vulnerabilities), len(r.Vulnerabilities))
		}
		for _, v := range *bom.Vulnerabilities {
			if refs[v.BOMRef] {
				t.Errorf("duplicate bom-ref %q", v.BOMRef)
			}
			refs[v.BOMRef] = true
		}
	} else if len(r.Vulnerabilities) > 0 {
		t.Error("vulnerabilities missing")
	}

	if bom.Dependencies == nil {
		t.Fatal("no dependencies")
	}
	edges := map[string][]string{}
	var order []string
	for _, d := range *bom.Dependencies {
		if _, dup := edges[d.Ref]; dup {
			t.Errorf("dependency %q listed twice", d.Ref)
		}
		if !refs[d.Ref] {
			t.Errorf("dependency ref %q is not a component", d.Ref)
		}
		order = append(order, d.Ref)
		edges[d.Ref] = nil
		if d.Dependencies != nil {
			edges[d.Ref] = *d.Dependencies
			if !slices.IsSorted(*d.Dependencies) {
				t.Errorf("dependsOn of %q not sorted", d.Ref)
			}
			for _, to := range *d.Dependencies {
				if !refs[to] {
					t.Errorf("%q depends on unknown %q", d.Ref, to)
				}
			}
		}
	}
	if !slices.IsSorted(order) {
		t.Error("dependencies not sorted by ref")
	}
	reached := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if reached[n] {
			return
		}
		reached[n] = true
		for _, m := range edges[n] {
			visit(m)
		}
	}
	visit(root)
	for _, c := range comps {
		if _, ok := edges[c.BOMRef]; !ok {
			t.Errorf("component %q has no dependency entry", c.BOMRef)
		}
		if !reached[c.BOMRef] {
			t.Errorf("component %q not reachable from the metadata component", c.BOMRef)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for name, r := range cases(t) {
		t.Run(name, func(t *testing.T) {
			for _, f := range []sbom.Format{sbom.JSON, sbom.XML} {
				if name == "engine-corpus" && f == sbom.XML {
					continue // big: JSON is enough
				}
				a := encode(t, r, f, "1.6")
				// A shuffled copy of the report gives the same bytes.
				shuffled := *r
				shuffled.Packages = slices.Clone(r.Packages)
				slices.Reverse(shuffled.Packages)
				shuffled.Vulnerabilities = slices.Clone(r.Vulnerabilities)
				slices.Reverse(shuffled.Vulnerabilities)
				b := encode(t, r, f, "1.6")
				if !bytes.Equal(a, b) {
					t.Fatalf("%v: two encodings differ", f)
				}
				var bom1, bom2 cdx.BOM
				c := encode(t, &shuffled, f, "1.6")
				if f == sbom.JSON {
					_ = json.Unmarshal(a, &bom1)
					_ = json.Unmarshal(c, &bom2)
					bom2.SerialNumber = bom1.SerialNumber // the serial is a hash of the report as given
					x, _ := json.Marshal(bom1)
					y, _ := json.Marshal(bom2)
					if !bytes.Equal(x, y) && !hasDuplicateRefs(r) {
						t.Errorf("package order of the report changes the BOM")
					}
				}
			}
			// Another creation time gives another serial number.
			later := *r
			later.CreatedAt = r.CreatedAt.Add(time.Second)
			s1, _ := sbom.Convert(r, sbom.Options{})
			s2, _ := sbom.Convert(&later, sbom.Options{})
			if s1.SerialNumber == s2.SerialNumber {
				t.Error("serial number does not depend on the report")
			}
		})
	}
}

func hasDuplicateRefs(r *report.Report) bool {
	seen := map[string]bool{}
	for _, p := range r.Packages {
		if seen[p.BOMRef] {
			return true
		}
		seen[p.BOMRef] = true
	}
	return false
}

func TestImageContent(t *testing.T) {
	r := imageReport()
	bom, err := sbom.Convert(r, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := bom.Metadata
	if m.Timestamp != "2025-03-04T05:06:07Z" {
		t.Errorf("timestamp %q", m.Timestamp)
	}
	if tools := *m.Tools.Components; len(tools) != 1 || tools[0].Name != "shipgate" || tools[0].Version != "1.2.3" {
		t.Errorf("tools %+v", tools)
	}
	if c := m.Component; c.Type != cdx.ComponentTypeContainer || c.Name != "registry.example.com/app:1.0" || c.Version != "sha256:"+strings.Repeat("e", 64) {
		t.Errorf("metadata component %+v", c)
	}

	comps := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		comps[c.BOMRef] = c
	}
	props := func(c cdx.Component) map[string][]string {
		out := map[string][]string{}
		if c.Properties != nil {
			for _, p := range *c.Properties {
				out[p.Name] = append(out[p.Name], p.Value)
			}
		}
		return out
	}
	var osComp *cdx.Component
	for _, c := range *bom.Components {
		if c.Type == cdx.ComponentTypeOS {
			osComp = &c
		}
	}
	if osComp == nil || osComp.Name != "debian" || osComp.Version != "12.5" {
		t.Fatalf("os component %+v", osComp)
	}

	libc := comps["pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5"]
	lp := props(libc)
	if libc.Type != cdx.ComponentTypeLibrary || lp[sbom.PropLayerDiffID][0] != "sha256:"+strings.Repeat("b", 64) ||
		lp[sbom.PropLayerCreatedBy] == nil || lp[sbom.PropSrcName][0] != "glibc" || lp[sbom.PropLocation][0] != "var/lib/dpkg/status:10" {
		t.Errorf("libc6 %+v", libc)
	}
	// Two licenses, one of them an expression: kept as a name next to the id.
	if l := *libc.Licenses; len(l) != 2 || l[0].License.ID != "LGPL-2.1-or-later" || l[1].License.Name != "GPL-2.0-or-later WITH GCC-exception-2.0" {
		t.Errorf("libc6 licenses %+v %+v", l[0].License, l[1].License)
	}
	gcc := comps["pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12.5"]
	if l := *gcc.Licenses; len(l) != 1 || l[0].Expression != "GPL-3.0-only WITH GCC-exception-3.1" {
		t.Errorf("libgcc licenses %+v", l)
	}

	babel := comps["pkg:npm/%40babel/core@7.24.0?package-id=1"]
	bp := props(babel)
	if babel.Group != "@babel" || babel.Name != "core" || bp[sbom.PropDev][0] != "true" || bp[sbom.PropRelationship][0] != "direct" ||
		!slices.Equal(bp[sbom.PropLocation], []string{"app/package-lock.json:12", "app/package-lock.json:9"}) || bp[sbom.PropAnalyzer][0] != "npm-lock" {
		t.Errorf("@babel/core %+v %v", babel, bp)
	}
	if l := *babel.Licenses; l[0].License.ID != "MIT" {
		t.Errorf("mit not canonicalised: %+v", l[0].License)
	}
	wantHashes := []cdx.Hash{{Algorithm: cdx.HashAlgoSHA1, Value: strings.Repeat("f", 40)},
		{Algorithm: cdx.HashAlgoSHA512, Value: "b576d4f135656536cfbad1a5e7b95e0e58a3796a94848e23ea3a60b91542d739b3c556cc9553316de68b0fb894ed727ef2b61fc179077cb447b62255070650b5"}}
	if !slices.Equal(*babel.Hashes, wantHashes) || bp[sbom.PropHash][0] != "whirlpool:xyz" {
		t.Errorf("hashes %+v, props %v", *babel.Hashes, bp[sbom.PropHash])
	}
	log4j := comps["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?package-id=2"]
	if log4j.Group != "org.apache.logging.log4j" || log4j.Name != "log4j-core" || (*log4j.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("log4j %+v", log4j)
	}
	if ms := comps["pkg:npm/ms@2.1.3?package-id=1"]; len(*ms.Licenses) != 3 || (*ms.Licenses)[1].License.Name != "Apache-2.0 OR MIT" || (*ms.Licenses)[2].License.Name != "Some Custom License" {
		t.Errorf("ms licenses %+v", *ms.Licenses)
	}
	if tool := comps["pkg:golang/example.com/tool@v1.0.0?package-id=3"]; tool.Type != cdx.ComponentTypeApplication || tool.Name != "example.com/tool" || tool.Group != "" {
		t.Errorf("go tool %+v", tool)
	}
	if _, ok := comps["pkg:cargo/dup@1.0.0?package-id=4#2"]; !ok {
		t.Error("the second package with a duplicate bom-ref was dropped")
	}

	deps := map[string][]string{}
	for _, d := range *bom.Dependencies {
		if d.Dependencies != nil {
			deps[d.Ref] = *d.Dependencies
		}
	}
	if !slices.Equal(deps[osComp.BOMRef], []string{"pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5", "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12.5"}) {
		t.Errorf("os dependsOn %v", deps[osComp.BOMRef])
	}
	if !slices.Equal(deps["pkg:npm/%40babel/core@7.24.0?package-id=1"], []string{"pkg:npm/ms@2.1.3?package-id=1"}) {
		t.Errorf("babel dependsOn %v (self and missing refs must go)", deps["pkg:npm/%40babel/core@7.24.0?package-id=1"])
	}
	root := deps[m.Component.BOMRef]
	for _, want := range []string{osComp.BOMRef, "pkg:npm/%40babel/core@7.24.0?package-id=1", "pkg:golang/example.com/tool@v1.0.0?package-id=3", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?package-id=2"} {
		if !slices.Contains(root, want) {
			t.Errorf("root does not depend on %s: %v", want, root)
		}
	}
	if slices.Contains(root, "pkg:npm/ms@2.1.3?package-id=1") {
		t.Errorf("root depends on the transitive ms: %v", root)
	}

	vulns := map[string]cdx.Vulnerability{}
	for _, v := range *bom.Vulnerabilities {
		vulns[v.BOMRef] = v
	}
	l4 := vulns["CVE-2021-44228/pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?package-id=2"]
	if l4.ID != "CVE-2021-44228" || l4.Source.Name != "GitHub Security Advisory Maven" || l4.Detail != "Remote code injection in Log4j" ||
		l4.Recommendation != "Upgrade org.apache.logging.log4j:log4j-core to 2.15.0" || l4.Published != "2021-02-03T04:05:06Z" {
		t.Errorf("log4shell %+v", l4)
	}
	if !slices.Equal(*l4.CWEs, []int{20, 502, 917}) {
		t.Errorf("cwes %v", *l4.CWEs)
	}
	var methods []string
	for _, r := range *l4.Ratings {
		s := string(r.Method) + ":" + string(r.Severity)
		if r.Source != nil {
			s = r.Source.Name + ":" + s
		}
		methods = append(methods, s)
	}
	if want := []string{"ghsa:CVSSv4:critical", "nvd:CVSSv31:critical", "nvd:CVSSv2:high", "redhat:CVSSv3:critical", "ghsa::critical"}; !slices.Equal(methods, want) {
		t.Errorf("ratings %v, want %v", methods, want)
	}
	if (*l4.Affects)[0].Ref != log4j.BOMRef || (*(*l4.Affects)[0].Range)[0].Status != cdx.VulnerabilityStatusAffected {
		t.Errorf("affects %+v", *l4.Affects)
	}
	if len(*l4.Advisories) != 2 || (*l4.References)[0].ID != "GHSA-jfh8-c2jp-5v3q" {
		t.Errorf("advisories %+v references %+v", *l4.Advisories, *l4.References)
	}

	na := vulns["CVE-2023-0001/"+libc.BOMRef]
	if na.Analysis == nil || na.Analysis.State != cdx.IASNotAffected || na.Analysis.Justification != cdx.IAJCodeNotReachable ||
		(*(*na.Affects)[0].Range)[0].Status != cdx.VulnerabilityStatusNotAffected {
		t.Errorf("VEX not_affected: %+v", na.Analysis)
	}
	if res := vulns["CVE-2023-0002/"+libc.BOMRef]; res.Analysis == nil || res.Analysis.State != cdx.IASResolved {
		t.Errorf("VEX fixed: %+v", res.Analysis)
	}
	// Sorted by severity: the HIGH one first, then the suppressed UNKNOWN
	// one, whose bom-ref gets a suffix.
	if hi := vulns["GHSA-xxxx-yyyy-zzzz/pkg:npm/%40babel/core@7.24.0?package-id=1"]; (*hi.Ratings)[0].Severity != cdx.SeverityHigh {
		t.Errorf("first GHSA: %+v", *hi.Ratings)
	}
	ign, ok := vulns["GHSA-xxxx-yyyy-zzzz/pkg:npm/%40babel/core@7.24.0?package-id=1#2"]
	if !ok {
		t.Fatal("duplicate vulnerability bom-ref not made unique")
	}
	if ign.Analysis != nil || (*ign.Ratings)[0].Severity != cdx.SeverityUnknown || !slices.Contains(*ign.Properties, cdx.Property{Name: sbom.PropSuppressedKind, Value: "ignore-file"}) {
		t.Errorf("ignore-file suppression: %+v", ign)
	}
}

func TestTargetName(t *testing.T) {
	for _, tc := range []struct {
		target report.Target
		want   string
	}{
		{report.Target{Type: "filesystem", Name: ".", Path: "/src/shop"}, "shop"},
		{report.Target{Type: "filesystem", Name: "services/api", Path: "/src/services/api"}, "services/api"},
		{report.Target{Type: "filesystem", Path: `C:\src\win`}, "win"},
		{report.Target{Type: "filesystem", Name: "."}, "."},
		{report.Target{}, "unknown"},
	} {
		bom, err := sbom.Convert(&report.Report{Target: tc.target}, sbom.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c := bom.Metadata.Component; c.Name != tc.want || c.Type != cdx.ComponentTypeApplication {
			t.Errorf("%+v: component %q %s, want %q", tc.target, c.Name, c.Type, tc.want)
		}
	}
}

func TestSpecVersions(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		wantErr bool
	}{{"1.6", false}, {"1.5", false}, {"", false}, {"1.4", true}, {"1.7", true}, {"junk", true}} {
		var buf bytes.Buffer
		err := sbom.Encode(&buf, imageReport(), sbom.JSON, sbom.Options{SpecVersion: tc.spec})
		if (err != nil) != tc.wantErr {
			t.Errorf("spec %q: err %v", tc.spec, err)
		}
	}
	if err := sbom.Encode(&bytes.Buffer{}, nil, sbom.JSON, sbom.Options{}); err == nil {
		t.Error("nil report accepted")
	}
	if err := sbom.Encode(&bytes.Buffer{}, imageReport(), sbom.Format(7), sbom.Options{}); err == nil {
		t.Error("unknown format accepted")
	}
	var buf bytes.Buffer
	if err := sbom.Encode(&buf, imageReport(), sbom.JSON, sbom.Options{SerialNumber: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", Compact: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"`)) {
		t.Errorf("serial number option ignored: %.200s", buf.String())
	}
}

// TestSPDXListMatchesSchema keeps the embedded SPDX id list equal to the
// enum of CycloneDX's spdx.schema.json.
func TestSPDXListMatchesSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(schemaDir, "spdx.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(s.Enum, "\n") + "\n"
	if *update {
		if err := os.WriteFile("spdx_ids.txt", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("spdx_ids.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("spdx_ids.txt differs from spdx.schema.json: run go test ./internal/sbom -run TestSPDXListMatchesSchema -update")
	}
}

// bigReport is a report of n packages in chains of ten, with a
// vulnerability on every hundredth.
func bigReport(n int) *report.Report {
	r := imageReport()
	r.Packages = r.Packages[:0]
	r.Vulnerabilities = r.Vulnerabilities[:0]
	for i := range n {
		ref := fmt.Sprintf("pkg:npm/p%d@1.0.%d?package-id=1", i, i)
		p := report.Package{BOMRef: ref, Name: fmt.Sprintf("p%d", i), Version: fmt.Sprintf("1.0.%d", i), Purl: fmt.Sprintf("pkg:npm/p%d@1.0.%d", i, i),
			Ecosystem: report.EcosystemNpm, Locations: []report.Location{{Path: "package-lock.json", Line: i + 1}}, Relationship: report.RelationshipTransitive,
			Licenses: []string{"MIT"}, Hashes: []report.Hash{{Algorithm: "SHA-512", Value: strings.Repeat("ab", 64)}}, Analyzer: "npm-lock"}
		if i%10 == 0 {
			p.Relationship = report.RelationshipDirect
		}
		if i%10 != 9 {
			p.DependsOn = []string{fmt.Sprintf("pkg:npm/p%d@1.0.%d?package-id=1", i+1, i+1)}
		}
		r.Packages = append(r.Packages, p)
		if i%100 == 0 {
			r.Vulnerabilities = append(r.Vulnerabilities, report.Vulnerability{ID: fmt.Sprintf("CVE-2024-%05d", i), PackageRef: ref, PackageName: p.Name,
				InstalledVersion: p.Version, FixedVersion: "2.0.0", Severity: report.SeverityHigh, CWEs: []string{"CWE-79"},
				CVSS: []report.CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", Score: 7.5}}})
		}
	}
	return r
}

func TestBigReport(t *testing.T) {
	r := bigReport(5000)
	doc := encode(t, r, sbom.JSON, "1.6")
	validateJSON(t, "1.6", doc)
	checkBOM(t, r, doc)
}

func BenchmarkEncode(b *testing.B) {
	r := bigReport(5000)
	for _, f := range []sbom.Format{sbom.JSON, sbom.XML} {
		b.Run(f.String(), func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := sbom.Encode(&buf, r, f, sbom.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}
