// Package jsontok holds the small helpers the streaming JSON lockfile
// readers share: token expectations over a json.Decoder and a line index
// that turns the decoder's byte offsets into 1-based line numbers.
package jsontok

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// LineIndex turns byte offsets into 1-based line numbers of Data. It is
// cheapest when offsets increase between calls; a smaller offset restarts
// the count.
type LineIndex struct {
	Data []byte
	off  int64
	line int
}

// NewLineIndex returns an index over data.
func NewLineIndex(data []byte) *LineIndex { return &LineIndex{Data: data, line: 1} }

// At returns the line of byte offset off.
func (l *LineIndex) At(off int64) int {
	off = min(max(off, 0), int64(len(l.Data)))
	if off < l.off {
		l.off, l.line = 0, 1
	}
	if off > l.off {
		l.line += bytes.Count(l.Data[l.off:off], []byte{'\n'})
		l.off = off
	}
	return l.line
}

// ErrLine returns the line of a decoding error of dec.
func (l *LineIndex) ErrLine(dec *json.Decoder, err error) int {
	off := dec.InputOffset()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	return l.At(off)
}

// Delim reads the next token and requires it to be want.
func Delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return UnexpectedEOF(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

// Str reads the next token and requires a string.
func Str(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", UnexpectedEOF(err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, found %v", tok)
	}
	return s, nil
}

// Skip reads and discards the next value.
func Skip(dec *json.Decoder) error {
	var raw json.RawMessage
	return UnexpectedEOF(dec.Decode(&raw))
}

// UnexpectedEOF turns io.EOF in the middle of a document into
// io.ErrUnexpectedEOF.
func UnexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
