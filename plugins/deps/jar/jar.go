// Package jar extracts Maven artifacts from Java archives: .jar, .war, .ear
// and .par files, and the archives nested in them.
//
// Formats: the JAR file specification
// (https://docs.oracle.com/en/java/javase/21/docs/specs/jar/jar.html) for
// META-INF/MANIFEST.MF, and the pom.properties file Maven's archiver writes
// to META-INF/maven/<groupId>/<artifactId>/pom.properties
// (https://maven.apache.org/shared/maven-archiver/, "groupId", "artifactId",
// "version" in Java properties syntax).
//
// Each archive gives one package per pom.properties it contains (a shaded
// or fat jar holds several). An archive without any is identified by its
// manifest: Implementation-Title, Bundle-SymbolicName (its last dot-separated
// part, the rest being the group) or Specification-Title for the artifact
// (titles with spaces are human names and skipped), Implementation-Version, Bundle-Version or
// Specification-Version for the version, Implementation-Vendor-Id or the
// Bundle-SymbolicName prefix for the group; the file name ("name-1.2.3.jar")
// fills in what the manifest lacks. The package standing for the archive
// itself (the only pom.properties, or the one whose artifactId the file name
// starts with, or the manifest one) carries the SHA-1 of the archive file, as
// grype matches it, and depends on the packages of the archives nested in it
// (WEB-INF/lib/*.jar, BOOT-INF/lib/*.jar, lib/*.jar, any nested archive),
// which are read recursively down to maxDepth levels. Their locations are
// "app.war!WEB-INF/lib/x.jar". A top-level .war or .ear is an application.
//
// Zip bombs: at most maxUncompressed bytes are decompressed per top-level
// archive, all nesting levels together; the rest is reported in
// Result.Errors. Relationships are unknown: an archive does not say which of
// its libraries are direct.
package jar

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/binfile"
)

// Name is the analyzer's id.
const Name = "java-archive"

const (
	// maxSize is the largest archive claimed (and copied, when the reader
	// has no random access).
	maxSize = 2 << 30
	// maxDepth is how deep nested archives are opened (the top level is 0).
	maxDepth = 3
	// maxUncompressed caps the bytes decompressed per top-level archive.
	maxUncompressed = 1 << 30
	// maxSmallFile caps the size of pom.properties and MANIFEST.MF read.
	maxSmallFile = 1 << 20
	// inMemory is the largest nested archive kept in memory; larger ones
	// go to a temporary file.
	inMemory = 16 << 20
)

var archiveExts = map[string]bool{".jar": true, ".war": true, ".ear": true, ".par": true}

// fileNameRe splits "name-1.2.3-suffix" into name and version.
var fileNameRe = regexp.MustCompile(`^(.+)-(\d+(?:\.\d+)*(?:[.\-+_][0-9A-Za-z.\-+_]*)?)$`)

// Analyzer reads Java archives.
type Analyzer struct {
	// maxUncompressed overrides the decompression cap (tests).
	maxUncompressed int64
}

// New returns the Java archive analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims .jar, .war, .ear and .par files up to maxSize.
func (*Analyzer) FileRequired(p string, info fs.FileInfo) bool {
	if !archiveExts[strings.ToLower(path.Ext(p))] {
		return false
	}
	return info == nil || info.Size() <= maxSize
}

// Analyze implements plugins.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	budget := int64(maxUncompressed)
	if a.maxUncompressed > 0 {
		budget = a.maxUncompressed
	}
	ra, size, cleanup, err := binfile.ReaderAt(in, maxSize, "jar")
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	defer cleanup()
	h := sha1.New()
	if _, err := io.Copy(h, io.NewSectionReader(ra, 0, size)); err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("read: %w", err)}
	}
	s := &scan{ctx: ctx, file: in.Path, budget: budget, limit0: budget, res: &plugins.Result{}, seen: map[string]int{}}
	if _, err := s.archive(ra, size, in.Path, path.Base(in.Path), 0, hex.EncodeToString(h.Sum(nil))); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return s.res, &plugins.ParseError{Path: in.Path, Err: err}
	}
	return s.res, nil
}

// scan is the state of one top-level archive's analysis.
type scan struct {
	ctx    context.Context
	file   string // the top-level archive's path
	budget int64  // bytes that may still be decompressed
	limit0 int64  // the initial budget
	res    *plugins.Result
	seen   map[string]int // bom-ref -> index in res.Packages
}

