package jsontok

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLineIndex(t *testing.T) {
	l := NewLineIndex([]byte("a\nb\nc\n"))
	for _, tc := range []struct {
		off  int64
		want int
	}{{0, 1}, {2, 2}, {5, 3}, {1, 1}, {99, 4}, {-3, 1}} {
		if got := l.At(tc.off); got != tc.want {
			t.Errorf("At(%d) = %d, want %d", tc.off, got, tc.want)
		}
	}
}

func TestTokens(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"k": [1], "s": 2`))
	if err := Delim(dec, '{'); err != nil {
		t.Fatal(err)
	}
	if s, err := Str(dec); err != nil || s != "k" {
		t.Fatalf("%q %v", s, err)
	}
	if err := Skip(dec); err != nil {
		t.Fatal(err)
	}
	if _, err := Str(dec); err != nil {
		t.Fatal(err)
	}
	if err := Delim(dec, '['); err == nil {
		t.Error("a number accepted as '['")
	}
	if err := Delim(dec, '}'); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated document: %v", err)
	}
}
