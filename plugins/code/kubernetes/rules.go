package kubernetes

import (
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// Rule ids.
const (
	RulePrivileged     = "k8s-privileged"
	RulePrivEscalation = "k8s-allow-privilege-escalation"
	RuleRunAsRoot      = "k8s-run-as-root"
	RuleResources      = "k8s-missing-resources"
	RuleSeccomp        = "k8s-no-seccomp"
	RuleCapsNotDropped = "k8s-capabilities-not-dropped"
	RuleDangerousCaps  = "k8s-dangerous-capabilities"
	RuleHostNamespace  = "k8s-host-namespace"
	RuleHostPath       = "k8s-hostpath-volume"
	RuleReadOnlyRootFS = "k8s-writable-root-filesystem"
	RuleImageLatest    = "k8s-image-latest"
	RuleAutomountToken = "k8s-automount-service-account-token"
	RuleSecretEnv      = "k8s-secret-in-env"
	RuleRBACWildcard   = "k8s-rbac-wildcard"
)

var ruleList = []rules.Rule{
	{ID: RulePrivileged, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-250"},
		References: []string{"KSV017", "kube-score:container-security-context-privileged", "polaris:runAsPrivileged"},
		Title:      "Privileged container",
		Help:       "securityContext.privileged: true gives the container all host devices and capabilities; a compromise is a node compromise. Remove it."},
	{ID: RulePrivEscalation, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-269"},
		References: []string{"KSV001", "polaris:privilegeEscalationAllowed"},
		Title:      "allowPrivilegeEscalation not false",
		Help:       "Set securityContext.allowPrivilegeEscalation: false so that setuid binaries cannot gain more privileges than the process has."},
	{ID: RuleRunAsRoot, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-250"},
		References: []string{"KSV012", "KSV020", "KSV105", "kube-score:container-security-context-user-group-id", "polaris:runAsRootAllowed"},
		Title:      "Container may run as root",
		Help:       "Set runAsNonRoot: true (pod or container securityContext) and a non-zero runAsUser."},
	{ID: RuleResources, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-770"},
		References: []string{"KSV011", "KSV015", "KSV016", "KSV018", "kube-score:container-resources", "polaris:cpuLimitsMissing", "polaris:memoryLimitsMissing", "polaris:cpuRequestsMissing", "polaris:memoryRequestsMissing"},
		Title:      "Missing resource limits or requests",
		Help:       "Set resources.requests and resources.limits for cpu and memory so that one container cannot starve the node."},
	{ID: RuleSeccomp, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-693"},
		References: []string{"KSV030", "KSV104", "kube-score:container-seccomp-profile"},
		Title:      "No seccomp profile",
		Help:       "Set securityContext.seccompProfile.type: RuntimeDefault (or Localhost) to restrict the system calls the container can make."},
	{ID: RuleCapsNotDropped, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-250"},
		References: []string{"KSV003", "KSV004", "polaris:insecureCapabilities"},
		Title:      "Capabilities not dropped",
		Help:       "Set securityContext.capabilities.drop: [ALL] and add back only what the process needs."},
	{ID: RuleDangerousCaps, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-250"},
		References: []string{"KSV005", "KSV022", "polaris:dangerousCapabilities"},
		Title:      "Dangerous capability added",
		Help:       "Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE or ALL allow escaping the container. Remove them from capabilities.add."},
	{ID: RuleHostNamespace, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-668"},
		References: []string{"KSV008", "KSV009", "KSV010", "polaris:hostIPCSet", "polaris:hostNetworkSet", "polaris:hostPIDSet"},
		Title:      "Host namespace shared",
		Help:       "hostNetwork, hostPID and hostIPC let the pod see and talk to the node's processes and network. Remove them."},
	{ID: RuleHostPath, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-668"},
		References: []string{"KSV023", "polaris:hostPathSet"},
		Title:      "hostPath volume",
		Help:       "hostPath volumes expose the node's file system to the pod. Use a PersistentVolumeClaim, configMap, secret or emptyDir."},
	{ID: RuleReadOnlyRootFS, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-732"},
		References: []string{"KSV014", "kube-score:container-security-context-readonlyrootfilesystem", "polaris:notReadOnlyRootFilesystem"},
		Title:      "Root file system not read-only",
		Help:       "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where the process must write."},
	{ID: RuleImageLatest, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-829"},
		References: []string{"KSV013", "kube-score:container-image-tag", "polaris:tagNotSpecified"},
		Title:      "Image uses the latest tag or no tag",
		Help:       "Pin the image to a version tag, ideally with a digest, so that every rollout runs the image you tested."},
	{ID: RuleAutomountToken, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-200"},
		References: []string{"KSV036", "polaris:automountServiceAccountToken"},
		Title:      "Service account token mounted",
		Help:       "Set automountServiceAccountToken: false in the pod spec unless the workload calls the Kubernetes API."},
	{ID: RuleSecretEnv, Kind: report.KindSecret, Severity: report.SeverityHigh, CWEs: []string{"CWE-798", "CWE-526"},
		References: []string{"CKV_K8S_35"},
		Title:      "Secret literal in env",
		Help:       "The manifest carries the credential in clear text. Store it in a Secret and reference it with valueFrom.secretKeyRef."},
	{ID: RuleRBACWildcard, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-269"},
		References: []string{"KSV044", "KSV045", "KSV046"},
		Title:      "RBAC wildcard",
		Help:       "A `*` in verbs or resources grants every current and future permission. List the verbs and resources needed."},
}

// Rules returns the metadata of every rule of the analyzer.
func Rules() []rules.Rule { return append([]rules.Rule(nil), ruleList...) }

var ruleIndex = rules.Index(ruleList)
