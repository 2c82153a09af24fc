// Package gitinfo reads the commit and branch of a git work tree straight
// from its .git directory, without running git.
package gitinfo

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/shipgate/shipgate/internal/report"
)

// Find returns the git state of the work tree containing dir, or nil when dir
// is not inside one or its state cannot be read.
func Find(dir string) *report.Git {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	for d := abs; ; d = filepath.Dir(d) {
		gitDir := filepath.Join(d, ".git")
		if fi, err := os.Stat(gitDir); err == nil {
			if !fi.IsDir() {
				// A worktree or submodule: ".git" is a file "gitdir: PATH".
				b, err := os.ReadFile(gitDir)
				if err != nil {
					return nil
				}
				p := strings.TrimSpace(strings.TrimPrefix(string(b), "gitdir:"))
				if !filepath.IsAbs(p) {
					p = filepath.Join(d, p)
				}
				gitDir = p
			}
			return read(gitDir)
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

func read(gitDir string) *report.Git {
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return nil
	}
	head := strings.TrimSpace(string(b))
	g := &report.Git{}
	ref, ok := strings.CutPrefix(head, "ref: ")
	if !ok {
		g.Commit = head // detached HEAD
		return g
	}
	g.Branch = strings.TrimPrefix(ref, "refs/heads/")
	g.Commit = resolve(gitDir, ref)
	if g.Commit == "" {
		// A linked worktree keeps refs in the common directory.
		if c, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
			common := strings.TrimSpace(string(c))
			if !filepath.IsAbs(common) {
				common = filepath.Join(gitDir, common)
			}
			g.Commit = resolve(common, ref)
		}
	}
	return g
}

func resolve(gitDir, ref string) string {
	if b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		return strings.TrimSpace(string(b))
	}
	f, err := os.Open(filepath.Join(gitDir, "packed-refs"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if sha, name, ok := strings.Cut(line, " "); ok && name == ref {
			return sha
		}
	}
	return ""
}
