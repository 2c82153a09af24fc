//go:build !linux

package policy

import (
	"os"
	"syscall"
)

// workerProcAttr: outside Linux the child gets no process group or
// parent-death signal (the worker starts no processes of its own).
func workerProcAttr() *syscall.SysProcAttr { return nil }

// killWorker kills the child.
func killWorker(p *os.Process) error { return p.Kill() }

// applyWorkerLimits sets no resource limits outside Linux.
func applyWorkerLimits(workerRequest) error { return nil }
