package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/shipgate/shipgate/internal/baseline"
	"github.com/shipgate/shipgate/internal/config"
	"github.com/shipgate/shipgate/internal/gate"
	"github.com/shipgate/shipgate/internal/output"
	"github.com/shipgate/shipgate/internal/pipeline"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/internal/suppress"
	"github.com/shipgate/shipgate/plugins/code"
	"github.com/shipgate/shipgate/plugins/code/gosec"
	"github.com/shipgate/shipgate/plugins/code/sast"
	"github.com/shipgate/shipgate/plugins/image"
)

// scanFlags are the flags shared by scan and sbom.
type scanFlags struct {
	outputs     []string
	stages      string
	skip        []string
	strict      bool
	configFile  string
	severity    []string
	specVersion string
	gitlabVer   string
	baseline    string
	image       string
	platform    string
	insecure    []string
	cacheDir    string
	verifyKey   string
	vex         []string
	rules       []string
	gosecMode   string
	gitHistory  int
	noCache     bool
}

func (f *scanFlags) register(cmd *cobra.Command, defaultStages string) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.outputs, "output", "o", nil, "output `FORMAT[=FILE]`, repeatable; no =FILE means stdout")
	fl.StringVar(&f.stages, "stages", defaultStages, "comma-separated `STAGES` to run: code, deps, image")
	fl.StringArrayVar(&f.skip, "skip", nil, "leave out paths matching `GLOB` (doublestar, e.g. 'vendor/**'), repeatable")
	fl.BoolVar(&f.strict, "strict", false, "exit 2 when any file could not be analysed")
	fl.StringVar(&f.configFile, "config", "", "read configuration from `FILE` instead of ROOT/shipgate.yaml")
	fl.StringSliceVar(&f.severity, "severity", nil, "show only these `SEVERITIES` in the table (every other output keeps everything)")
	fl.StringVar(&f.specVersion, "spec-version", "1.6", "CycloneDX spec `VERSION` for cyclonedx-* outputs: 1.6 or 1.5")
	fl.StringVar(&f.image, "image", "", "scan the image `REF`: a registry reference, docker-archive tar(.gz), OCI layout (dir or tar) or docker:NAME from the local daemon; alone, it means --stages image")
	fl.StringVar(&f.platform, "platform", "", "`OS/ARCH[/VARIANT]` to pick from a multi-platform image (default linux/amd64)")
	fl.StringArrayVar(&f.insecure, "insecure-registry", nil, "reach `HOST[:PORT]` over plain HTTP (loopback test registries), repeatable")
	fl.IntVar(&f.gitHistory, "git-history", 0, "also scan the lines added by the last `N` commits for secrets")
	fl.StringVar(&f.gosecMode, "gosec-mode", "", "how Go code is analysed: `MODE` auto (full where a go.mod and the go command are there), full (gosec with types and SSA, through the go command, offline) or syntax (no go command)")
	fl.StringArrayVar(&f.rules, "rules", nil, "add custom SAST rules from a YAML `FILE` (format: plugins/code/sast/docs/rules.md), repeatable")
	fl.StringVar(&f.verifyKey, "verify-key", "", "check the image's cosign signature with the public `KEY` (PEM, ECDSA P-256); the result is image.signature in the report")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "cache `DIR` for scan results, layer results and the vulnerability DB (default $SHIPGATE_CACHE_DIR, else $XDG_CACHE_HOME/shipgate)")
	fl.BoolVar(&f.noCache, "no-cache", false, "analyse every file and layer afresh: neither read nor write cached results (the vulnerability DB and policies are still cached)")
	fl.StringVar(&f.gitlabVer, "gitlab-schema-version", output.DefaultGitLabSchemaVersion, "security-report schema `VERSION` for gitlab-* outputs (15.x.y)")
}

// resolved is the effective configuration: flags over shipgate.yaml over
// defaults.
type resolved struct {
	root       string
	stages     []string
	skip       []string
	outputs    []output.Spec
	strict     bool
	quiet      bool
	severity   []string
	spec       string
	gitlab     string
	image      string
	platform   *v1.Platform
	insecure   []string
	cacheDir   string
	noCache    bool
	code       code.Options
	gitHistory int
	key        *ecdsa.PublicKey
	cfg        *config.Config
}

