// Package config reads shipgate.yaml, the per-repository configuration that
// sets the same things as the command-line flags (flags win).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// FileName is the configuration file looked up in the scanned root.
const FileName = "shipgate.yaml"

// Config is the content of shipgate.yaml. Every field mirrors a flag.
type Config struct {
	// Stages to run (code, deps, image).
	Stages []string `yaml:"stages"`
	// Skip holds path globs to leave out.
	Skip []string `yaml:"skip"`
	// Output holds FORMAT[=FILE] entries, like -o.
	Output []string `yaml:"output"`
	// Quiet turns off progress and informational messages.
	Quiet bool `yaml:"quiet"`
	// Debug turns on debug logging.
	Debug bool `yaml:"debug"`
	// Strict makes analysis errors fatal (exit 2).
	Strict bool `yaml:"strict"`
	// Severity limits what the table shows.
	Severity []string `yaml:"severity"`
	// SpecVersion is the CycloneDX spec version.
	SpecVersion string `yaml:"specVersion"`
	// Image is an image reference to scan.
	Image string `yaml:"image"`
	// DB configures the vulnerability database.
	DB DB `yaml:"db"`
	// VEX lists VEX documents to apply.
	VEX []string `yaml:"vex"`
	// Baseline is a previous report to mark findings new or existing.
	Baseline string `yaml:"baseline"`
	// Policies configures the policies that decide the gate.
	Policies []Policy `yaml:"policies"`
	// PolicyTimeout bounds each policy's evaluation, e.g. "10s".
	PolicyTimeout string `yaml:"policyTimeout"`
	// PolicyMemory bounds each policy's memory, e.g. "256MiB".
	PolicyMemory string `yaml:"policyMemory"`
	// GosecMode is how Go code is analysed: auto, full or syntax.
	GosecMode string `yaml:"gosecMode"`
}

// DB configures the vulnerability database.
type DB struct {
	Dir          string   `yaml:"dir"`
	Repositories []string `yaml:"repositories"`
	SkipUpdate   bool     `yaml:"skipUpdate"`
	Offline      bool     `yaml:"offline"`
	MaxAge       string   `yaml:"maxAge"`
}

// Policy is one policy to run.
type Policy struct {
	// Path is a file, builtin:NAME or oci://REF.
	Path string `yaml:"path"`
	// Params are passed to the policy as policy.params.
	Params map[string]any `yaml:"params"`
	// Enforce is deny (default: a deny fails the gate) or warn.
	Enforce string `yaml:"enforce"`
}

// Load reads the configuration file at path. A missing file is not an error
// when optional is true.
func Load(path string, optional bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, os.ErrNotExist) {
			return &Config{}, nil
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Find loads shipgate.yaml from dir, if present.
func Find(dir string) (*Config, string, error) {
	p := filepath.Join(dir, FileName)
	c, err := Load(p, true)
	if err != nil {
		return nil, p, err
	}
	return c, p, nil
}

// Parse decodes a configuration document; unknown keys are errors, so that
// a typo does not silently change nothing.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	for i, p := range c.Policies {
		if p.Path == "" {
			return nil, fmt.Errorf("parse %s: policies[%d]: path is required", name, i)
		}
		switch p.Enforce {
		case "", "deny", "warn":
		default:
			return nil, fmt.Errorf("parse %s: policies[%d]: enforce must be deny or warn, not %q", name, i, p.Enforce)
		}
	}
	return c, nil
}
