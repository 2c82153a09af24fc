package gemlock

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
)

var (
	// gemRe matches a gem declaration and captures its name.
	gemRe = regexp.MustCompile(`^gem[\s(]+["']([^"']+)["']`)
	// groupRe matches the opening line of a group block.
	groupRe = regexp.MustCompile(`^group\b(.*?)\bdo\b`)
	// groupOptRe matches a group: / groups: / :group => option.
	groupOptRe = regexp.MustCompile(`(?:\bgroups?:|:groups?\s*=>)\s*(\[[^\]]*\]|:\w+|["'][^"']*["'])`)
	// symbolRe matches a group name given as a symbol or a string.
	symbolRe = regexp.MustCompile(`(?:^|[\s,(\[]):(\w+)|["'](\w+)["']`)
	// doRe matches a line that opens a block with do.
	doRe = regexp.MustCompile(`\bdo\s*(\|[^|]*\|)?\s*$`)
	// openerRe matches a line that opens a block with a keyword.
	openerRe = regexp.MustCompile(`^(if|unless|case|while|until|begin)\b`)
)

// devGroups are the Bundler groups whose gems are development-only.
var devGroups = map[string]bool{"development": true, "test": true}

// readGemfile reads the Gemfile at name and returns, for each gem it
// declares, whether it is dev (declared only in development/test groups).
// It returns nil, nil when there is no such file.
func readGemfile(fsys fs.FS, name string) (map[string]bool, error) {
	if fsys == nil {
		return nil, nil
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	out := map[string]bool{}
	var stack [][]string // groups of each open block (nil: not a group block)
	sc := bufio.NewScanner(io.LimitReader(f, maxGemfile))
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		line := strings.TrimSpace(stripComment(sc.Text()))
		switch {
		case line == "":
		case line == "end" || strings.HasPrefix(line, "end ") || strings.HasPrefix(line, "end)") || strings.HasPrefix(line, "end."):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case groupRe.MatchString(line):
			stack = append(stack, symbols(groupRe.FindStringSubmatch(line)[1]))
		case doRe.MatchString(line) || openerRe.MatchString(line):
			stack = append(stack, nil)
		case gemRe.MatchString(line):
			gem := gemRe.FindStringSubmatch(line)[1]
			var groups []string
			if m := groupOptRe.FindStringSubmatch(line); m != nil {
				groups = symbols(m[1])
			} else {
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] != nil {
						groups = stack[i]
						break
					}
				}
			}
			dev := len(groups) > 0
			for _, g := range groups {
				dev = dev && devGroups[g]
			}
			if prev, ok := out[gem]; ok {
				dev = dev && prev
			}
			out[gem] = dev
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// symbols returns the group names in s (":a, :b", "[:a, 'b']").
func symbols(s string) []string {
	var out []string
	for _, m := range symbolRe.FindAllStringSubmatch(s, -1) {
		if m[1] != "" {
			out = append(out, m[1])
		} else {
			out = append(out, m[2])
		}
	}
	return out
}

// stripComment removes a trailing # comment outside quotes.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}
