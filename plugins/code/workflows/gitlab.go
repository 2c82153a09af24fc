package workflows

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/internal/shell"
	"github.com/shipgate/shipgate/plugins/code/internal/yamlx"
)

// gitlabReserved are top-level keys that are not jobs.
var gitlabReserved = map[string]bool{
	"stages": true, "variables": true, "include": true, "workflow": true, "spec": true, "services": true,
	"cache": true, "before_script": true, "after_script": true, "image": true, "default": true,
}

var inputsExpr = regexp.MustCompile(`\$\[\[\s*inputs\.[^\]]*\]\]`)

func (c *check) gitlab(ctx context.Context, data []byte) ([]report.FileError, error) {
	docs, derr := yamlx.Decode(bytes.NewReader(data))
	if derr != nil && len(docs) == 0 {
		return nil, &plugins.ParseError{Path: c.path, Line: yamlx.ErrorLine(derr), Err: fmt.Errorf("parse GitLab CI: %w", derr)}
	}
	for _, d := range docs {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		root := d.Root
		if root == nil || root.Kind != yaml.MappingNode {
			continue
		}
		// A CI/CD component's header document holds only spec:.
		if _, spec := yamlx.Field(root, "spec"); spec != nil && len(root.Content) == 2 {
			continue
		}
		c.gitlabJob(root, "(top level)")
		if _, def := yamlx.Field(root, "default"); def != nil {
			c.gitlabJob(def, "default")
		}
		yamlx.Pairs(root, func(k, v *yaml.Node) {
			if gitlabReserved[k.Value] || v == nil || v.Kind != yaml.MappingNode {
				return
			}
			c.gitlabJob(v, k.Value)
		})
	}
	if derr != nil {
		return []report.FileError{{Path: c.path, Line: yamlx.ErrorLine(derr), Message: derr.Error()}}, nil
	}
	return nil, nil
}

// gitlabJob checks the image and scripts of a job (or of default / the top
// level, whose image and scripts are inherited).
func (c *check) gitlabJob(job *yaml.Node, name string) {
	if _, img := yamlx.Field(job, "image"); img != nil {
		n := img
		if img.Kind == yaml.MappingNode {
			_, n = yamlx.Field(img, "name")
		}
		if n != nil && n.Kind == yaml.ScalarNode {
			if what, ok := imageLatest(n.Value); ok {
				c.add(RuleGitlabImage, "", n.Line, n.Column, fmt.Sprintf("job %s image %s %s", name, n.Value, what), "image: "+n.Value, name+"|"+n.Value)
			}
		}
	}
	for _, key := range []string{"before_script", "script", "after_script"} {
		_, v := yamlx.Field(job, key)
		if v == nil {
			continue
		}
		for _, s := range scalars(v) {
			c.gitlabScript(s, name, key)
		}
	}
}

// scalars flattens a script value: a string, or a list of strings and
// nested lists (GitLab allows nesting from !reference). Nesting is followed
// two levels deep only: aliases could otherwise make the walk exponential.
func scalars(n *yaml.Node) []*yaml.Node { return scalarsDepth(n, 0) }

func scalarsDepth(n *yaml.Node, depth int) []*yaml.Node {
	n = yamlx.Resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			c = yamlx.Resolve(c)
			if c == nil {
				continue
			}
			if c.Kind == yaml.ScalarNode {
				out = append(out, c)
			} else if c.Kind == yaml.SequenceNode && depth < 2 {
				out = append(out, scalarsDepth(c, depth+1)...)
			}
		}
		return out
	}
	return nil
}

func (c *check) gitlabScript(n *yaml.Node, job, key string) {
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	script := n.Value
	for _, loc := range inputsExpr.FindAllStringIndex(script, -1) {
		expr := script[loc[0]:loc[1]]
		l, col := c.scriptPos(n.Line, n.Column, quoted, script, loc[0])
		c.add(RuleGitlabInjection, "", l, col, fmt.Sprintf("%s is interpolated into the %s of job %s", expr, key, job), expr, job+"|"+key+"|"+expr)
	}
	sc, err := shell.Parse(shell.MaskExpressions(script))
	if err != nil {
		return
	}
	for _, p := range sc.DownloadPipes() {
		l, col := c.scriptPos(n.Line, n.Column, quoted, script, lineOffset(script, p.Line, p.Col))
		c.add(RuleGitlabCurlPipe, "", l, col, fmt.Sprintf("%s output is piped into %s in job %s", p.Downloader, p.Shell, job), p.Downloader+" | "+p.Shell, job+"|"+key+"|"+p.Downloader+"|"+p.Shell)
	}
}

// imageLatest reports whether an image reference has no tag or latest (and
// no digest). References built from variables are not judged.
func imageLatest(ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.Contains(ref, "$") || strings.Contains(ref, "@") {
		return "", false
	}
	i := strings.LastIndexByte(ref, ':')
	if i <= strings.LastIndexByte(ref, '/') {
		return "has no tag", true
	}
	if ref[i+1:] == "latest" {
		return "uses the latest tag", true
	}
	return "", false
}
