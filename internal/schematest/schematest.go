// Package schematest validates documents written by Shipgate against the
// official schemas of their formats (CycloneDX, SARIF, GitLab, ...) in tests.
//
// JSON documents are checked with github.com/santhosh-tekuri/jsonschema/v6,
// with format assertions on; XML documents with xmllint against an XSD, with
// the network disabled and remote xs:import locations resolved to sibling
// .xsd files through an XML catalog.
package schematest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ValidateJSON fails t unless doc is valid against the JSON Schema at
// schemaPath. extraSchemas are schemas that schemaPath refers to (for
// CycloneDX: spdx.schema.json and jsf-0.82.schema.json); each is registered
// under its own $id, or its file URL when it has none, so relative $refs
// resolve offline.
func ValidateJSON(t testing.TB, schemaPath string, doc []byte, extraSchemas ...string) {
	t.Helper()
	sch, err := CompileJSON(schemaPath, extraSchemas...)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckJSON(sch, doc); err != nil {
		t.Fatalf("%s: %v", filepath.Base(schemaPath), err)
	}
}

// CompileJSON compiles the JSON Schema at schemaPath together with the
// schemas it refers to, offline.
func CompileJSON(schemaPath string, extraSchemas ...string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(offlineLoader{})
	main := ""
	for i, p := range append([]string{schemaPath}, extraSchemas...) {
		id, err := addSchema(c, p)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			main = id
		}
	}
	sch, err := c.Compile(main)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", schemaPath, err)
	}
	return sch, nil
}

// CheckJSON returns the validation error of doc against sch, or nil.
func CheckJSON(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("schema violation: %w", err)
	}
	return nil
}

func addSchema(c *jsonschema.Compiler, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("open schema: %w", err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return "", fmt.Errorf("parse schema %s: %w", p, err)
	}
	id := ""
	if m, ok := v.(map[string]any); ok {
		id, _ = m["$id"].(string)
	}
	if id == "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("schema %s: %w", p, err)
		}
		id = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	id = strings.TrimSuffix(id, "#")
	if err := c.AddResource(id, v); err != nil {
		return "", fmt.Errorf("add schema %s: %w", p, err)
	}
	return id, nil
}

// offlineLoader refuses every URL that was not added as a resource, so that
// a test never reaches the network.
type offlineLoader struct{}

func (offlineLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("schema %s not loaded (tests are offline; pass it as an extra schema)", u)
}

// XMLLint returns the path of xmllint. When it is missing, the test is
// skipped, unless the CI environment variable is "true": there it fails.
func XMLLint(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is required in CI (apt-get install -y libxml2-utils)")
		}
		t.Skip("xmllint not installed (apt-get install -y libxml2-utils)")
	}
	return p
}

// ValidateXML fails t unless doc is valid against the XSD at xsdPath (see
// CheckXML). Without xmllint the test is skipped, except in CI.
func ValidateXML(t testing.TB, xsdPath string, doc []byte) {
	t.Helper()
	lint := XMLLint(t)
	if err := CheckXML(lint, t.TempDir(), xsdPath, doc); err != nil {
		t.Fatal(err)
	}
}

// CheckXML validates doc against the XSD at xsdPath with the xmllint at
// lint, network off, working in dir. An xs:import whose schemaLocation is
// remote is resolved, through an XML catalog, to the sibling .xsd file
// whose targetNamespace is the imported namespace.
func CheckXML(lint, dir, xsdPath string, doc []byte) error {
	catalog, err := writeCatalog(dir, xsdPath)
	if err != nil {
		return err
	}
	docPath := filepath.Join(dir, "doc.xml")
	if err := os.WriteFile(docPath, doc, 0o600); err != nil {
		return fmt.Errorf("write document: %w", err)
	}
	cmd := exec.Command(lint, "--noout", "--nonet", "--schema", xsdPath, docPath)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+catalog)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xmllint --schema %s: %w\n%s", filepath.Base(xsdPath), err, out)
	}
	return nil
}

// writeCatalog writes an XML catalog mapping the remote schemaLocations of
// the imports of xsdPath to local files, and returns its path.
func writeCatalog(dir, xsdPath string) (string, error) {
	imports, err := xsdImports(xsdPath)
	if err != nil {
		return "", err
	}
	siblings, err := filepath.Glob(filepath.Join(filepath.Dir(xsdPath), "*.xsd"))
	if err != nil {
		return "", fmt.Errorf("list schemas: %w", err)
	}
	byNS := map[string]string{}
	for _, s := range siblings {
		ns, err := targetNamespace(s)
		if err != nil {
			return "", err
		}
		if ns != "" {
			byNS[ns] = s
		}
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n")
	b.WriteString(`<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">` + "\n")
	for _, im := range imports {
		local, ok := byNS[im.Namespace]
		if !ok || !strings.Contains(im.Location, "://") {
			continue
		}
		abs, err := filepath.Abs(local)
		if err != nil {
			return "", fmt.Errorf("schema %s: %w", local, err)
		}
		u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
		fmt.Fprintf(&b, "  <system systemId=%q uri=%q/>\n  <uri name=%q uri=%q/>\n", im.Location, u, im.Location, u)
	}
	b.WriteString("</catalog>\n")
	p := filepath.Join(dir, "catalog.xml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write catalog: %w", err)
	}
	return p, nil
}

type xsdImport struct {
	Namespace string
	Location  string
}

// xsdImports lists the xs:import elements of an XSD.
func xsdImports(p string) ([]xsdImport, error) {
	var out []xsdImport
	err := scanXSD(p, func(se xml.StartElement) bool {
		if se.Name.Local == "import" {
			var im xsdImport
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "namespace":
					im.Namespace = a.Value
				case "schemaLocation":
					im.Location = a.Value
				}
			}
			out = append(out, im)
		}
		return true
	})
	return out, err
}

// targetNamespace returns the targetNamespace of an XSD.
func targetNamespace(p string) (string, error) {
	ns := ""
	err := scanXSD(p, func(se xml.StartElement) bool {
		if se.Name.Local == "schema" {
			for _, a := range se.Attr {
				if a.Name.Local == "targetNamespace" {
					ns = a.Value
				}
			}
			return false
		}
		return true
	})
	return ns, err
}

func scanXSD(p string, fn func(xml.StartElement) bool) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("open schema: %w", err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse schema %s: %w", p, err)
		}
		if se, ok := tok.(xml.StartElement); ok && !fn(se) {
			return nil
		}
	}
}
