package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGosecMode: --gosec-mode picks gosec's full mode (types and SSA
// through the go command) or its syntax mode; full mode finds what only
// type information shows (an unchecked error, G104), syntax mode does not,
// and each finding says which mode produced it.
func TestGosecMode(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command: full mode cannot run")
	}
	withDB(t)
	mod := "../../plugins/code/gosec/testdata/fullmod"
	count := func(mode string) (g104 int, analyzers map[string]bool) {
		t.Helper()
		stdout, stderr, code := shipgate(t, "scan", mod, "--stages", "code", "--gosec-mode", mode, "-o", "json", "-q")
		if code == 2 {
			t.Fatalf("%s: exit 2: %s", mode, stderr)
		}
		analyzers = map[string]bool{}
		for _, f := range decode(t, []byte(stdout)).Findings {
			if strings.HasPrefix(f.Analyzer, "gosec") {
				analyzers[f.Analyzer] = true
			}
			if f.Rule == "G104" {
				g104++
			}
		}
		return g104, analyzers
	}
	if n, a := count("full"); n == 0 || !a["gosec/full"] {
		t.Errorf("full mode: %d G104 findings, analyzers %v", n, a)
	}
	if n, a := count("syntax"); n != 0 || a["gosec/full"] {
		t.Errorf("syntax mode: %d G104 findings, analyzers %v", n, a)
	}
	if _, stderr, code := shipgate(t, "scan", mod, "--gosec-mode", "fast"); code != 2 || !strings.Contains(stderr, "--gosec-mode") {
		t.Errorf("bad mode: exit %d: %s", code, stderr)
	}
}
