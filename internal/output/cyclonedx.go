package output

import (
	"io"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/sbom"
)

// cyclonedxWriter renders the report as a CycloneDX SBOM (spec 1.6 unless
// Options.SpecVersion says 1.5), vulnerabilities included.
func cyclonedxWriter(f sbom.Format) Writer {
	return func(w io.Writer, r *report.Report, opts Options) error {
		return sbom.Encode(w, r, f, sbom.Options{SpecVersion: opts.SpecVersion})
	}
}
