package policy

// Child-process isolation: the host re-executes itself (WorkerCommand) and
// evaluates the policy there, compiled without wazero's interruption checks,
// and kills the child's process group at the deadline. See the package doc
// and sdk/ABI.md §7 for why and for the measured figures.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Isolation says where an Engine evaluates reactor and command modules.
type Isolation string

// Isolation modes.
const (
	// IsolationInProcess (the zero value) evaluates in the host process,
	// compiled with wazero's WithCloseOnContextDone so the deadline can stop
	// a running guest (about 5x slower for Go-built policies).
	IsolationInProcess Isolation = ""
	// IsolationProcess evaluates each policy in a child process (the host
	// re-executed as WorkerCommand) compiled without interruption checks;
	// the host kills the child's process group at the deadline.
	IsolationProcess Isolation = "process"
)

// WorkerCommand is the hidden subcommand of the shipgate binary that serves
// one evaluation on stdin/stdout (see ServeWorker).
const WorkerCommand = "__policy-worker"

// StartupLimit bounds, in child-process mode, the time the child may take to
// start and compile or load the module before the evaluation deadline
// (Options.Timeout) starts. Compiling is the host's own work (a Go policy of
// 3 MB compiles in about 1.2 s cold); this limit only guarantees that the
// host never hangs.
const StartupLimit = time.Minute

// maxStderr is how much of a child's stderr the host keeps for messages.
const maxStderr = 64 << 10

// Frame types of the worker protocol. Every frame is one type byte, a
// big-endian uint32 payload length and the payload.
const (
	frameHeader = 'H' // request: workerRequest JSON; response: workerResponse JSON
	frameModule = 'M' // request: the module bytes
	frameReport = 'I' // request: the report JSON
	frameReady  = 'R' // response: the module is loaded; the deadline starts
	frameOutput = 'O' // response: the raw decision (or metadata)
	frameLogs   = 'L' // response: the policy's log output (stderr + shipgate.log)
)

// workerMagic starts the request, so that a worker started by mistake
// (a terminal, a different host version) refuses at once.
const workerMagic = "shipgate-policy-worker/1\n"

// workerRequest is the request header: what the child needs besides the
// module and the report.
type workerRequest struct {
	Name        string          `json:"name"`
	Fn          string          `json:"fn,omitempty"`
	Params      json.RawMessage `json:"params,omitempty"`
	Start       time.Time       `json:"start"`
	CacheDir    string          `json:"cacheDir,omitempty"`
	Timeout     time.Duration   `json:"timeout"`
	MemoryLimit uint64          `json:"memoryLimit"`
	MaxOutput   int             `json:"maxOutput"`
	// AddressSpaceLimit, when non-zero, is applied as RLIMIT_AS (Linux).
	AddressSpaceLimit uint64 `json:"addressSpaceLimit,omitempty"`
}

// workerResponse is the response header.
type workerResponse struct {
	// Outcome and Error are set when the evaluation failed (Outcome is
	// error or abort); Error is the message without the policy name.
	Outcome Outcome `json:"outcome,omitempty"`
	Error   string  `json:"error,omitempty"`
	// Logs are the lines the policy logged, for the host's logger.
	Logs []workerLog `json:"logs,omitempty"`
}

type workerLog struct {
	Level slog.Level `json:"level"`
	Msg   string     `json:"msg"`
}

