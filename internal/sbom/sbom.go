// Package sbom renders a Shipgate report as a CycloneDX bill of materials
// (JSON or XML, spec 1.6 by default or 1.5) through
// github.com/CycloneDX/cyclonedx-go.
//
// The BOM carries one component per report package (bom-ref = the package's
// BOMRef), the scanned target as the metadata component, the operating
// system of an image as an operating-system component, a dependency graph
// that is connected from the metadata component, and the matched
// vulnerabilities with ratings, CWEs, advisories, affected packages and, for
// VEX-suppressed ones, an analysis. Shipgate-specific facts that CycloneDX
// has no field for (locations, dev flag, relationship, image layer, analyzer)
// are properties in the "shipgate:" taxonomy.
//
// Output is deterministic: the same report gives the same bytes, including
// the serial number, which is derived from the report's content.
package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/shipgate/shipgate/internal/report"
)

// Format is a CycloneDX serialisation.
type Format int

// Formats.
const (
	// JSON is CycloneDX JSON.
	JSON Format = iota
	// XML is CycloneDX XML.
	XML
)

// String returns the format's name.
func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case XML:
		return "xml"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Spec versions accepted by Options.SpecVersion.
const (
	SpecVersion16 = "1.6"
	SpecVersion15 = "1.5"
)

// Options tunes the BOM. The zero value writes CycloneDX 1.6.
type Options struct {
	// SpecVersion is "1.6" (default, also for "") or "1.5".
	SpecVersion string
	// SerialNumber overrides the serial number ("urn:uuid:..."). By
	// default it is a name-based (version 5) UUID derived from the report,
	// so the same report always gives the same serial number.
	SerialNumber string
	// Compact writes JSON without indentation.
	Compact bool
}

// ParseSpecVersion maps "1.6" (or "") and "1.5" to cyclonedx-go's values.
func ParseSpecVersion(s string) (cdx.SpecVersion, error) {
	switch s {
	case "", SpecVersion16:
		return cdx.SpecVersion1_6, nil
	case SpecVersion15:
		return cdx.SpecVersion1_5, nil
	}
	return 0, fmt.Errorf("unsupported CycloneDX spec version %q (want %s or %s)", s, SpecVersion16, SpecVersion15)
}

// Encode writes r as a CycloneDX BOM in format f to w.
func Encode(w io.Writer, r *report.Report, f Format, opts Options) error {
	sv, err := ParseSpecVersion(opts.SpecVersion)
	if err != nil {
		return err
	}
	var cf cdx.BOMFileFormat
	switch f {
	case JSON:
		cf = cdx.BOMFileFormatJSON
	case XML:
		cf = cdx.BOMFileFormatXML
	default:
		return fmt.Errorf("cyclonedx: unknown format %v", f)
	}
	bom, err := Convert(r, opts)
	if err != nil {
		return err
	}
	enc := cdx.NewBOMEncoder(w, cf)
	enc.SetPretty(f == XML || !opts.Compact)
	enc.SetEscapeHTML(false)
	// EncodeVersion converts a copy to sv: cyclonedx-go would otherwise
	// write its newest spec version.
	if err := enc.EncodeVersion(bom, sv); err != nil {
		return fmt.Errorf("encode cyclonedx %s %s: %w", f, sv, err)
	}
	if f == XML {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return fmt.Errorf("encode cyclonedx xml: %w", err)
		}
	}
	return nil
}

// Convert builds the CycloneDX BOM of r, stamped with the chosen spec
// version (Encode still converts it to that version on the way out).
func Convert(r *report.Report, opts Options) (*cdx.BOM, error) {
	if r == nil {
		return nil, fmt.Errorf("cyclonedx: nil report")
	}
	sv, err := ParseSpecVersion(opts.SpecVersion)
	if err != nil {
		return nil, err
	}
	serial := opts.SerialNumber
	if serial == "" {
		if serial, err = serialNumber(r); err != nil {
			return nil, err
		}
	}
	b := newBuilder(r)
	bom := cdx.NewBOM()
	bom.SpecVersion = sv
	bom.SerialNumber = serial
	bom.Version = 1
	bom.Metadata = b.metadata()
	comps := b.components()
	if len(comps) > 0 {
		bom.Components = &comps
	}
	deps := b.dependencies()
	bom.Dependencies = &deps
	if vulns := b.vulnerabilities(); len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	return bom, nil
}

// serialNumberNamespace is the namespace of Shipgate's name-based serial
// numbers (itself the version 5 UUID of "https://shipgate.dev/sbom" in the
// URL namespace).
var serialNumberNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://shipgate.dev/sbom"))

// serialNumber derives a version 5 UUID from the report's JSON encoding:
// reproducible for the same report (same createdAt included), different
// for any other.
func serialNumber(r *report.Report) (string, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		return "", fmt.Errorf("cyclonedx serial number: %w", err)
	}
	return "urn:uuid:" + uuid.NewSHA1(serialNumberNamespace, buf.Bytes()).String(), nil
}
