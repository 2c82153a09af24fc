package image

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// endless yields zero bytes forever.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// failing yields n bytes, then err.
type failing struct {
	n   int
	err error
}

func (f *failing) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestReadAhead(t *testing.T) {
	t.Run("content and EOF in order", func(t *testing.T) {
		want := bytes.Repeat([]byte("shipgate"), 3*readAheadChunk/8+13)
		closed := false
		rc := readAhead(bytes.NewReader(want), func() error { closed = true; return nil })
		got, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
		if err := rc.Close(); err != nil || !closed {
			t.Fatalf("close: %v, source closed %v", err, closed)
		}
	})
	t.Run("a decompression error reaches the consumer after the data before it", func(t *testing.T) {
		boom := errors.New("flate: corrupt input")
		rc := readAhead(&failing{n: readAheadChunk + 100, err: boom}, func() error { return nil })
		defer rc.Close()
		got, err := io.ReadAll(rc)
		if !errors.Is(err, boom) || len(got) != readAheadChunk+100 {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
	})
	t.Run("closing early stops the goroutine", func(t *testing.T) {
		rc := readAhead(endless{}, func() error { return nil })
		if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- rc.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return: the read-ahead goroutine is stuck")
		}
	})
}