func writeFrame(w io.Writer, typ byte, payload []byte) error {
	var h [5]byte
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:], uint32(len(payload)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// readFrame reads one frame, refusing payloads over limit bytes.
func readFrame(r io.Reader, limit int) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if int64(n) > int64(limit) {
		return 0, nil, fmt.Errorf("frame %q of %d bytes exceeds %d", h[0], n, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, fmt.Errorf("frame %q: %w", h[0], err)
	}
	return h[0], b, nil
}

// logCollector is a slog.Handler that keeps the policy's log records for the
// response, up to max bytes.
type logCollector struct {
	recs *[]workerLog
	size *int
	max  int
}

func (c logCollector) Enabled(context.Context, slog.Level) bool { return true }
func (c logCollector) Handle(_ context.Context, r slog.Record) error {
	if *c.size+len(r.Message) > c.max {
		return nil
	}
	*c.size += len(r.Message)
	*c.recs = append(*c.recs, workerLog{Level: r.Level, Msg: r.Message})
	return nil
}
func (c logCollector) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c logCollector) WithGroup(string) slog.Handler      { return c }

// ServeWorker is the child side of IsolationProcess: it reads one request
// from r, loads the module (from the shared on-disk compilation cache when
// possible) without interruption checks, writes a ready frame, evaluates,
// and writes the response to w. The host enforces the deadline by killing
// the process. It returns an error only when the protocol itself fails;
// policy errors and aborts are part of the response.
func ServeWorker(ctx context.Context, r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(workerMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != workerMagic {
		return fmt.Errorf("policy worker: not a %q request (this command is started by shipgate itself)", strings.TrimSpace(workerMagic))
	}
	var req workerRequest
	var wasm, rep []byte
	for range 3 {
		typ, b, err := readFrame(br, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("policy worker: read request: %w", err)
		}
		switch typ {
		case frameHeader:
			if err := json.Unmarshal(b, &req); err != nil {
				return fmt.Errorf("policy worker: decode request: %w", err)
			}
		case frameModule:
			wasm = b
		case frameReport:
			rep = b
		default:
			return fmt.Errorf("policy worker: unknown request frame %q", typ)
		}
	}
	if err := applyWorkerLimits(req); err != nil {
		return fmt.Errorf("policy worker: %w", err)
	}
	var resp workerResponse
	size := 0
	logger := slog.New(logCollector{recs: &resp.Logs, size: &size, max: max(req.MaxOutput, 1)})
	bw := bufio.NewWriterSize(w, 64<<10)
	out, logs, err := workerEvaluate(ctx, req, wasm, rep, logger, func() error {
		if err := writeFrame(bw, frameReady, nil); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		resp.Outcome, resp.Error = OutcomeError, err.Error()
		var pe *Error
		if errors.As(err, &pe) {
			resp.Outcome, resp.Error = pe.Outcome, pe.Err.Error()
		}
	}
	head, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("policy worker: encode response: %w", err)
	}
	for _, f := range []struct {
		typ byte
		b   []byte
	}{{frameHeader, head}, {frameOutput, out}, {frameLogs, logs}} {
		if err := writeFrame(bw, f.typ, f.b); err != nil {
			return fmt.Errorf("policy worker: write response: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("policy worker: write response: %w", err)
	}
	return nil
}

// workerEvaluate loads and runs the module in this process, without
// interruption checks, calling ready once the module is loaded.
func workerEvaluate(ctx context.Context, req workerRequest, wasm, rep []byte, logger *slog.Logger, ready func() error) ([]byte, []byte, error) {
	e, err := NewEngine(ctx, Options{
		CacheDir:    req.CacheDir,
		Timeout:     req.Timeout,
		MemoryLimit: req.MemoryLimit,
		MaxOutput:   req.MaxOutput,
		Logger:      logger,
		NoInterrupt: true,
	})
	if err != nil {
		return nil, nil, &Error{Policy: req.Name, Outcome: OutcomeAbort, Err: err}
	}
	// No Close: the process exits right after, and closing the runtime only
	// unmaps memory.
	p, err := e.Load(ctx, req.Name, wasm)
	if err != nil {
		return nil, nil, err
	}
	if err := ready(); err != nil {
		return nil, nil, fmt.Errorf("write ready frame: %w", err)
	}
	return p.run(ctx, Input{Params: req.Params, Report: rep, Start: req.Start}, req.Fn)
}

// errDeadline and errStartup are the causes with which the host stops a
// child.
var (
	errDeadline = errors.New("evaluation deadline")
	errStartup  = errors.New("startup limit")
)

// runChild is run for IsolationProcess: it evaluates in a child process and
// returns what run returns in process.
func (p *Policy) runChild(ctx context.Context, in Input, fn string) ([]byte, []byte, error) {
	o := p.engine.opts
	path, args := o.WorkerPath, o.WorkerArgs
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("find the policy worker executable: %w", err)}
		}
		path = exe
	}
	if args == nil {
		args = []string{WorkerCommand}
	}
	var reqBuf bytes.Buffer
	head, err := json.Marshal(workerRequest{
		Name: p.Name, Fn: fn, Params: in.Params, Start: in.Start,
		CacheDir: o.CacheDir, Timeout: o.Timeout, MemoryLimit: o.MemoryLimit, MaxOutput: o.MaxOutput,
		AddressSpaceLimit: o.AddressSpaceLimit,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("encode worker request: %w", err)
	}
	reqBuf.Grow(len(workerMagic) + len(head) + len(p.wasm) + len(in.Report) + 15)
	reqBuf.WriteString(workerMagic)
	_ = writeFrame(&reqBuf, frameHeader, head)
	_ = writeFrame(&reqBuf, frameModule, p.wasm)
	_ = writeFrame(&reqBuf, frameReport, in.Report)

	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	cmd := exec.CommandContext(runCtx, path, args...)
	cmd.Stdin = &reqBuf
	stderr := &capWriter{max: maxStderr}
	cmd.Stderr = stderr
	cmd.SysProcAttr = workerProcAttr()
	cmd.Cancel = func() error { return killWorker(cmd.Process) }
	cmd.WaitDelay = time.Second
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("start policy worker: %w", err)}
	}
	cmd.Stdout = outW
	began := time.Now()
	err = cmd.Start()
	_ = outW.Close()
	if err != nil {
		_ = outR.Close()
		return nil, nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("start policy worker %s: %w", path, err)}
	}

	ready := make(chan struct{})
	done := make(chan workerResult, 1)
	go func() {
		defer outR.Close()
		done <- readResponse(outR, ready, o.MaxOutput)
	}()

	startup := time.NewTimer(StartupLimit)
	defer startup.Stop()
	var deadline *time.Timer
	var evalStart time.Time
	var res workerResult
	killed := false
