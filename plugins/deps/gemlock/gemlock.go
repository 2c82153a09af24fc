// Package gemlock extracts Ruby gems from Bundler's Gemfile.lock, with the
// dependency graph it records.
//
// Format: Gemfile.lock as written by Bundler 1.x to 2.6
// (https://bundler.io/guides/gemfile_lock.html... and Bundler's
// LockfileParser): source sections GEM, GIT, PATH and PLUGIN SOURCE list,
// under "  specs:", each locked gem as a 4-space indented "name (version)"
// line followed by its dependencies as 6-space indented "name (constraint)"
// lines; PLATFORMS, DEPENDENCIES (the Gemfile's own gems: direct, "!" marks
// a non-rubygems source), CHECKSUMS (Bundler 2.5+, "name (version)
// sha256=hex"), RUBY VERSION and BUNDLED WITH follow. A version may carry a
// platform suffix ("1.16.0-x86_64-linux"): gem versions never contain "-",
// so the part after the first "-" is the platform, kept as the purl's
// platform qualifier.
//
// Groups come from the sibling Gemfile, read line by line: gems declared
// only inside "group :development", "group :test" (or both) blocks, or with
// a "group:"/"groups:" option naming only those groups, are dev, as are the
// gems reachable only from them. The reader does not evaluate Ruby: gems
// declared through variables, loops, eval_gemfile or conditionals on other
// lines are seen as declared where they appear, and "do"/"end" are matched
// per line (a block opened by "do" or by a line starting with if, unless,
// case, while, until or begin closes at a line that is "end").
//
// The file is read line by line.
package gemlock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
)

// Name is the analyzer's id.
const Name = "gemfile-lock"

const (
	// maxLine is the longest line read, in bytes.
	maxLine = 64 << 10
	// maxGemfile is the largest Gemfile read, in bytes.
	maxGemfile = 4 << 20
	// maxErrors bounds Result.Errors.
	maxErrors = 200
)

// Analyzer reads Gemfile.lock files.
type Analyzer struct{}

// New returns the Gemfile.lock analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims Gemfile.lock and gems.locked files.
func (*Analyzer) FileRequired(path string, _ fs.FileInfo) bool {
	return plugins.HasBase(path, "Gemfile.lock", "gems.locked")
}

