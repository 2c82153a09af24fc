package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// instrumentVersion names the rewrite instrument does. Instrumented modules
// are cached on disk under it, beside the compilation cache: rewriting a
// 3 MB Go policy takes about 100 ms, half of a cached load.
// TestInstrumentVersion fails when instrument.go changes and this does not.
const instrumentVersion = 2

// instrumented returns wasm (whose digest is "sha256:<hex>") rewritten by
// instrument, from the disk cache when the engine has one.
func (e *Engine) instrumented(wasm []byte, digest string) ([]byte, error) {
	if e.opts.CacheDir == "" {
		return instrument(wasm)
	}
	path := filepath.Join(e.opts.CacheDir, "instrumented", fmt.Sprintf("v%d-%s.wasm", instrumentVersion, strings.TrimPrefix(digest, "sha256:")))
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	}
	out, err := instrument(wasm)
	if err != nil {
		return nil, err
	}
	// Best effort: a cache that cannot be written only costs time.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		if tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*"); err == nil {
			_, werr := tmp.Write(out)
			cerr := tmp.Close()
			if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
				_ = os.Remove(tmp.Name())
			}
		}
	}
	return out, nil
}
