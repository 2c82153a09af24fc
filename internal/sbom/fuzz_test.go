package sbom_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/sbom"
)

// FuzzEncode feeds arbitrary package and vulnerability fields (they come
// from untrusted lockfiles and databases) through Encode: the JSON must
// stay valid CycloneDX 1.6 and the XML well-formed.
func FuzzEncode(f *testing.F) {
	f.Add("@scope/name", "1.0.0", "MIT OR Apache-2.0", "SHA-512", strings.Repeat("ab", 64), "CWE-79", "3.1", "CVSS:3.1/AV:N", "vulnerable_code_not_present", "https://example.com/a")
	f.Add("group:artifact", "", "mit", "sha256", "not hex", "NVD-CWE-Other", "2.0", "AV:N/AC:L", "fixed", "not a url")
	f.Add("\xff\x00<&>\"", "\x01", "(GPL-2.0 WITH x", "md5", "", "CWE-99999999999999999999", "", "", "", "javascript:alert(1)")
	f.Add("", "", "", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, name, version, license, alg, hash, cwe, cvssVersion, vector, reason, ref string) {
		r := imageReport()
		p := &r.Packages[2]
		p.Name, p.Version, p.Licenses = name, version, []string{license}
		p.Hashes = []report.Hash{{Algorithm: alg, Value: hash}}
		p.Locations = []report.Location{{Path: name, Line: len(version)}}
		r.Packages = append(r.Packages, report.Package{BOMRef: name, Name: name, Version: version, Ecosystem: version, Licenses: []string{license, name}, DependsOn: []string{name, p.BOMRef}})
		v := &r.Vulnerabilities[0]
		v.ID, v.PackageRef, v.PackageName, v.InstalledVersion, v.FixedVersion = name, name, name, version, version
		v.CWEs = []string{cwe}
		v.CVSS = append(v.CVSS, report.CVSS{Source: name, Version: cvssVersion, Vector: vector, Score: float64(len(vector) % 11)})
		v.References = []string{ref}
		v.Aliases = []string{name, ref}
		v.DataSource = &report.DataSource{ID: name, URL: ref}
		v.Suppressed = &report.Suppression{Kind: "vex", Source: name, Reason: reason}
		v.Title, v.Description, v.Severity = name, reason, vector

		var js, xm bytes.Buffer
		if err := sbom.Encode(&js, r, sbom.JSON, sbom.Options{}); err != nil {
			t.Fatalf("json: %v", err)
		}
		validateJSON(t, "1.6", js.Bytes())
		if err := sbom.Encode(&xm, r, sbom.XML, sbom.Options{}); err != nil {
			t.Fatalf("xml: %v", err)
		}
		d := xml.NewDecoder(&xm)
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("xml not well-formed: %v", err)
			}
		}
	})
}
