package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"empty", "", ""},
		{"full", "stages: [deps]\nskip: [vendor/**]\noutput: [json=r.json]\npolicies:\n  - path: builtin:default\n    enforce: warn\n    params: {severities: [CRITICAL]}\n", ""},
		{"unknown key", "stagez: [deps]\n", "field stagez not found"},
		{"bad enforce", "policies:\n  - path: x.wasm\n    enforce: maybe\n", "enforce must be deny or warn"},
		{"no path", "policies:\n  - enforce: warn\n", "path is required"},
		{"not yaml", "stages: [\n", "shipgate.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("shipgate.yaml", []byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c == nil {
					t.Fatal("nil config")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	c, _, err := Find(dir)
	if err != nil || len(c.Stages) != 0 {
		t.Fatalf("missing file: %v %+v", err, c)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("stages: [code]\n"), 0o644)
	c, _, err = Find(dir)
	if err != nil || len(c.Stages) != 1 {
		t.Fatalf("present file: %v %+v", err, c)
	}
}