var (
	// specRe matches "name (version)" or "name" with an optional "!".
	specRe = regexp.MustCompile(`^([^\s()!]+)(?: \(([^)]*)\))?(!)?$`)
	// versionRe matches a gem version.
	versionRe = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.]*$`)
	// checksumRe matches a CHECKSUMS entry.
	checksumRe = regexp.MustCompile(`^([^\s()]+) \(([^)]*)\)(?: (.*))?$`)
	// knownSections are the top-level sections of a Gemfile.lock.
	knownSections = map[string]bool{"GEM": true, "GIT": true, "PATH": true, "PLUGIN SOURCE": true, "PLATFORMS": true, "DEPENDENCIES": true, "CHECKSUMS": true, "RUBY VERSION": true, "BUNDLED WITH": true}
)

type gem struct {
	name, version, platform string
	line                    int
	deps                    []string
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	res := &plugins.Result{}
	nErr := 0
	softErr := func(line int, format string, args ...any) {
		nErr++
		if nErr <= maxErrors {
			res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: line, Message: strings.ToValidUTF8(fmt.Sprintf(format, args...), "\uFFFD")})
		}
	}
	var (
		gems     []*gem
		direct   = map[string]bool{}
		sums     = map[string]string{} // "name (version)" -> sha256
		section  string
		inSpecs  bool
		sections int
	)
	br := bufio.NewReaderSize(in.Reader, 64<<10)
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, long, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", in.Path, err)
		}
		if line == "" && errors.Is(err, io.EOF) {
			break
		}
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case long:
			softErr(n, "line longer than %d bytes skipped", maxLine)
		case strings.TrimSpace(line) == "":
		case line[0] != ' ':
			section, inSpecs = strings.TrimSpace(line), false
			if !knownSections[section] {
				softErr(n, "unknown section %q", clip(section))
			} else {
				sections++
			}
		case section == "GEM" || section == "GIT" || section == "PATH" || section == "PLUGIN SOURCE":
			indent := len(line) - len(strings.TrimLeft(line, " "))
			text := strings.TrimSpace(line)
			switch {
			case indent == 2:
				inSpecs = text == "specs:"
			case !inSpecs:
				softErr(n, "unexpected line in %s section", section)
			case indent == 4:
				m := specRe.FindStringSubmatch(text)
				if m == nil || m[2] == "" {
					softErr(n, "malformed spec line %q", clip(text))
					gems = append(gems, nil) // its dependency lines are skipped
					continue
				}
				version, platform, _ := strings.Cut(m[2], "-")
				if !versionRe.MatchString(version) {
					softErr(n, "%s: invalid version %q", m[1], clip(m[2]))
					gems = append(gems, nil)
					continue
				}
				gems = append(gems, &gem{name: m[1], version: version, platform: platform, line: n})
			case indent == 6:
				m := specRe.FindStringSubmatch(text)
				switch {
				case len(gems) == 0:
					softErr(n, "dependency line before any spec")
				case gems[len(gems)-1] == nil:
				case m == nil:
					softErr(n, "malformed dependency line %q", clip(text))
				default:
					g := gems[len(gems)-1]
					g.deps = append(g.deps, m[1])
				}
			default:
				softErr(n, "unexpected indentation in %s section", section)
			}
		case section == "DEPENDENCIES":
			if m := specRe.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				direct[m[1]] = true
			} else {
				softErr(n, "malformed dependency %q", clip(strings.TrimSpace(line)))
			}
		case section == "CHECKSUMS":
			m := checksumRe.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil {
				softErr(n, "malformed checksum line %q", clip(strings.TrimSpace(line)))
				break
			}
			for _, c := range strings.Split(m[3], ",") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(c), "sha256="); ok && len(v) == 64 {
					sums[m[1]+" ("+m[2]+")"] = strings.ToLower(v)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if sections == 0 {
		return nil, plugins.Errorf(in.Path, 0, "not a Gemfile.lock: no known section")
	}

	// Index the gems by name; platform variants share a name.
	byName := map[string][]int{}
	var list []*gem
	for _, g := range gems {
		if g != nil {
			byName[g.name] = append(byName[g.name], len(list))
			list = append(list, g)
		}
	}
	refs := make([]string, len(list))
	for i, g := range list {
		refs[i] = plugins.Ref(in.Path, purlOf(g))
	}

	manifest := plugins.Join(plugins.Dir(in.Path), gemfileName(in.Path))
	groups, gerr := readGemfile(in.FS, manifest)
	if gerr != nil {
		res.Errors = append(res.Errors, report.FileError{Path: manifest, Message: fmt.Sprintf("groups unknown: %v", gerr)})
	}
	// Dev: reachable only from direct gems that are dev in the Gemfile.
	prod, dev := map[int]bool{}, map[int]bool{}
	walk := func(start []int, seen map[int]bool) {
		stack := append([]int(nil), start...)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[i] {
				continue
			}
			seen[i] = true
			for _, d := range list[i].deps {
				stack = append(stack, byName[d]...)
			}
		}
	}
	if groups != nil {
		var prodRoots, devRoots []int
		for name := range direct {
			if isDev, declared := groups[name]; declared && isDev {
				devRoots = append(devRoots, byName[name]...)
			} else {
				prodRoots = append(prodRoots, byName[name]...)
			}
		}
		walk(prodRoots, prod)
		walk(devRoots, dev)
	}

	seen := map[string]bool{}
	for i, g := range list {
		if seen[refs[i]] {
			softErr(g.line, "%s %s is locked twice", g.name, g.version)
			continue
		}
		seen[refs[i]] = true
		purl := purlOf(g)
		pkg := report.Package{
			BOMRef:       refs[i],
			Name:         g.name,
			Version:      g.version,
			Purl:         purl,
			Ecosystem:    report.EcosystemGem,
			Type:         report.TypeLibrary,
			Locations:    []report.Location{{Path: in.Path, Line: g.line}},
			Relationship: report.RelationshipTransitive,
			Dev:          dev[i] && !prod[i],
		}
		if direct[g.name] {
			pkg.Relationship = report.RelationshipDirect
		}
		v := g.version
		if g.platform != "" {
			v += "-" + g.platform
		}
		if s, ok := sums[g.name+" ("+v+")"]; ok {
			pkg.Hashes = []report.Hash{{Algorithm: "SHA-256", Value: s}}
		}
		for _, d := range g.deps {
			js, ok := byName[d]
			if !ok {
				// Bundler omits gems of other platforms and "bundler" itself.
				if d != "bundler" {
					softErr(g.line, "%s %s: dependency %q is not in the lockfile", g.name, g.version, d)
				}
				continue
			}
			for _, j := range js {
				pkg.DependsOn = append(pkg.DependsOn, refs[j])
			}
		}
		res.Packages = append(res.Packages, pkg)
	}
	if nErr > maxErrors {
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Message: fmt.Sprintf("%d more errors not shown", nErr-maxErrors)})
	}
	return res, nil
}

// purlOf returns the purl of a gem, with its platform qualifier.
func purlOf(g *gem) string {
	if g.platform != "" {
		return purls.Build(report.EcosystemGem, g.name, g.version, purls.Qualifier{Key: "platform", Value: g.platform})
	}
	return purls.Build(report.EcosystemGem, g.name, g.version)
}

// gemfileName is the manifest beside a lockfile: gems.rb for gems.locked.
func gemfileName(lock string) string {
	if plugins.HasBase(lock, "gems.locked") {
		return "gems.rb"
	}
	return "Gemfile"
}

// readLine returns the next line (with its newline); a line longer than
// maxLine is discarded and reported with long set.
func readLine(br *bufio.Reader) (line string, long bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(buf)+len(chunk) > maxLine {
				long, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if long {
			return " ", true, err
		}
		return string(buf), false, err
	}
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
