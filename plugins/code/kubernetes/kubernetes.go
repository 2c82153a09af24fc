// Package kubernetes checks Kubernetes manifests for insecure workload and
// RBAC configuration.
//
// Input: multi-document YAML decoded with go.yaml.in/yaml/v3 into nodes, so
// every finding points at the exact line and column of the offending field
// (or of the container/pod spec when a required field is missing). Workloads
// checked (pod template paths of apps/v1, batch/v1 and v1): Pod (spec),
// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController and
// Job (spec.template.spec) and CronJob (spec.jobTemplate.spec.template.spec),
// with their containers and initContainers (ephemeralContainers for the
// security rules only). RBAC: Role and ClusterRole rules.
//
// Which files: FileRequired claims *.yaml and *.yml except CI files
// (.github/workflows/, .gitlab-ci.yml, *.gitlab-ci.yml: the workflows
// analyzer's) and files inside a Helm chart's templates/ directory; Analyze
// returns no findings for YAML without both `apiVersion:` and `kind:`, and
// for files containing `{{` (Helm or other Go templates are not valid
// manifests before rendering; render them and scan the output instead).
//
// Security contexts are resolved like the kubelet does: runAsNonRoot,
// runAsUser and seccompProfile of the container override the pod's.
package kubernetes

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/code/internal/yamlx"
	"github.com/shipgate/shipgate/plugins/code/rules"
	"github.com/shipgate/shipgate/plugins/code/secrets"
)

// Name is the analyzer's id.
const Name = "kubernetes"

// MaxSize is the largest manifest file analysed (bytes).
const MaxSize = 8 << 20

// Analyzer checks Kubernetes manifests.
type Analyzer struct {
	det func() (secrets.Detector, error)
}

// New returns the Kubernetes analyzer with the default secrets detector.
func New() *Analyzer { return &Analyzer{det: secrets.Default} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageCode }

// FileRequired claims *.yaml and *.yml files outside CI configuration and
// Helm templates.
func (*Analyzer) FileRequired(path string, info fs.FileInfo) bool {
	lp := strings.ToLower(path)
	if !strings.HasSuffix(lp, ".yaml") && !strings.HasSuffix(lp, ".yml") {
		return false
	}
	if info != nil && info.Size() > MaxSize {
		return false
	}
	if strings.HasPrefix(lp, ".github/") || strings.Contains(lp, "/.github/") || strings.HasSuffix(lp, "gitlab-ci.yml") || strings.HasSuffix(lp, "gitlab-ci.yaml") {
		return false
	}
	if strings.HasPrefix(lp, "templates/") || strings.Contains(lp, "/templates/") {
		return false // Helm chart templates
	}
	return true
}

// workloadPaths are the pod spec paths per kind.
var workloadPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

type check struct {
	path  string
	det   secrets.Detector
	dedup rules.Dedup
	out   []report.Finding
	// obj names the current object for messages and fingerprints.
	obj string
}

func (c *check) add(id string, n *yaml.Node, field, msg, snippet string) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	stable := c.obj + "|" + field
	c.out = append(c.out, ruleIndex[id].Finding(Name, c.path, line, col, c.obj+": "+msg, snippet, c.dedup.Key(id, stable)))
}