func (a *app) resolve(cmd *cobra.Command, f *scanFlags, args []string, defaultOutput string) (*resolved, error) {
	root := "."
	if len(args) > 0 {
		root = args[0]
	}
	var cfg *config.Config
	var err error
	if f.configFile != "" {
		cfg, err = config.Load(f.configFile, false)
	} else {
		cfg, _, err = config.Find(root)
	}
	if err != nil {
		return nil, usageError("%v", err)
	}
	changed := cmd.Flags().Changed
	r := &resolved{root: root, cfg: cfg, strict: f.strict || cfg.Strict, quiet: a.quiet || cfg.Quiet, spec: f.specVersion}
	if cfg.Debug && !a.debug {
		a.debug = true
	}

	r.image = f.image
	if r.image == "" {
		r.image = cfg.Image
	}
	stages := f.stages
	switch {
	case changed("stages"):
	case len(cfg.Stages) > 0:
		stages = strings.Join(cfg.Stages, ",")
	case r.image != "":
		stages = report.StageImage
	}
	if r.stages, err = pipeline.ParseStages(stages); err != nil {
		return nil, usageError("--stages: %v", err)
	}
	r.skip = append(slices.Clone(cfg.Skip), f.skip...)
	if slices.Contains(r.stages, report.StageImage) && r.image == "" {
		return nil, usageError("--stages image needs an image: --image REF")
	}
	if f.platform != "" {
		p, err := v1.ParsePlatform(f.platform)
		if err != nil {
			return nil, usageError("--platform: %v", err)
		}
		r.platform = p
	}
	r.insecure = f.insecure
	r.gitHistory = f.gitHistory
	mode := f.gosecMode
	if mode == "" {
		mode = cfg.GosecMode
	}
	if r.code.GosecMode, err = gosec.ParseMode(mode); err != nil {
		return nil, usageError("--gosec-mode: %v", err)
	}
	for _, p := range f.rules {
		rs, err := sast.LoadRules(p)
		if err != nil {
			return nil, usageError("--rules: %v", err)
		}
		r.code.SASTRules = append(r.code.SASTRules, rs...)
	}
	if f.verifyKey != "" {
		if r.key, err = image.LoadPublicKey(f.verifyKey); err != nil {
			return nil, usageError("--verify-key: %v", err)
		}
	}
	r.cacheDir = f.cacheDir
	if r.cacheDir == "" {
		r.cacheDir = os.Getenv("SHIPGATE_CACHE_DIR")
	}
	if r.cacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			r.cacheDir = filepath.Join(d, "shipgate")
		}
	}
	if r.cacheDir != "" {
		r.code.CacheDir = filepath.Join(r.cacheDir, "wazero")
	}
	r.noCache = f.noCache
	if p := cacheInTree(root, r.cacheDir); p != "" {
		// The cache (the DB, results) is not part of what ships: a CI job
		// keeping it in the project directory must not scan it.
		r.skip = append(r.skip, p)
	}

	outs := f.outputs
	if !changed("output") {
		outs = cfg.Output
	}
	if len(outs) == 0 {
		outs = []string{defaultOutput}
	}
	reg := a.formats()
	stdoutTaken := false
	for _, o := range outs {
		s, err := reg.ParseSpec(o)
		if err != nil {
			return nil, usageError("-o %s: %v", o, err)
		}
		if s.File == "" || s.File == "-" {
			if stdoutTaken {
				return nil, usageError("-o %s: only one output can go to stdout; give the others a file (-o FORMAT=FILE)", o)
			}
			stdoutTaken = true
		}
		r.outputs = append(r.outputs, s)
	}

	sev := f.severity
	if !changed("severity") {
		sev = cfg.Severity
	}
	for _, s := range sev {
		n := report.NormalizeSeverity(s)
		if n == report.SeverityUnknown && !strings.EqualFold(s, report.SeverityUnknown) {
			return nil, usageError("--severity: unknown severity %q (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)", s)
		}
		r.severity = append(r.severity, n)
	}
	if !changed("spec-version") && cfg.SpecVersion != "" {
		r.spec = cfg.SpecVersion
	}
	r.gitlab = f.gitlabVer
	if !output.ValidGitLabSchemaVersion(r.gitlab) {
		return nil, usageError("--gitlab-schema-version: %q is not a 15.x.y version", r.gitlab)
	}
	if r.spec != "1.6" && r.spec != "1.5" {
		return nil, usageError("--spec-version: %q is not supported (1.6 or 1.5)", r.spec)
	}
	return r, nil
}

// formats returns the output formats this build knows.
func (a *app) formats() output.Registry {
	return output.Default()
}

