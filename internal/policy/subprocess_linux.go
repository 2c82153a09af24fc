package policy

import (
	"fmt"
	"os"
	"syscall"
)

// workerProcAttr puts the child in its own process group (killed as a
// whole) and has the kernel kill it if the host dies first.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killWorker kills the child's process group.
func killWorker(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		return p.Kill()
	}
	return nil
}

// applyWorkerLimits sets the child's own resource limits: RLIMIT_CPU as a
// kernel-enforced backstop (should the host be unable to kill it), and
// RLIMIT_AS when requested.
func applyWorkerLimits(req workerRequest) error {
	cpu := uint64((StartupLimit + 2*req.Timeout).Seconds()) + 1
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: cpu, Max: cpu}); err != nil {
		return fmt.Errorf("set RLIMIT_CPU: %w", err)
	}
	if req.AddressSpaceLimit > 0 {
		lim := req.AddressSpaceLimit
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
			return fmt.Errorf("set RLIMIT_AS: %w", err)
		}
	}
	return nil
}