// Analyze implements plugins.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	data, err := in.ReadAll(MaxSize + 1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	res := &plugins.Result{}
	if len(data) > MaxSize {
		return nil, plugins.Errorf(in.Path, 0, "file larger than %d bytes", MaxSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !bytes.Contains(data, []byte("apiVersion")) || !bytes.Contains(data, []byte("kind")) || bytes.Contains(data, []byte("{{")) || secrets.IsBinary(data) {
		return res, nil
	}
	docs, derr := yamlx.Decode(bytes.NewReader(data))
	det, _ := a.det()
	c := &check{path: in.Path, det: det, dedup: rules.Dedup{}}
	for i, d := range docs {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		c.document(d.Root, i)
	}
	res.Findings = c.out
	if derr != nil {
		perr := &plugins.ParseError{Path: in.Path, Line: yamlx.ErrorLine(derr), Err: fmt.Errorf("parse YAML: %w", derr)}
		if len(docs) == 0 {
			return nil, perr
		}
		// Documents before the broken one were checked.
		res.Errors = append(res.Errors, report.FileError{Path: in.Path, Line: perr.Line, Message: perr.Err.Error()})
	}
	return res, nil
}

func (c *check) document(root *yaml.Node, index int) {
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	kind := yamlx.Str(root, "kind")
	if kind == "List" {
		for i, item := range yamlx.Items(yamlx.Get(root, "items")) {
			c.document(item, index*1000+i)
		}
		return
	}
	name := yamlx.Str(root, "metadata", "name")
	if name == "" {
		name = "#" + strconv.Itoa(index+1)
	}
	ns := yamlx.Str(root, "metadata", "namespace")
	c.obj = kind + "/" + name
	if ns != "" {
		c.obj = ns + "/" + c.obj
	}
	if p, ok := workloadPaths[kind]; ok {
		if spec := yamlx.Get(root, p...); spec != nil {
			c.podSpec(spec, root)
		}
		return
	}
	if kind == "Role" || kind == "ClusterRole" {
		c.rbac(root)
	}
}

func (c *check) podSpec(spec, root *yaml.Node) {
	for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if v, set := yamlx.Bool(spec, f); set && v {
			k, _ := yamlx.Field(spec, f)
			c.add(RuleHostNamespace, k, f, f+" is true", f+": true")
		}
	}
	for _, vol := range yamlx.Items(yamlx.Get(spec, "volumes")) {
		if k, v := yamlx.Field(vol, "hostPath"); v != nil {
			p := yamlx.Str(v, "path")
			c.add(RuleHostPath, k, "volumes."+yamlx.Str(vol, "name"), fmt.Sprintf("volume %s mounts host path %s", yamlx.Str(vol, "name"), p), "hostPath: "+p)
		}
	}
	if v, set := yamlx.Bool(spec, "automountServiceAccountToken"); !set || v {
		n := spec
		if k, _ := yamlx.Field(spec, "automountServiceAccountToken"); k != nil {
			n = k
		}
		c.add(RuleAutomountToken, n, "automountServiceAccountToken", "automountServiceAccountToken is not false", "automountServiceAccountToken")
	}
	podSC := yamlx.Get(spec, "securityContext")
	for _, group := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, ctr := range yamlx.Items(yamlx.Get(spec, group)) {
			c.container(ctr, podSC, group)
		}
	}
}

// dangerousCaps are capabilities that allow escaping the container.
var dangerousCaps = map[string]bool{
	"ALL": true, "SYS_ADMIN": true, "NET_ADMIN": true, "SYS_PTRACE": true, "SYS_MODULE": true, "SYS_RAWIO": true,
	"SYS_BOOT": true, "DAC_READ_SEARCH": true, "BPF": true, "PERFMON": true, "SYS_TIME": true, "MAC_ADMIN": true,
}

