package image

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// cacheFormat changes whenever layerResult's meaning changes.
const cacheFormat = "shipgate-layer-v1"

// layerCache stores layer results as JSON files named by diffID. Writes go
// through a temporary file and a rename, so concurrent scans never read
// half a file; any unreadable entry is a miss.
type layerCache struct{ dir string }

func (c layerCache) file(diffID string) string {
	return filepath.Join(c.dir, "layers", strings.ReplaceAll(diffID, ":", "-")+".json")
}

func (c layerCache) get(diffID, key string) *layerResult {
	if c.dir == "" {
		return nil
	}
	b, err := os.ReadFile(c.file(diffID))
	if err != nil {
		return nil
	}
	var r layerResult
	if json.Unmarshal(b, &r) != nil || r.Key != key || r.DiffID != diffID {
		return nil
	}
	return &r
}

func (c layerCache) put(r *layerResult) {
	if c.dir == "" {
		return
	}
	dir := filepath.Join(c.dir, "layers")
	if os.MkdirAll(dir, 0o755) != nil {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), c.file(r.DiffID)) != nil {
		os.Remove(f.Name())
	}
}
