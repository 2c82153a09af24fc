// Package pom extracts the declared dependencies of Maven projects from
// pom.xml files.
//
// Format: the Maven POM reference, model version 4.0.0
// (https://maven.apache.org/pom.html, schema
// https://maven.apache.org/xsd/maven-4.0.0.xsd). Packages are the project
// itself (type application, "groupId:artifactId" with groupId and version
// inherited from <parent> when absent) and each project/dependencies/
// dependency (direct; scope "test" is dev). Nothing is fetched: no remote
// parent, no BOM import, no transitive resolution.
//
// Versions: ${name} is resolved from the file's own <properties>,
// ${project.version}, ${project.groupId}, ${project.artifactId},
// ${project.parent.version} (and the legacy pom./parent./bare forms). A
// dependency without a version takes the one of the same groupId:artifactId
// in this file's <dependencyManagement>; the managed entries are not
// reported as packages themselves (like trivy), since declaring a version
// does not put an artifact on the classpath. A version that stays unresolved
// (a property defined in a remote parent) gives an empty Version, the raw
// text as Constraint and an entry in Result.Errors; a version range
// ("[1.0,2.0)") is a Constraint. A dependency whose version is managed
// elsewhere (a parent) has neither, and no error: that is normal Maven.
package pom

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "maven-pom"

const (
	// maxSize caps the bytes read from a pom.xml.
	maxSize = 64 << 20
	// maxDepth caps element nesting.
	maxDepth = 256
	// maxExpansions caps property substitution rounds.
	maxExpansions = 16
)

var propRe = regexp.MustCompile(`\$\{([^}]*)\}`)

// Analyzer reads pom.xml files.
type Analyzer struct{}

// New returns the pom.xml analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims files named pom.xml.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "pom.xml")
}

type dependency struct {
	fields  map[string]string // groupId, artifactId, version, scope...
	line    int
	managed bool
}

type project struct {
	fields, parent, props map[string]string
	deps                  []*dependency
	line                  int
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	prj, err := parse(ctx, in.Reader)
	if err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			return nil, &plugins.ParseError{Path: in.Path, Line: pe.line, Err: fmt.Errorf("parse pom.xml: %w", pe.err)}
		}
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("parse pom.xml: %w", err)}
	}
	return prj.build(in.Path), nil
}

type posError struct {
	line int
	err  error
}

func (e *posError) Error() string { return e.err.Error() }