type coords struct{ group, artifact, version string }

// archive reads one archive at location loc (base is its file name) and
// returns the bom-ref of the package standing for it ("" if none).
func (s *scan) archive(ra io.ReaderAt, size int64, loc, base string, depth int, sha1hex string) (string, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return "", fmt.Errorf("open zip: %w", err)
	}
	var poms []coords
	var manifest map[string]string
	var nested []*zip.File
	for _, f := range zr.File {
		if err := s.ctx.Err(); err != nil {
			return "", err
		}
		name := f.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			data, err := s.read(f, maxSmallFile)
			if err != nil {
				s.errorf(loc, "%s: %v", name, err)
				continue
			}
			p := properties(data)
			c := coords{p["groupId"], p["artifactId"], p["version"]}
			if c.group == "" || c.artifact == "" {
				s.errorf(loc, "%s: no groupId or artifactId", name)
				continue
			}
			if !slices.Contains(poms, c) {
				poms = append(poms, c)
			}
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			data, err := s.read(f, maxSmallFile)
			if err != nil {
				s.errorf(loc, "%s: %v", name, err)
				continue
			}
			manifest = mainSection(data)
		case archiveExts[strings.ToLower(path.Ext(name))] && !strings.HasSuffix(name, "/"):
			nested = append(nested, f)
		}
	}

	fileArtifact, fileVersion := "", ""
	stem := strings.TrimSuffix(base, path.Ext(base))
	if m := fileNameRe.FindStringSubmatch(stem); m != nil {
		fileArtifact, fileVersion = m[1], m[2]
	}

	typ := report.TypeLibrary
	if depth == 0 && (strings.EqualFold(path.Ext(base), ".war") || strings.EqualFold(path.Ext(base), ".ear")) {
		typ = report.TypeApplication
	}
	self := -1 // index in poms of the archive's own coordinates
	for i, c := range poms {
		if len(poms) == 1 || c.artifact == fileArtifact || c.artifact == stem {
			self = i
			break
		}
	}
	var selfRef string
	for i, c := range poms {
		p := s.add(c, loc, report.TypeLibrary)
		if i == self {
			selfRef = s.res.Packages[p].BOMRef
			s.own(p, typ, sha1hex)
		}
	}
	if len(poms) == 0 {
		c := fromManifest(manifest, fileArtifact, fileVersion, stem)
		p := s.add(c, loc, typ)
		selfRef = s.res.Packages[p].BOMRef
		s.own(p, typ, sha1hex)
	}

	for _, f := range nested {
		if err := s.ctx.Err(); err != nil {
			return selfRef, err
		}
		nloc := loc + "!" + f.Name
		if depth+1 > maxDepth {
			s.errorf(nloc, "nested deeper than %d archives: not read", maxDepth)
			continue
		}
		ref, err := s.nested(f, nloc, depth+1)
		if err != nil {
			s.errorf(nloc, "%v", err)
			continue
		}
		if ref != "" && selfRef != "" && ref != selfRef {
			i := s.seen[selfRef]
			s.res.Packages[i].DependsOn = appendUnique(s.res.Packages[i].DependsOn, ref)
		}
	}
	return selfRef, nil
}

// nested decompresses a nested archive (in memory, or in a temporary file
// when large) and reads it.
func (s *scan) nested(f *zip.File, loc string, depth int) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	h := sha1.New()
	r := io.TeeReader(s.limit(rc), h)
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, inMemory+1))
	if err != nil {
		return "", s.readErr(err)
	}
	var ra io.ReaderAt = bytes.NewReader(buf.Bytes())
	size := n
	if n > inMemory {
		tmp, err := os.CreateTemp("", "shipgate-jar-*")
		if err != nil {
			return "", fmt.Errorf("temporary file: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := tmp.Write(buf.Bytes()); err != nil {
			return "", fmt.Errorf("temporary file: %w", err)
		}
		buf = bytes.Buffer{}
		m, err := io.Copy(tmp, r)
		if err != nil {
			return "", s.readErr(err)
		}
		ra, size = tmp, n+m
	}
	return s.archive(ra, size, loc, path.Base(f.Name), depth, hex.EncodeToString(h.Sum(nil)))
}

