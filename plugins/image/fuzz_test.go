package image

import (
	"bytes"
	"context"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipgate/shipgate/fixtures/images"
)

// tarLayer serves an uncompressed tar as a layer, so that the fuzzer's
// bytes reach the tar reader directly.
type tarLayer struct{ data []byte }

func (l tarLayer) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(l.data))
	return h, err
}
func (l tarLayer) DiffID() (v1.Hash, error) { return l.Digest() }
func (l tarLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.data)), nil
}
func (l tarLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }
func (l tarLayer) Size() (int64, error)                 { return int64(len(l.data)), nil }
func (l tarLayer) MediaType() (types.MediaType, error)  { return types.DockerUncompressedLayer, nil }

// FuzzScanLayer: any layer bytes give a result or an error, never a panic,
// and nothing escapes the temporary directory.
func FuzzScanLayer(f *testing.F) {
	f.Add(images.Tar(f, images.File("etc/os-release", osRelease), images.File("var/lib/dpkg/status", status2)))
	f.Add(images.Tar(f, images.Whiteout("srv/gone"), images.Opaque("opt"), images.File("../../x", "y")))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp := t.TempDir()
		d, _ := tarLayer{data}.DiffID()
		_, _ = scanLayer(context.Background(), tarLayer{data}, d, analyzers(), Options{TempDir: tmp, MaxFileSize: 1 << 20, MaxLayerBytes: 64 << 20, MaxRatio: 1000})
	})
}