func (c *check) container(ctr, podSC *yaml.Node, group string) {
	name := yamlx.Str(ctr, "name")
	field := group + "." + name
	where := "container " + name
	nameKey, _ := yamlx.Field(ctr, "name")
	anchor := ctr
	if nameKey != nil {
		anchor = nameKey
	}
	sc := yamlx.Get(ctr, "securityContext")

	if v, set := yamlx.Bool(sc, "privileged"); set && v {
		k, _ := yamlx.Field(sc, "privileged")
		c.add(RulePrivileged, k, field+".privileged", where+" is privileged", "privileged: true")
	}
	if v, set := yamlx.Bool(sc, "allowPrivilegeEscalation"); !set || v {
		n := anchor
		if k, _ := yamlx.Field(sc, "allowPrivilegeEscalation"); k != nil {
			n = k
		}
		c.add(RulePrivEscalation, n, field+".allowPrivilegeEscalation", where+" does not set allowPrivilegeEscalation: false", "allowPrivilegeEscalation")
	}
	// runAsUser 0 or runAsNonRoot missing (container overrides pod).
	uidNode, uidKey := yamlx.Get(sc, "runAsUser"), (*yaml.Node)(nil)
	if uidNode != nil {
		uidKey, _ = yamlx.Field(sc, "runAsUser")
	} else if uidNode = yamlx.Get(podSC, "runAsUser"); uidNode != nil {
		uidKey, _ = yamlx.Field(podSC, "runAsUser")
	}
	nonRoot, nrSet := yamlx.Bool(sc, "runAsNonRoot")
	if !nrSet {
		nonRoot, nrSet = yamlx.Bool(podSC, "runAsNonRoot")
	}
	switch {
	case uidNode != nil && uidNode.Value == "0":
		c.add(RuleRunAsRoot, uidKey, field+".runAsUser", where+" runs as UID 0", "runAsUser: 0")
	case !(nrSet && nonRoot) && !(uidNode != nil && uidNode.Value != "" && uidNode.Value != "0"):
		c.add(RuleRunAsRoot, anchor, field+".runAsNonRoot", where+" does not set runAsNonRoot: true nor a non-zero runAsUser", "runAsNonRoot")
	}
	// seccomp: container, then pod.
	st := yamlx.Str(sc, "seccompProfile", "type")
	if st == "" {
		st = yamlx.Str(podSC, "seccompProfile", "type")
	}
	if st != "RuntimeDefault" && st != "Localhost" {
		n := anchor
		if k, _ := yamlx.Field(yamlx.Get(sc, "seccompProfile"), "type"); k != nil {
			n = k
		}
		msg := where + " has no seccompProfile RuntimeDefault"
		if st != "" {
			msg = where + " uses seccompProfile " + st
		}
		c.add(RuleSeccomp, n, field+".seccompProfile", msg, "seccompProfile")
	}
	caps := yamlx.Get(sc, "capabilities")
	droppedAll := false
	for _, d := range yamlx.Items(yamlx.Get(caps, "drop")) {
		if strings.EqualFold(d.Value, "ALL") {
			droppedAll = true
		}
	}
	if !droppedAll {
		c.add(RuleCapsNotDropped, anchor, field+".capabilities.drop", where+" does not drop ALL capabilities", "capabilities.drop")
	}
	for _, a := range yamlx.Items(yamlx.Get(caps, "add")) {
		cp := strings.TrimPrefix(strings.ToUpper(a.Value), "CAP_")
		if dangerousCaps[cp] {
			c.add(RuleDangerousCaps, a, field+".capabilities.add."+cp, where+" adds capability "+cp, "capabilities.add: "+cp)
		}
	}
	if v, set := yamlx.Bool(sc, "readOnlyRootFilesystem"); !set || !v {
		n := anchor
		if k, _ := yamlx.Field(sc, "readOnlyRootFilesystem"); k != nil {
			n = k
		}
		c.add(RuleReadOnlyRootFS, n, field+".readOnlyRootFilesystem", where+" does not set readOnlyRootFilesystem: true", "readOnlyRootFilesystem")
	}
	if k, img := yamlx.Field(ctr, "image"); img != nil && img.Kind == yaml.ScalarNode {
		if tag, ok := latest(img.Value); ok {
			c.add(RuleImageLatest, img, field+".image", fmt.Sprintf("%s image %s %s", where, img.Value, tag), "image: "+img.Value)
		}
		_ = k
	}
	if group != "ephemeralContainers" {
		var missing []string
		res := yamlx.Get(ctr, "resources")
		for _, kind := range []string{"requests", "limits"} {
			for _, r := range []string{"cpu", "memory"} {
				if yamlx.Get(res, kind, r) == nil {
					missing = append(missing, kind+"."+r)
				}
			}
		}
		if len(missing) > 0 {
			n := anchor
			if k, _ := yamlx.Field(ctr, "resources"); k != nil {
				n = k
			}
			c.add(RuleResources, n, field+".resources", where+" has no resources "+strings.Join(missing, ", "), "resources")
		}
	}
	for _, env := range yamlx.Items(yamlx.Get(ctr, "env")) {
		c.env(env, where, field)
	}
}

// latest reports whether an image reference has no tag or the latest tag
// (and no digest).
func latest(ref string) (string, bool) {
	if strings.Contains(ref, "@") || ref == "" || strings.Contains(ref, "$") {
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

func (c *check) env(env *yaml.Node, where, field string) {
	name := yamlx.Str(env, "name")
	_, v := yamlx.Field(env, "value")
	if v == nil || v.Kind != yaml.ScalarNode {
		return
	}
	if c.det != nil {
		if ms := c.det.Detect(context.Background(), c.path, v.Value); len(ms) > 0 {
			m := ms[0]
			c.add(RuleSecretEnv, v, field+".env."+name+":"+m.SHA256, fmt.Sprintf("%s env %s holds a secret (%s): %s", where, name, m.RuleID, m.Redacted), name+"="+m.Redacted)
			return
		}
	}
	if secrets.LooksSecretName(name) && secrets.LiteralValue(v.Value) {
		red := secrets.Redact(v.Value)
		c.add(RuleSecretEnv, v, field+".env."+name+":"+rules.Fingerprint(v.Value), fmt.Sprintf("%s env %s has a literal value %s", where, name, red), name+"="+red)
	}
}

func (c *check) rbac(root *yaml.Node) {
	for i, r := range yamlx.Items(yamlx.Get(root, "rules")) {
		for _, f := range []string{"verbs", "resources"} {
			for _, item := range yamlx.Items(yamlx.Get(r, f)) {
				if item.Value == "*" {
					c.add(RuleRBACWildcard, item, fmt.Sprintf("rules.%d.%s", i, f), fmt.Sprintf("rule %d grants * in %s", i+1, f), f+": ['*']")
				}
			}
		}
	}
}
