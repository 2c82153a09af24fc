package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/shipgate/shipgate/internal/report"
)

// APIVersion is the apiVersion of the input documents (sdk/ABI.md §1).
const APIVersion = "shipgate.dev/v1"

// Outcome is how one evaluation ended (sdk/ABI.md §8).
type Outcome string

// Outcomes: the policy's verdict (pass, warn, deny), a policy error, or a
// host abort (timeout, memory limit, trap, output cap).
const (
	OutcomePass  Outcome = "pass"
	OutcomeWarn  Outcome = "warn"
	OutcomeDeny  Outcome = "deny"
	OutcomeError Outcome = "error"
	OutcomeAbort Outcome = "abort"
)

// Error is a policy error or a host abort, naming the policy.
type Error struct {
	// Policy is the policy's name (file name or builtin:NAME).
	Policy string
	// Outcome is OutcomeError or OutcomeAbort.
	Outcome Outcome
	// Err says what happened.
	Err error
}

func (e *Error) Error() string {
	kind := "policy error"
	if e.Outcome == OutcomeAbort {
		kind = "aborted by host"
	}
	return fmt.Sprintf("policy %s: %s: %v", e.Policy, kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Input is what a policy is evaluated on.
type Input struct {
	// Params is the policy's params object (nil means {}).
	Params json.RawMessage
	// Report is the report JSON (the document of `shipgate scan -o json`).
	Report json.RawMessage
	// Start is the scan's start time, which the policy's clock reads.
	Start time.Time
	// compact says Report is json.Marshal output (valid, compact,
	// HTML-escaped), which the document can take as it is instead of
	// validating and compacting a megabyte again for every policy.
	compact bool
}

// document builds the input document of sdk/ABI.md §1.
func (in Input) document(name string) ([]byte, error) {
	params := in.Params
	if len(bytes.TrimSpace(params)) == 0 {
		params = json.RawMessage("{}")
	}
	rep := in.Report
	if len(bytes.TrimSpace(rep)) == 0 {
		rep = json.RawMessage("{}")
	}
	policy := struct {
		Name   string          `json:"name"`
		Params json.RawMessage `json:"params"`
	}{name, params}
	if in.compact {
		// The same bytes json.Marshal gives below: the head, then the
		// report spliced in.
		head, err := json.Marshal(struct {
			APIVersion string `json:"apiVersion"`
			Policy     any    `json:"policy"`
		}{APIVersion, policy})
		if err != nil {
			return nil, err
		}
		doc := make([]byte, 0, len(head)+len(`,"report":`)+len(rep))
		doc = append(doc, head[:len(head)-1]...)
		doc = append(doc, `,"report":`...)
		doc = append(doc, rep...)
		return append(doc, '}'), nil
	}
	return json.Marshal(struct {
		APIVersion string          `json:"apiVersion"`
		Policy     any             `json:"policy"`
		Report     json.RawMessage `json:"report"`
	}{APIVersion, policy, rep})
}

// capWriter keeps at most max bytes and remembers that it dropped some.
type capWriter struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); len(p) > room {
		w.buf.Write(p[:max(room, 0)])
		w.truncated = true
		return len(p), nil
	}
	return w.buf.Write(p)
}

// evalState is one evaluation's host-side state, reached by host functions
// through the call context.
type evalState struct {
	policy string
	logger *slog.Logger
	logs   *capWriter
}

type stateKey struct{}

// hostLog implements shipgate.log(level, ptr, len).
func hostLog(ctx context.Context, m api.Module, stack []uint64) {
	st, _ := ctx.Value(stateKey{}).(*evalState)
	if st == nil {
		return
	}
	level, ptr, n := api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	if room := st.logs.max - st.logs.buf.Len(); int64(n) > int64(room) {
		n = uint32(max(room, 0))
		st.logs.truncated = true
	}
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("shipgate.log: range %d+%d out of memory bounds", ptr, n))
	}
	line := strings.ToValidUTF8(string(b), "\uFFFD")
	st.logs.buf.WriteString(line)
	st.logs.buf.WriteByte('\n')
	lv := slog.LevelDebug
	switch {
	case level >= 3:
		lv = slog.LevelError
	case level == 2:
		lv = slog.LevelWarn
	case level == 1:
		lv = slog.LevelInfo
	}
	st.logger.Log(ctx, lv, line, "policy", st.policy)
}

// Evaluate runs the policy on one input in a fresh instance. On a verdict it
// returns the decision, its outcome (pass, warn or deny) and a nil error;
// otherwise an *Error with outcome error or abort.
func (p *Policy) Evaluate(ctx context.Context, in Input) (report.Decision, Outcome, error) {
	d, err := p.evaluate(ctx, in)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return report.Decision{}, pe.Outcome, err
		}
		return report.Decision{}, OutcomeError, &Error{Policy: p.Name, Outcome: OutcomeError, Err: err}
	}
	out := OutcomePass
	switch {
	case len(d.Deny) > 0:
		out = OutcomeDeny
	case len(d.Warn) > 0:
		out = OutcomeWarn
	}
	return d, out, nil
}

