package sast

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/treesitter"
)

func inputOf(path, src string) *plugins.Input {
	return &plugins.Input{Path: path, Reader: strings.NewReader(src)}
}

// testEngine is one tree-sitter engine for the whole test binary: compiling
// the 4 MB module takes ~0.4 s, too much to repeat per analyzer.
var testEngine *treesitter.Engine

func TestMain(m *testing.M) {
	var err error
	testEngine, err = treesitter.New(context.Background(), treesitter.Config{MaxSourceSize: DefaultMaxSize})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = testEngine.Close(context.Background())
	os.Exit(code)
}

// testNew is New on the shared test engine.
func testNew(extra ...[]Rule) *Analyzer {
	var all []Rule
	for _, rs := range extra {
		all = append(all, rs...)
	}
	return testNewWith(Options{Rules: all})
}

// testNewWith is NewWith on the shared test engine.
func testNewWith(opts Options) *Analyzer {
	if opts.TreeSitter == nil {
		opts.TreeSitter = testEngine
	}
	return NewWith(opts)
}