// parse streams the XML and collects what the analyzer needs.
func parse(ctx context.Context, r io.Reader) (*project, error) {
	dec := xml.NewDecoder(io.LimitReader(r, maxSize))
	dec.CharsetReader = charsetReader
	prj := &project{fields: map[string]string{}, parent: map[string]string{}, props: map[string]string{}}
	var stack []string
	var text strings.Builder
	var dep *dependency
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 || prj.line == 0 {
				line, _ := dec.InputPos()
				return nil, &posError{line, errors.New("unexpected end of file (no complete <project>)")}
			}
			return prj, nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			return nil, &posError{line, err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if len(stack) > maxDepth {
				line, _ := dec.InputPos()
				return nil, &posError{line, fmt.Errorf("elements nested deeper than %d", maxDepth)}
			}
			text.Reset()
			line, _ := dec.InputPos()
			path := strings.Join(stack, "/")
			switch {
			case len(stack) == 1:
				if t.Name.Local != "project" {
					return nil, &posError{line, fmt.Errorf("root element is <%s>, not <project>", t.Name.Local)}
				}
				prj.line = line
			case path == "project/dependencies/dependency":
				dep = &dependency{fields: map[string]string{}, line: line}
			case path == "project/dependencyManagement/dependencies/dependency":
				dep = &dependency{fields: map[string]string{}, line: line, managed: true}
			}
		case xml.CharData:
			if text.Len() < 1<<16 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			path := strings.Join(stack, "/")
			val := strings.TrimSpace(text.String())
			switch {
			case len(stack) == 2 && stack[0] == "project":
				prj.fields[stack[1]] = val
			case len(stack) == 3 && stack[1] == "parent":
				prj.parent[stack[2]] = val
			case len(stack) == 3 && stack[1] == "properties":
				prj.props[stack[2]] = val
			case dep != nil && (path == "project/dependencies/dependency" || path == "project/dependencyManagement/dependencies/dependency"):
				prj.deps = append(prj.deps, dep)
				dep = nil
			case dep != nil && isDepField(stack):
				dep.fields[stack[len(stack)-1]] = val
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
}

// isDepField reports whether stack is a direct child of a dependency
// element (not of its exclusions).
func isDepField(stack []string) bool {
	return len(stack) == 4 && stack[1] == "dependencies" && stack[2] == "dependency" ||
		len(stack) == 5 && stack[1] == "dependencyManagement" && stack[2] == "dependencies" && stack[3] == "dependency"
}

// build resolves the collected values into packages.
func (prj *project) build(file string) *plugins.Result {
	res := &plugins.Result{}
	vars := map[string]string{}
	for k, v := range prj.props {
		vars[k] = v
	}
	group := firstOf(prj.fields["groupId"], prj.parent["groupId"])
	version := firstOf(prj.fields["version"], prj.parent["version"])
	for _, prefix := range []string{"project.", "pom.", ""} {
		vars[prefix+"groupId"] = group
		vars[prefix+"artifactId"] = prj.fields["artifactId"]
		vars[prefix+"version"] = version
	}
	for _, prefix := range []string{"project.parent.", "parent."} {
		vars[prefix+"groupId"] = prj.parent["groupId"]
		vars[prefix+"artifactId"] = prj.parent["artifactId"]
		vars[prefix+"version"] = prj.parent["version"]
	}
	resolve := func(s string) (string, bool) {
		for range maxExpansions {
			if !strings.Contains(s, "${") {
				return s, true
			}
			ok := true
			next := propRe.ReplaceAllStringFunc(s, func(m string) string {
				v, found := vars[m[2:len(m)-1]]
				if !found || v == "" {
					ok = false
					return m
				}
				return v
			})
			if !ok || next == s {
				return next, false
			}
			s = next
		}
		return s, false
	}

	g, gok := resolve(group)
	a, aok := resolve(prj.fields["artifactId"])
	v, vok := resolve(version)
	var self *report.Package
	if g != "" && a != "" && gok && aok {
		p := report.Package{
			Name:         g + ":" + a,
			Ecosystem:    report.EcosystemMaven,
			Type:         report.TypeApplication,
			Locations:    []report.Location{{Path: file, Line: prj.line}},
			Relationship: report.RelationshipDirect,
			Analyzer:     Name,
		}
		setVersion(&p, v, vok)
		p.Purl = purls.Build(report.EcosystemMaven, p.Name, p.Version)
		p.BOMRef = plugins.Ref(file, p.Purl)
		res.Packages = append(res.Packages, p)
		self = &res.Packages[0]
	} else {
		res.Errors = append(res.Errors, report.FileError{Path: file, Line: prj.line, Message: "project has no resolvable groupId and artifactId"})
	}

	managed := map[string]string{}
	for _, d := range prj.deps {
		if d.managed {
			mg, _ := resolve(d.fields["groupId"])
			ma, _ := resolve(d.fields["artifactId"])
			managed[mg+":"+ma] = d.fields["version"]
		}
	}
	index := map[string]int{}
	var direct []string
	for _, d := range prj.deps {
		if d.managed {
			continue
		}
		dg, gok := resolve(d.fields["groupId"])
		da, aok := resolve(d.fields["artifactId"])
		if dg == "" || da == "" || !gok || !aok {
			res.Errors = append(res.Errors, report.FileError{Path: file, Line: d.line, Message: fmt.Sprintf("dependency %s:%s has no resolvable groupId and artifactId", dg, da)})
			continue
		}
		raw := d.fields["version"]
		if raw == "" {
			raw = managed[dg+":"+da]
		}
		dv, dvok := resolve(raw)
		p := report.Package{
			Name:         dg + ":" + da,
			Ecosystem:    report.EcosystemMaven,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: file, Line: d.line}},
			Relationship: report.RelationshipDirect,
			Dev:          strings.EqualFold(d.fields["scope"], "test"),
			Analyzer:     Name,
		}
		setVersion(&p, dv, dvok)
		if !dvok {
			res.Errors = append(res.Errors, report.FileError{Path: file, Line: d.line, Message: fmt.Sprintf("%s: unresolved version %q (property from a parent or the environment?)", p.Name, dv)})
		}
		p.Purl = purls.Build(report.EcosystemMaven, p.Name, p.Version)
		p.BOMRef = plugins.Ref(file, p.Purl)
		if i, ok := index[p.BOMRef]; ok {
			q := &res.Packages[i]
			q.Locations = append(q.Locations, p.Locations...)
			q.Dev = q.Dev && p.Dev
			continue
		}
		index[p.BOMRef] = len(res.Packages)
		direct = append(direct, p.BOMRef)
		res.Packages = append(res.Packages, p)
	}
	if self != nil {
		res.Packages[0].DependsOn = direct
	}
	return res
}

// setVersion sets a resolved version, or the raw text as a constraint when
// it is unresolved or a range.
func setVersion(p *report.Package, v string, ok bool) {
	switch {
	case !ok:
		p.Constraint = v
	case strings.HasPrefix(v, "[") || strings.HasPrefix(v, "("):
		p.Constraint = v
	default:
		p.Version = v
	}
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// charsetReader decodes the non-UTF-8 encodings found in real POMs
// (ISO-8859-1 and its Windows superset, treated alike, and ASCII).
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		return &latin1Reader{r: in}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// latin1Reader converts ISO-8859-1 bytes to UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(p) < utf8.UTFMax {
		return 0, io.ErrShortBuffer
	}
	if cap(l.buf) < len(p)/2 {
		l.buf = make([]byte, len(p)/2)
	}
	n, err := l.r.Read(l.buf[:len(p)/2])
	out := 0
	for _, b := range l.buf[:n] {
		out += utf8.EncodeRune(p[out:], rune(b))
	}
	return out, err
}