func (p *Policy) evaluate(ctx context.Context, in Input) (report.Decision, error) {
	if p.opa != nil {
		return p.evaluateOPA(ctx, in)
	}
	raw, logs, err := p.run(ctx, in, "")
	if err != nil {
		return report.Decision{}, err
	}
	d, err := ParseDecision(raw)
	if err != nil {
		if tail := logTail(logs); tail != "" {
			err = fmt.Errorf("%w (policy log: %s)", err, tail)
		}
		return report.Decision{}, &Error{Policy: p.Name, Outcome: OutcomeError, Err: err}
	}
	return d, nil
}

// Metadata returns the module's metadata: the shipgate.metadata section, or
// else what a reactor's shipgate_metadata export returns (run in the same
// sandbox and limits as an evaluation). It returns nil when there is none.
func (p *Policy) Metadata(ctx context.Context) (json.RawMessage, error) {
	if p.Info.Metadata != nil {
		return p.Info.Metadata, nil
	}
	if p.Info.Shape != ShapeReactor || !p.exports("shipgate_metadata") {
		return nil, nil
	}
	raw, _, err := p.run(ctx, Input{}, "shipgate_metadata")
	if err != nil {
		return nil, err
	}
	if !json.Valid(raw) {
		return nil, &Error{Policy: p.Name, Outcome: OutcomeError, Err: errors.New("shipgate_metadata returned invalid JSON")}
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	return raw, nil
}

// run instantiates the module and returns its raw output and its logs.
// With fn = "shipgate_metadata" it calls that export instead of evaluating.
func (p *Policy) run(ctx context.Context, in Input, fn string) ([]byte, []byte, error) {
	if p.wasm != nil {
		return p.runChild(ctx, in, fn)
	}
	e := p.engine
	doc, err := in.document(p.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("encode input: %w", err)
	}
	start := in.Start
	if start.IsZero() {
		start = time.Unix(0, 0)
	}
	seed := sha256.Sum256(doc)
	logs := &capWriter{max: e.opts.MaxOutput}
	stdout := &capWriter{max: e.opts.MaxOutput}
	st := &evalState{policy: p.Name, logger: e.opts.Logger, logs: logs}

	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, stateKey{}, st)
	ctx = experimental.WithMemoryAllocator(ctx, memoryAllocator())

	sec, nsec := start.Unix(), int32(start.Nanosecond())
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(p.Name).
		WithStdout(stdout).
		WithStderr(logs).
		WithWalltime(func() (int64, int32) { return sec, nsec }, sys.ClockResolution(1)).
		// The Go runtime refuses a monotonic clock reading zero.
		WithNanotime(func() int64 { return 1 }, sys.ClockResolution(1)).
		WithRandSource(rand.NewChaCha8(seed))
	began := time.Now()
	out, err := p.instantiateAndCall(ctx, cfg, doc, fn, stdout, logs, began)
	if logs.truncated {
		e.opts.Logger.Warn("policy log output truncated", "policy", p.Name, "limit", e.opts.MaxOutput)
	}
	return out, logs.buf.Bytes(), err
}

// instantiateAndCall runs one instance to completion, classifies any failure
// and closes the instance.
func (p *Policy) instantiateAndCall(ctx context.Context, cfg wazero.ModuleConfig, doc []byte, fn string, stdout, logs *capWriter, began time.Time) ([]byte, error) {
	var out []byte
	var mod api.Module
	var err error
	if p.Info.Shape == ShapeCommand {
		mod, err = p.rt.InstantiateModule(ctx, p.compiled, cfg.WithStdin(bytes.NewReader(doc)))
		var exit *sys.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 0 {
			err = nil
		}
		out = stdout.buf.Bytes()
		if err == nil && stdout.truncated {
			err = &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("decision exceeds the %d-byte output limit", p.engine.opts.MaxOutput)}
		}
	} else {
		mod, err = p.rt.InstantiateModule(ctx, p.compiled, cfg.WithStartFunctions())
		if err == nil {
			out, err = p.callReactor(ctx, mod, doc, fn)
		}
	}
	if err != nil {
		err = p.classify(ctx, err, mod, logs, time.Since(began))
	}
	if mod != nil {
		_ = mod.Close(context.WithoutCancel(ctx))
	}
	return out, err
}

