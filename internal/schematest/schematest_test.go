package schematest_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/schematest"
)

const cdxDir = "../../../shared/schemas/cyclonedx"

func TestCheckJSON(t *testing.T) {
	sch, err := schematest.CompileJSON(filepath.Join(cdxDir, "bom-1.6.schema.json"),
		filepath.Join(cdxDir, "spdx.schema.json"), filepath.Join(cdxDir, "jsf-0.82.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"minimal", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}`, true},
		{"spdx id", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"x","licenses":[{"license":{"id":"MIT"}}]}]}`, true},
		// Needs spdx.schema.json: an unknown id must be rejected.
		{"bad spdx id", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"x","licenses":[{"license":{"id":"Not-A-License"}}]}]}`, false},
		{"bad timestamp", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"timestamp":"yesterday"}}`, false},
		{"not json", `{`, false},
	} {
		err := schematest.CheckJSON(sch, []byte(tc.doc))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	if _, err := schematest.CompileJSON(filepath.Join(cdxDir, "bom-1.6.schema.json")); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("missing referenced schema: %v", err)
	}
}

func TestCheckXML(t *testing.T) {
	lint := schematest.XMLLint(t)
	xsd := filepath.Join(cdxDir, "bom-1.6.xsd")
	good := `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="library"><name>x</name><licenses><license><id>MIT</id></license></licenses></component></components></bom>`
	if err := schematest.CheckXML(lint, t.TempDir(), xsd, []byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"bad spdx id": strings.Replace(good, "MIT", "Not-A-License", 1),
		"bad type":    strings.Replace(good, `type="library"`, `type="thing"`, 1),
		"not xml":     "<bom",
	} {
		if err := schematest.CheckXML(lint, t.TempDir(), xsd, []byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	schematest.ValidateXML(t, xsd, []byte(good))
}