wait:
	for {
		select {
		case <-ready:
			ready = nil
			startup.Stop()
			evalStart = time.Now()
			deadline = time.AfterFunc(o.Timeout, func() { stop(errDeadline) })
			defer deadline.Stop()
		case <-startup.C:
			stop(errStartup)
		case <-runCtx.Done():
			// Kill now rather than through exec's own watcher, and do not
			// wait for the kernel to tear the process down: once SIGKILL is
			// sent the policy runs no more. The child is reaped behind.
			_ = killWorker(cmd.Process)
			killed = true
			go func() {
				<-done
				_ = cmd.Wait()
			}()
			break wait
		case res = <-done:
			break wait
		}
	}
	took := time.Since(evalStart)
	var waitErr error
	if !killed {
		if deadline != nil {
			deadline.Stop()
		}
		waitErr = cmd.Wait()
	}
	switch cause := context.Cause(runCtx); {
	case !killed:
	case errors.Is(cause, errDeadline):
		return nil, nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("timeout: still running after %s (limit %s)", took.Round(time.Millisecond), o.Timeout)}
	case errors.Is(cause, errStartup):
		return nil, nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("policy worker did not load the module within %s (%s)", StartupLimit, time.Since(began).Round(time.Millisecond))}
	default:
		return nil, nil, &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("canceled: %w", cause)}
	}
	if res.err != nil || waitErr != nil {
		return nil, nil, p.workerFailure(res.err, waitErr, stderr)
	}
	for _, l := range res.resp.Logs {
		o.Logger.Log(ctx, l.Level, l.Msg, "policy", p.Name)
	}
	if res.resp.Outcome != "" {
		return res.out, res.logs, &Error{Policy: p.Name, Outcome: res.resp.Outcome, Err: errors.New(res.resp.Error)}
	}
	return res.out, res.logs, nil
}