// callReactor runs the reactor protocol of sdk/ABI.md §3.1.
func (p *Policy) callReactor(ctx context.Context, mod api.Module, doc []byte, fn string) ([]byte, error) {
	if init := mod.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(ctx); err != nil {
			return nil, fmt.Errorf("_initialize: %w", err)
		}
	}
	var res []uint64
	var err error
	if fn != "" {
		res, err = mod.ExportedFunction(fn).Call(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	} else {
		res, err = mod.ExportedFunction("shipgate_alloc").Call(ctx, uint64(len(doc)))
		if err != nil {
			return nil, fmt.Errorf("shipgate_alloc: %w", err)
		}
		ptr := api.DecodeU32(res[0])
		if !mod.Memory().Write(ptr, doc) {
			return nil, &Error{Policy: p.Name, Outcome: OutcomeError, Err: fmt.Errorf("shipgate_alloc(%d) returned %d, outside linear memory", len(doc), ptr)}
		}
		res, err = mod.ExportedFunction("shipgate_evaluate").Call(ctx, uint64(ptr), uint64(len(doc)))
		if err != nil {
			return nil, fmt.Errorf("shipgate_evaluate: %w", err)
		}
	}
	if len(res) != 1 {
		return nil, &Error{Policy: p.Name, Outcome: OutcomeError, Err: errors.New("evaluation export must return one i64")}
	}
	ptr, n := uint32(res[0]>>32), uint32(res[0])
	if int64(n) > int64(p.engine.opts.MaxOutput) {
		return nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("decision of %d bytes exceeds the %d-byte output limit", n, p.engine.opts.MaxOutput)}
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return nil, &Error{Policy: p.Name, Outcome: OutcomeError, Err: fmt.Errorf("decision at %d+%d is outside linear memory", ptr, n)}
	}
	return bytes.Clone(b), nil
}

// classify turns a wazero error into a policy error or a host abort.
func (p *Policy) classify(ctx context.Context, err error, mod api.Module, logs *capWriter, took time.Duration) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	limit := p.engine.opts.MemoryLimit
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("timeout: still running after %s (limit %s)", took.Round(time.Millisecond), p.engine.opts.Timeout)}
		}
		return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("canceled: %w", ctx.Err())}
	}
	// Out of memory: the Go runtime says so on stderr, and any module that
	// fails with its memory (nearly) at the limit ran out of it.
	var size uint64
	if mod != nil && mod.Memory() != nil {
		size = uint64(mod.Memory().Size())
	}
	if strings.Contains(logs.buf.String(), "out of memory") || size+max(4*wasmPage, limit/16) > limit {
		return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("memory limit of %d MiB reached (%v)", limit>>20, firstLine(err))}
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return &Error{Policy: p.Name, Outcome: OutcomeError, Err: fmt.Errorf("exited with status %d%s", exit.ExitCode(), logSuffix(logs.buf.Bytes()))}
	}
	if strings.Contains(err.Error(), "wasm error:") {
		return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("trap: %v%s", firstLine(err), logSuffix(logs.buf.Bytes()))}
	}
	return &Error{Policy: p.Name, Outcome: OutcomeError, Err: fmt.Errorf("%v%s", firstLine(err), logSuffix(logs.buf.Bytes()))}
}

// firstLine drops wazero's wasm stack trace from an error message.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func logSuffix(logs []byte) string {
	if t := logTail(logs); t != "" {
		return " (policy log: " + t + ")"
	}
	return ""
}

// logTail returns the last few hundred bytes of a log, on one line.
func logTail(logs []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(logs), "\uFFFD"))
	if len(s) > 300 {
		s = "..." + s[len(s)-300:]
	}
	return strings.Join(strings.Fields(s), " ")
}

// ParseDecision validates and decodes a decision document (sdk/ABI.md §2).
func ParseDecision(raw []byte) (report.Decision, error) {
	var d report.Decision
	if !utf8.Valid(raw) {
		return d, errors.New("decision is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return d, errors.New("empty decision (want a JSON object with deny and warn)")
	}
	if trimmed[0] != '{' {
		return d, fmt.Errorf("wrong shape: decision must be a JSON object, got %s", snippet(trimmed))
	}
	var doc struct {
		Deny  []report.Violation `json:"deny"`
		Warn  []report.Violation `json:"warn"`
		Error *string            `json:"error"`
	}
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return d, fmt.Errorf("invalid JSON in decision at byte %d: %v", se.Offset, err)
		}
		return d, fmt.Errorf("wrong shape: %v", err)
	}
	if doc.Error != nil {
		return d, fmt.Errorf("policy reported: %s", *doc.Error)
	}
	for i, v := range doc.Deny {
		if v.Message == "" {
			return d, fmt.Errorf("wrong shape: deny[%d] has no message", i)
		}
	}
	for i, v := range doc.Warn {
		if v.Message == "" {
			return d, fmt.Errorf("wrong shape: warn[%d] has no message", i)
		}
	}
	d.Deny, d.Warn = doc.Deny, doc.Warn
	if d.Deny == nil {
		d.Deny = []report.Violation{}
	}
	if d.Warn == nil {
		d.Warn = []report.Violation{}
	}
	return d, nil
}

func snippet(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q...", b[:40])
	}
	return fmt.Sprintf("%q", b)
}