// read decompresses a small entry.
func (s *scan) read(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(s.limit(rc), limit+1))
	if err != nil {
		return nil, s.readErr(err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

var errBudget = errors.New("uncompressed size cap reached")

func (s *scan) readErr(err error) error {
	if errors.Is(err, errBudget) {
		return fmt.Errorf("not read: more than %d bytes decompressed from %s (zip bomb?)", s.limit0, s.file)
	}
	return fmt.Errorf("decompress: %w", err)
}

// limit wraps r so that reads draw from the scan's decompression budget.
func (s *scan) limit(r io.Reader) io.Reader { return &budgetReader{r: r, s: s} }

type budgetReader struct {
	r io.Reader
	s *scan
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.s.budget <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.s.budget {
		p = p[:b.s.budget]
	}
	n, err := b.r.Read(p)
	b.s.budget -= int64(n)
	return n, err
}

// add records a package found at loc and returns its index.
func (s *scan) add(c coords, loc, typ string) int {
	name := c.artifact
	if c.group != "" {
		name = c.group + ":" + c.artifact
	}
	purl := purls.Build(report.EcosystemMaven, name, c.version)
	ref := plugins.Ref(s.file, purl)
	if i, ok := s.seen[ref]; ok {
		p := &s.res.Packages[i]
		if !hasLocation(p.Locations, loc) {
			p.Locations = append(p.Locations, report.Location{Path: loc})
		}
		return i
	}
	s.seen[ref] = len(s.res.Packages)
	s.res.Packages = append(s.res.Packages, report.Package{
		BOMRef:       ref,
		Name:         name,
		Version:      c.version,
		Purl:         purl,
		Ecosystem:    report.EcosystemMaven,
		Type:         typ,
		Locations:    []report.Location{{Path: loc}},
		Relationship: report.RelationshipUnknown,
		Analyzer:     Name,
	})
	return len(s.res.Packages) - 1
}

// own marks package i as the one standing for an archive with SHA-1 sum.
func (s *scan) own(i int, typ, sum string) {
	p := &s.res.Packages[i]
	if typ == report.TypeApplication {
		p.Type = typ
	}
	if len(p.Hashes) == 0 && sum != "" {
		p.Hashes = []report.Hash{{Algorithm: "SHA-1", Value: sum}}
	}
}

func (s *scan) errorf(loc, format string, args ...any) {
	s.res.Errors = append(s.res.Errors, report.FileError{Path: s.file, Message: loc + ": " + fmt.Sprintf(format, args...)})
}

// fromManifest identifies an archive from its manifest's main section,
// completed by its file name.
func fromManifest(m map[string]string, fileArtifact, fileVersion, stem string) coords {
	var c coords
	bsn, _, _ := strings.Cut(m["Bundle-SymbolicName"], ";")
	bsn = strings.TrimSpace(bsn)
	// A title with spaces is a human name, not an id.
	title := func(v string) string {
		if strings.ContainsAny(strings.TrimSpace(v), " \t") {
			return ""
		}
		return v
	}
	c.group = m["Implementation-Vendor-Id"]
	bsnArtifact := bsn
	if i := strings.LastIndexByte(bsn, '.'); i > 0 && i < len(bsn)-1 {
		if c.group == "" {
			c.group = bsn[:i]
		}
		if c.group == bsn[:i] {
			bsnArtifact = bsn[i+1:]
		}
	}
	c.artifact = firstOf(title(m["Implementation-Title"]), bsnArtifact, title(m["Specification-Title"]), fileArtifact, stem)
	c.version = firstOf(m["Implementation-Version"], m["Bundle-Version"], m["Specification-Version"], fileVersion)
	return c
}

// properties parses Java properties (key=value, key: value, # comments,
// backslash continuations).
func properties(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	sc.Buffer(make([]byte, 0, 4096), maxSmallFile+1)
	var cont string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cont != "" {
			line = cont + line
			cont = ""
		}
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`)
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		out[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return out
}

// mainSection parses the main section of a manifest (RFC 822-like headers;
// a line starting with a space continues the previous one).
func mainSection(data []byte) map[string]string {
	out := map[string]string{}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var key string
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break // end of the main section
		}
		if line[0] == ' ' {
			if key != "" {
				out[key] += line[1:]
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			key = ""
			continue
		}
		key = strings.TrimSpace(k)
		out[key] = strings.TrimSpace(v)
	}
	return out
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func hasLocation(locs []report.Location, p string) bool {
	for _, l := range locs {
		if l.Path == p {
			return true
		}
	}
	return false
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
