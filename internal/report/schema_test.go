package report_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shipgate/shipgate/internal/pipeline"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/schematest"
)

const schemaPath = "../../sdk/report.schema.json"

func marshal(t *testing.T, r *report.Report) []byte {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSchemaRealReports validates reports of real scans: the code and deps
// stages over trees of real (and deliberately broken) files.
func TestSchemaRealReports(t *testing.T) {
	sch, err := schematest.CompileJSON(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{
		"sbom-testdata":   "../sbom/testdata/project",
		"plugins":         "../../plugins",
		"shared-lockfile": "../../../shared/corpus/lockfiles",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("%s: %v", dir, err)
			}
			r, err := pipeline.Scan(context.Background(), pipeline.Options{
				Path: dir, Stages: []string{report.StageCode, report.StageDeps}, ToolVersion: "0.0.0-test",
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Packages) == 0 {
				t.Fatalf("no packages found below %s", dir)
			}
			if err := schematest.CheckJSON(sch, marshal(t, r)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// fullReport sets every field of the report model.
func fullReport() *report.Report {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	loc := report.Location{Path: "src/main.go", Line: 3, Column: 2, EndLine: 4, EndColumn: 9}
	layer := report.Layer{Digest: "sha256:aa", DiffID: "sha256:bb", CreatedBy: "RUN apt-get install -y curl"}
	sup := &report.Suppression{Kind: "vex", Source: "vex.json", Reason: "vulnerable_code_not_present"}
	viol := report.Violation{Message: "CVE-2021-44228 in log4j-core", Rule: "no-critical", Severity: "CRITICAL", Refs: []string{"CVE-2021-44228"}}
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "shipgate", Version: "1.0.0"},
		CreatedAt:     at,
		Target:        report.Target{Type: "image", Name: "app:1", Path: "/src", Git: &report.Git{Commit: "abc", Branch: "main"}},
		Stages:        []string{report.StageCode, report.StageDeps, report.StageImage},
		OS:            &report.OS{Family: "debian", Version: "12", Name: "Debian 12", EOL: true},
		Image: &report.Image{
			Name: "app:1", ID: "sha256:cc", RepoDigests: []string{"app@sha256:dd"}, Architecture: "amd64", OSName: "linux",
			Created: &at, User: "root", ExposedPorts: []string{"80/tcp"}, Env: []string{"PATH=/usr/bin"},
			Entrypoint: []string{"/app"}, Cmd: []string{"serve"}, Labels: map[string]string{"a": "b"},
			Healthcheck: []string{"CMD", "true"}, WorkingDir: "/", BaseImage: "debian:12", Layers: []report.Layer{layer},
			History: []string{"RUN true"}, Signature: "unsigned", SignatureReason: "no signature found",
		},
		Packages: []report.Package{{
			BOMRef: "pkg:deb/debian/curl@7.88.1?package-id=1", Name: "curl", Version: "7.88.1", Constraint: ">=7",
			Purl: "pkg:deb/debian/curl@7.88.1", Ecosystem: report.EcosystemDeb, Type: report.TypeOSPackage,
			Locations: []report.Location{loc}, Relationship: report.RelationshipDirect, Dev: true,
			DependsOn: []string{"pkg:deb/debian/libc6@2.36?package-id=1"}, Licenses: []string{"curl"},
			Hashes: []report.Hash{{Algorithm: "SHA-256", Value: strings.Repeat("a", 64)}}, SrcName: "curl", SrcVersion: "7.88.1-10",
			Arch: "amd64", Layer: &layer, Analyzer: "dpkg",
		}},
		Vulnerabilities: []report.Vulnerability{{
			ID: "CVE-2023-38545", Aliases: []string{"GHSA-1"}, PackageRef: "pkg:deb/debian/curl@7.88.1?package-id=1",
			PackageName: "curl", InstalledVersion: "7.88.1", FixedVersion: "7.88.1-10+deb12u4", Status: "fixed",
			Severity: report.SeverityHigh, SeveritySource: "nvd", Title: "SOCKS5 heap overflow", Description: "...",
			CWEs: []string{"CWE-787"}, CVSS: []report.CVSS{{Source: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N", Score: 9.8}},
			References: []string{"https://curl.se/docs/CVE-2023-38545.html"}, PublishedDate: &at,
			DataSource: &report.DataSource{ID: "debian", Name: "Debian Security Tracker", URL: "https://security-tracker.debian.org"},
			Location:   &loc, Dev: true, Suppressed: sup, New: ptr(true),
		}},
		Findings: []report.Finding{{
			ID: "G101:abc", Kind: report.KindSecret, Rule: "aws-access-key", References: []string{"G101"},
			Severity: report.SeverityCritical, Title: "AWS key", Message: "AKIA****", Location: loc, CWEs: []string{"CWE-798"},
			Fingerprint: "abc", Snippet: "key = AKIA****", Analyzer: "secrets", Suppressed: sup, New: ptr(false),
		}},
		Analyzers: []report.AnalyzerStatus{{Name: "dpkg", Stage: report.StageImage, Status: report.StatusPartial, Files: 1,
			Errors: []report.FileError{{Path: "var/lib/dpkg/status", Line: 7, Message: "bad stanza"}},
			Notes:  []report.FileNote{{Path: "go.mod", Message: "gosec full mode: 3 packages loaded"}}}},
		Database: &report.Database{SchemaVersion: 2, UpdatedAt: at, NextUpdate: at.Add(time.Hour), Path: "/cache/db", Stale: true},
		Policies: []report.PolicyResult{{
			Name: "default", Digest: "sha256:ee", Shape: "command", Enforce: "deny",
			Decision:   report.Decision{Deny: []report.Violation{viol}, Warn: []report.Violation{viol}},
			DurationMs: 12, Error: "none", Outcome: "deny",
		}},
		Warnings: []string{"database is stale"},
	}
}

// zeroFields lists the fields of v (recursively) left at their zero value.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		if v.Elem().Kind() != reflect.Struct {
			return nil // a set pointer to a scalar (New: false) is set
		}
		return zeroFields(v.Elem(), path)
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		var out []string
		for i := range v.Len() {
			out = append(out, zeroFields(v.Index(i), path+"[]")...)
		}
		return out
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			if v.Interface().(time.Time).IsZero() {
				return []string{path}
			}
			return nil
		}
		var out []string
		for i := range v.NumField() {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}

func TestSchemaFullReport(t *testing.T) {
	r := fullReport()
	if z := zeroFields(reflect.ValueOf(r), "Report"); len(z) > 0 {
		t.Errorf("fullReport leaves fields unset (set them, so the schema is tested on them): %v", z)
	}
	schematest.ValidateJSON(t, schemaPath, marshal(t, r))
	// The minimal report the pipeline writes for an empty tree.
	schematest.ValidateJSON(t, schemaPath, marshal(t, &report.Report{SchemaVersion: report.SchemaVersion, Target: report.Target{Type: "filesystem"}}))
}

func TestSchemaRejects(t *testing.T) {
	sch, err := schematest.CompileJSON(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"lowercase severity": func(m map[string]any) { vuln(m)["severity"] = "high" },
		"finding severity":   func(m map[string]any) { m["findings"].([]any)[0].(map[string]any)["severity"] = "Severe" },
		"relationship":       func(m map[string]any) { pkg(m)["relationship"] = "indirect" },
		"finding kind":       func(m map[string]any) { m["findings"].([]any)[0].(map[string]any)["kind"] = "lint" },
		"analyzer status":    func(m map[string]any) { m["analyzers"].([]any)[0].(map[string]any)["status"] = "failed" },
		"outcome":            func(m map[string]any) { m["policies"].([]any)[0].(map[string]any)["outcome"] = "allow" },
		"missing bomRef":     func(m map[string]any) { delete(pkg(m), "bomRef") },
		"missing dev":        func(m map[string]any) { delete(vuln(m), "dev") },
		"unknown field":      func(m map[string]any) { pkg(m)["nmae"] = "typo" },
		"bad createdAt":      func(m map[string]any) { m["createdAt"] = "yesterday" },
		"schemaVersion":      func(m map[string]any) { m["schemaVersion"] = "2" },
		"negative line":      func(m map[string]any) { pkg(m)["locations"].([]any)[0].(map[string]any)["line"] = -1 },
		"target type":        func(m map[string]any) { m["target"].(map[string]any)["type"] = "repo" },
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(marshal(t, fullReport()), &m); err != nil {
				t.Fatal(err)
			}
			mutate(m)
			doc, _ := json.Marshal(m)
			if err := schematest.CheckJSON(sch, doc); err == nil {
				t.Error("schema accepted an invalid report")
			}
		})
	}
}

func pkg(m map[string]any) map[string]any  { return m["packages"].([]any)[0].(map[string]any) }
func vuln(m map[string]any) map[string]any { return m["vulnerabilities"].([]any)[0].(map[string]any) }

// TestSchemaCoversModel walks the Go types and the schema together: every
// struct's json names must be exactly its schema object's properties, and
// its non-omitempty fields exactly the required ones. Adding a field to
// report.go without describing it fails here.
func TestSchemaCoversModel(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	if root["$id"] != "https://shipgate.dev/schemas/report/v1.json" || root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$id %v, $schema %v", root["$id"], root["$schema"])
	}
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, s map[string]any, where string)
	walk = func(typ reflect.Type, s map[string]any, where string) {
		s = resolve(t, root, s)
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if typ.Kind() == reflect.Slice {
				items, ok := s["items"].(map[string]any)
				if !ok {
					t.Errorf("%s: schema has no items for %s", where, typ)
					return
				}
				s = resolve(t, root, items)
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(time.Time{}) {
			return
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		props, _ := s["properties"].(map[string]any)
		if props == nil {
			t.Errorf("%s (%s): schema is not an object with properties", where, typ.Name())
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s (%s): schema allows additional properties", where, typ.Name())
		}
		var names, required []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" || name == "-" {
				t.Errorf("%s.%s has no json name", typ.Name(), f.Name)
				continue
			}
			names = append(names, name)
			if !slices.Contains(strings.Split(opts, ","), "omitempty") {
				required = append(required, name)
			}
			ps, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: json %q is not in the schema", typ.Name(), f.Name, name)
				continue
			}
			walk(f.Type, ps, where+"."+name)
		}
		var schemaNames []string
		for k := range props {
			schemaNames = append(schemaNames, k)
		}
		var schemaRequired []string
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				schemaRequired = append(schemaRequired, r.(string))
			}
		}
		sort.Strings(names)
		sort.Strings(schemaNames)
		sort.Strings(required)
		sort.Strings(schemaRequired)
		if !slices.Equal(names, schemaNames) {
			t.Errorf("%s (%s): fields %v, schema properties %v", where, typ.Name(), names, schemaNames)
		}
		if !slices.Equal(required, schemaRequired) {
			t.Errorf("%s (%s): non-omitempty fields %v, schema required %v", where, typ.Name(), required, schemaRequired)
		}
	}
	walk(reflect.TypeOf(report.Report{}), root, "report")
	if len(seen) < 20 {
		t.Errorf("walked only %d struct types", len(seen))
	}
}

// resolve follows local $refs.
func resolve(t *testing.T, root, s map[string]any) map[string]any {
	for range 10 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		if !ok {
			t.Fatalf("unsupported $ref %q", ref)
		}
		def, ok := root["$defs"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Fatalf("$ref %q does not resolve", ref)
		}
		s = def
	}
	return s
}
