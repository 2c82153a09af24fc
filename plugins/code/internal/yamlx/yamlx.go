// Package yamlx holds small helpers over go.yaml.in/yaml/v3 nodes shared by
// the Kubernetes and CI analyzers: field lookup that follows aliases, scalar
// access, and multi-document decoding with error lines.
package yamlx

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Resolve follows alias nodes and unwraps document nodes.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 16; i++ {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return n
}

// Field returns the key and value nodes of key in mapping m (nil, nil when
// m is not a mapping or has no such key). Merge keys (<<) are not expanded.
func Field(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], Resolve(m.Content[i+1])
		}
	}
	return nil, nil
}

// Get returns the value node at the path of keys below m, or nil.
func Get(m *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		_, m = Field(m, p)
		if m == nil {
			return nil
		}
	}
	return m
}

// Str returns the scalar value at path below m ("" when absent or not a
// scalar).
func Str(m *yaml.Node, path ...string) string {
	n := Get(m, path...)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Bool returns the boolean at path below m and whether it is set to a
// boolean.
func Bool(m *yaml.Node, path ...string) (value, set bool) {
	n := Get(m, path...)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false, false
	}
	b, err := strconv.ParseBool(n.Value)
	if err != nil {
		return false, false
	}
	return b, true
}

// Items returns the elements of a sequence node (nil otherwise).
func Items(n *yaml.Node) []*yaml.Node {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, Resolve(c))
	}
	return out
}

// Pairs calls fn for each key/value of a mapping node.
func Pairs(m *yaml.Node, fn func(k, v *yaml.Node)) {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		fn(m.Content[i], Resolve(m.Content[i+1]))
	}
}

// Document is one decoded YAML document.
type Document struct {
	// Root is the document's top node (nil for an empty document).
	Root *yaml.Node
}

var lineRe = regexp.MustCompile(`line (\d+)`)

// ErrorLine extracts the line number from a yaml error message (0 when
// none).
func ErrorLine(err error) int {
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// Decode decodes every document of a multi-document stream. On a syntax
// error it returns the documents decoded so far and the error (with the
// line in ErrorLine). yaml.v3 cannot resume after a syntax error.
func Decode(r io.Reader) ([]Document, error) {
	dec := yaml.NewDecoder(r)
	var docs []Document
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, fmt.Errorf("document %d: %w", i+1, err)
		}
		docs = append(docs, Document{Root: Resolve(&n)})
	}
}

// Path joins YAML path segments for messages and fingerprints.
func Path(parts ...string) string { return strings.Join(parts, ".") }
