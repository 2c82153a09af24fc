package buildid

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// build compiles a tiny program printing msg for goos with the extra
// linker flags, and returns the executable's path.
func build(t *testing.T, goos, msg, ldflags string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\""+msg+"\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prog-"+goos)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-o", out, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", goos, err, b)
	}
	return out
}

// goToolBuildID is the build ID as the Go toolchain reads it.
func goToolBuildID(t *testing.T, path string) string {
	t.Helper()
	b, err := exec.Command("go", "tool", "buildid", path).Output()
	if err != nil {
		t.Fatalf("go tool buildid: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// TestFile reads the Go build ID of real executables for each object
// format the releases ship (ELF, Mach-O, PE), as the Go tool reads it.
func TestFile(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		t.Run(goos, func(t *testing.T) {
			t.Parallel()
			exe := build(t, goos, "a", "-s -w")
			got, err := File(exe)
			if err != nil {
				t.Fatal(err)
			}
			if want := "go:" + goToolBuildID(t, exe); got != want {
				t.Errorf("File = %q, want %q", got, want)
			}
			other, err := File(build(t, goos, "b", "-s -w"))
			if err != nil {
				t.Fatal(err)
			}
			if other == got {
				t.Errorf("two different programs share the identity %q", got)
			}
		})
	}
}

// TestFileWithoutBuildID falls back to the hash of the whole file.
func TestFileWithoutBuildID(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	exe := build(t, "linux", "a", "-buildid=")
	got, err := File(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+64 {
		t.Errorf("File = %q, want a sha256 of the file", got)
	}
	// Not an executable at all: still an identity, from the content.
	text := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := File(text); err != nil || !strings.HasPrefix(got, "sha256:") {
		t.Errorf("File(script) = %q, %v", got, err)
	}
	if _, err := File(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("File(missing) succeeded")
	}
}

// TestSelf identifies the test binary itself.
func TestSelf(t *testing.T) {
	id, err := Self()
	if err != nil || !strings.HasPrefix(id, "go:") {
		t.Errorf("Self = %q, %v", id, err)
	}
}

// FuzzFramed never panics on arbitrary executable heads.
func FuzzFramed(f *testing.F) {
	f.Add([]byte("\xff Go build ID: \"abc/def\"\n \xff"))
	f.Add([]byte("\xff Go build ID: \""))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = framed(b)
		_ = elfNote(strings.NewReader(string(b)))
	})
}