func (a *app) scanCommand() *cobra.Command {
	f := &scanFlags{}
	db := &dbFlags{}
	gf := &gateFlags{}
	cmd := &cobra.Command{
		Use:   "scan [ROOT]",
		Short: "Scan a directory, match vulnerabilities, and gate",
		Long: `Scan runs the requested stages over ROOT (default: the current directory),
matches every package found against the vulnerability database, applies
suppressions, and decides pass or fail. Every output carries every package,
vulnerability and finding whatever the gate decides; --severity only filters
the table.

The last line on stderr says which way the gate went and why.

Configuration: a shipgate.yaml in ROOT (or --config FILE) sets the same
things as the flags; flags win.`,
		Example: `  # The gate on the current repository
  shipgate scan .

  # Only lockfiles, a JSON report and an SBOM beside the table
  shipgate scan . --stages deps -o table -o json=report.json -o cyclonedx-json=sbom.json

  # Leave vendored code and test fixtures out
  shipgate scan . --skip 'vendor/**' --skip '**/testdata/**'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var gh *ghRun
			if inGitHubActions() {
				var err error
				if gh, args, err = a.applyGitHubInputs(cmd, args); err != nil {
					return err
				}
				gh.act.Group("shipgate scan")
			}
			r, err := a.resolve(cmd, f, args, "table")
			if err != nil {
				return err
			}
			g, err := a.prepareGate(cmd.Context(), cmd, r, gf)
			if err != nil {
				return err
			}
			defer g.Close(context.WithoutCancel(cmd.Context()))
			rep, err := a.scan(cmd, r)
			if err != nil {
				return err
			}
			if err := a.matchVulnerabilities(cmd.Context(), rep, r, db); err != nil {
				return err
			}
			if err := a.postprocess(rep, r, f); err != nil {
				return err
			}
			v, err := g.decide(cmd.Context(), rep)
			if err != nil {
				return err
			}
			if r.strict && len(rep.Errors()) > 0 {
				v = gate.Verdict{Result: gate.Error, Reason: fmt.Sprintf("--strict: %d files could not be analysed", len(rep.Errors()))}
			}
			if err := a.write(rep, r, &v); err != nil {
				return err
			}
			if gh != nil {
				gh.act.EndGroup()
				gh.finish(rep, v)
			}
			a.finish(v, r.quiet)
			return nil
		},
	}
	f.register(cmd, "code,deps")
	db.register(cmd)
	gf.register(cmd)
	cmd.Flags().StringArrayVar(&f.vex, "vex", nil, "apply a CycloneDX VEX or OpenVEX `FILE`: not_affected and fixed statements suppress, repeatable")
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "mark vulnerabilities and findings new or existing against an earlier JSON `REPORT`")
	return cmd
}

func (a *app) sbomCommand() *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "sbom [ROOT]",
		Short: "Write a CycloneDX SBOM of a directory",
		Long: `Sbom runs the dependency stage over ROOT (default: the current directory) and
writes a CycloneDX 1.6 SBOM (JSON on stdout unless -o says otherwise): every
package with its purl, licenses, hashes and locations, and the dependency
graph wherever the lockfile records one.

Files that cannot be analysed are listed on stderr and in the report; sbom
still exits 0 unless --strict is given, when it exits 2.`,
		Example: `  # SBOM on stdout
  shipgate sbom .

  # JSON and XML side by side, CycloneDX 1.5 for older consumers
  shipgate sbom . -o cyclonedx-json=bom.json -o cyclonedx-xml=bom.xml --spec-version 1.5`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.resolve(cmd, f, args, "cyclonedx-json")
			if err != nil {
				return err
			}
			rep, err := a.scan(cmd, r)
			if err != nil {
				return err
			}
			if err := a.write(rep, r, nil); err != nil {
				return err
			}
			a.reportErrors(rep, r.quiet)
			if n := len(rep.Errors()); n > 0 && r.strict {
				a.finish(gate.Verdict{Result: gate.Error, Reason: fmt.Sprintf("--strict: %d files could not be analysed", n)}, r.quiet)
			}
			return nil
		},
	}
	f.register(cmd, "deps")
	return cmd
}

// postprocess runs what follows the stages: suppression (ignore files in
// the root, VEX) and the baseline comparison.
func (a *app) postprocess(rep *report.Report, r *resolved, f *scanFlags) error {
	ignoreDir := ""
	if rep.Target.Type == "filesystem" {
		ignoreDir = rep.Target.Path
	} else if wd, err := os.Getwd(); err == nil {
		ignoreDir = wd
	}
	set, err := suppress.Load(ignoreDir, append(slices.Clone(r.cfg.VEX), f.vex...))
	if err != nil {
		return usageError("%v", err)
	}
	set.Apply(rep, time.Now())
	bl := f.baseline
	if bl == "" {
		bl = r.cfg.Baseline
	}
	if bl != "" {
		base, err := baseline.Load(bl)
		if err != nil {
			return usageError("--baseline: %v", err)
		}
		baseline.Apply(rep, base)
	}
	return nil
}

// scan runs the pipeline with progress on stderr.
func (a *app) scan(cmd *cobra.Command, r *resolved) (*report.Report, error) {
	prog := a.progress(r.quiet)
	defer prog.stop()
	rep, err := pipeline.Scan(cmd.Context(), pipeline.Options{
		Path:        r.root,
		Stages:      r.stages,
		Skip:        r.skip,
		ToolVersion: buildVersion(),
		Progress:    prog.update,
		Image:       r.image,
		Code:        r.code,
		GitHistory:  r.gitHistory,
		ImageOptions: image.Options{
			Source:    image.SourceOptions{Platform: r.platform, Insecure: r.insecure},
			CacheDir:  resultsDir(r, ""),
			VerifyKey: r.key,
		},
		ResultCacheDir: resultsDir(r, "results"),
		Logf: func(format string, args ...any) {
			if !r.quiet {
				fmt.Fprintf(a.stderr, "shipgate: "+format+"\n", args...)
			}
		},
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return rep, nil
}

func (a *app) write(rep *report.Report, r *resolved, v *gate.Verdict) error {
	opts := output.Options{
		Color:       colorOK(a.stdout),
		Severity:    r.severity,
		SpecVersion: r.spec,

		GitLabSchemaVersion: r.gitlab,
		EndTime:             time.Now(),
	}
	if v != nil {
		opts.Verdict = &output.Verdict{Result: v.Result, Reason: v.Reason}
	}
	if slices.ContainsFunc(r.outputs, func(s output.Spec) bool { return s.Format == "sarif" }) {
		// Rule metadata builds every code analyzer's rule table (the
		// secret detector's too): only SARIF needs it.
		opts.Rules = map[string]output.RuleInfo{}
		for _, rule := range code.Rules() {
			opts.Rules[rule.ID] = output.RuleInfo{ID: rule.ID, Title: rule.Title, Description: rule.Title, Help: rule.Help, Severity: rule.Severity, CWEs: rule.CWEs, References: rule.References}
		}
	}
	if err := a.formats().Write(a.stdout, rep, r.outputs, opts); err != nil {
		return &exitError{code: gate.ExitError, err: err}
	}
	return nil
}

// reportErrors lists the files that could not be analysed on stderr.
func (a *app) reportErrors(rep *report.Report, quiet bool) {
	for _, st := range rep.Analyzers {
		for _, e := range st.Errors {
			loc := e.Path
			if e.Line > 0 {
				loc = fmt.Sprintf("%s:%d", e.Path, e.Line)
			}
			fmt.Fprintf(a.stderr, "shipgate: could not analyse %s (%s): %s\n", loc, st.Name, firstLine(e.Message))
		}
	}
	_ = quiet // errors are shown even with --quiet: nothing disappears silently
}

// finish prints the verdict line and records the exit code.
func (a *app) finish(v gate.Verdict, quiet bool) {
	a.code = v.Code()
	if quiet && v.Result == gate.Pass {
		return
	}
	fmt.Fprintln(a.stderr, v.Line())
}

func colorOK(w any) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// progressPrinter shows "scanning: N/M files" on stderr for scans that take
// longer than a second, only on a terminal.
type progressPrinter struct {
	a       *app
	on      bool
	start   time.Time
	shown   bool
	lastOut time.Time
}

func (a *app) progress(quiet bool) *progressPrinter {
	return &progressPrinter{a: a, on: !quiet && isTerminal(a.stderr), start: time.Now()}
}

func (p *progressPrinter) update(done, total int) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.lastOut) < 100*time.Millisecond {
		return
	}
	p.lastOut = now
	p.shown = true
	fmt.Fprintf(p.a.stderr, "\r\x1b[Kscanning: %d/%d files", done, total)
}

func (p *progressPrinter) stop() {
	if p.shown {
		fmt.Fprint(p.a.stderr, "\r\x1b[K")
	}
}

// resultsDir is the directory sub of the cache root that holds cached scan
// results, or "" when they are not to be used (--no-cache, no cache root).
func resultsDir(r *resolved, sub string) string {
	if r.noCache || r.cacheDir == "" {
		return ""
	}
	return filepath.Join(r.cacheDir, sub)
}

// cacheInTree returns the skip glob of the cache directory cache when it
// lies inside the scanned directory root (as in the GitLab component, which
// keeps it in the project directory for GitLab's cache), else "".
func cacheInTree(root, cache string) string {
	if cache == "" {
		return ""
	}
	absRoot, err1 := filepath.Abs(root)
	absCache, err2 := filepath.Abs(cache)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(absRoot, absCache)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return ""
	}
	var b strings.Builder
	for _, c := range filepath.ToSlash(rel) {
		if strings.ContainsRune(`*?[]{}\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