// workerResult is what the host read from a child.
type workerResult struct {
	resp      workerResponse
	out, logs []byte
	err       error
}

// readResponse reads the child's frames: ready (closing the ready channel),
// then the header, output and logs.
func readResponse(r io.Reader, ready chan struct{}, maxOutput int) (res workerResult) {
	limit := 2*maxOutput + 1<<20
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		typ, b, err := readFrame(br, limit)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			res.err = err
			return res
		}
		switch typ {
		case frameReady:
			if ready != nil {
				close(ready)
				ready = nil
			}
		case frameHeader:
			if err := json.Unmarshal(b, &res.resp); err != nil {
				res.err = fmt.Errorf("decode response: %w", err)
				return res
			}
		case frameOutput:
			res.out = b
		case frameLogs:
			res.logs = b
			// Last frame: drain nothing more, the child exits.
			return res
		default:
			res.err = fmt.Errorf("unknown response frame %q", typ)
			return res
		}
	}
}

// workerFailure classifies a child that ended without a complete response:
// out of memory (RLIMIT_AS or the Go runtime) or a crash, with its stderr.
func (p *Policy) workerFailure(readErr, waitErr error, stderr *capWriter) error {
	msg := stderr.buf.String()
	if strings.Contains(msg, "out of memory") || strings.Contains(msg, "cannot allocate memory") {
		limit := fmt.Sprintf("memory limit of %d MiB", p.engine.opts.MemoryLimit>>20)
		if as := p.engine.opts.AddressSpaceLimit; as > 0 {
			limit += fmt.Sprintf(" or address-space limit of %d MiB", as>>20)
		}
		return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("%s reached (policy worker: %s)", limit, crashSummary(msg))}
	}
	var why string
	switch {
	case waitErr != nil:
		why = waitErr.Error()
	default:
		why = "incomplete response: " + readErr.Error()
	}
	if s := crashSummary(msg); s != "" {
		why += ": " + s
	}
	return &Error{Policy: p.Name, Outcome: OutcomeAbort, Err: fmt.Errorf("policy worker crashed (%s)", why)}
}

// crashSummary picks the lines of a Go crash report that say what happened
// (panic:, fatal error:), or else the tail of stderr, on one line.
func crashSummary(stderr string) string {
	var picked []string
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") ||
			strings.HasPrefix(line, "shipgate: ") || strings.HasPrefix(line, "policy worker: ") {
			picked = append(picked, strings.TrimSpace(line))
		}
	}
	if len(picked) > 0 {
		return logTail([]byte(strings.Join(picked, "; ")))
	}
	return logTail([]byte(stderr))
}

// loadForChild validates a reactor or command module for IsolationProcess
// without compiling it here: the child compiles it (or loads it from the
// shared disk cache), so the host does not pay for a compilation it never
// runs.
func (e *Engine) loadForChild(name string, wasm []byte, info Info) (*Policy, error) {
	for _, im := range info.Imports {
		if im.Module == "wasi_snapshot_preview1" && !hasWASI(im.Name) {
			return nil, &Error{Policy: name, Outcome: OutcomeError, Err: fmt.Errorf("imports %s.%s, which the host does not provide", im.Module, im.Name)}
		}
	}
	return &Policy{Name: name, Info: info, engine: e, wasm: wasm}, nil
}

// exports reports whether the module exports a function of that name.
func (p *Policy) exports(name string) bool {
	for _, x := range p.Info.Exports {
		if x.Name == name && x.Kind == "func" {
			return true
		}
	}
	return false
}
