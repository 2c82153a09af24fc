package dockerfile

import (
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// Rule ids.
const (
	RuleUserRoot    = "dockerfile-user-root"
	RuleAddURL      = "dockerfile-add-url"
	RuleCurlPipe    = "dockerfile-curl-pipe-shell"
	RuleImageLatest = "dockerfile-image-latest"
	RuleImageDigest = "dockerfile-image-not-pinned-digest"
	RuleSecretEnv   = "dockerfile-secret-in-env"
	RuleSudo        = "dockerfile-sudo"
	RuleExposeSSH   = "dockerfile-expose-ssh"
	RulePkgCache    = "dockerfile-package-cache"
	RuleNoHealth    = "dockerfile-no-healthcheck"
)

var ruleList = []rules.Rule{
	{ID: RuleUserRoot, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-250"},
		References: []string{"DL3002", "DS002"},
		Title:      "Container runs as root",
		Help:       "The final stage has no USER instruction, or its last USER is root (or UID 0), so the container's process runs as root. Add `USER <non-root user>` after the steps that need root."},
	{ID: RuleAddURL, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-494", "CWE-829"},
		References: []string{"DL3020", "DS005"},
		Title:      "ADD fetches a remote URL",
		Help:       "ADD downloads the URL at build time without verifying it. Download with curl and verify a checksum, or use `ADD --checksum=sha256:...`."},
	{ID: RuleCurlPipe, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-494", "CWE-78"},
		References: []string{"DL4006"},
		Title:      "Downloaded script piped into a shell",
		Help:       "`curl ... | sh` runs whatever the server returns, unverified. Download to a file, verify its checksum or signature, then run it."},
	{ID: RuleImageLatest, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-829", "CWE-1357"},
		References: []string{"DL3006", "DL3007", "DS001"},
		Title:      "Base image uses the latest tag or no tag",
		Help:       "An untagged or `latest` base image changes under you: builds are not reproducible and can pick up a broken or compromised image. Pin a version tag, ideally with a digest."},
	{ID: RuleImageDigest, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-829"},
		Title: "Base image not pinned by digest",
		Help:  "Tags are mutable. Pin the base image as `name:tag@sha256:<digest>` so the build uses exactly the image you reviewed."},
	{ID: RuleSecretEnv, Kind: report.KindSecret, Severity: report.SeverityHigh, CWEs: []string{"CWE-798", "CWE-538"},
		References: []string{"DS031"},
		Title:      "Secret in ENV or ARG",
		Help:       "ENV and ARG values are stored in the image's metadata and history, readable by anyone who pulls it. Use build secrets (`RUN --mount=type=secret`) or inject the value at run time."},
	{ID: RuleSudo, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-250"},
		References: []string{"DL3004", "DS010"},
		Title:      "sudo used in RUN",
		Help:       "sudo has unpredictable TTY and signal behaviour and implies a root-capable user. RUN already runs as the current USER; switch with USER instead."},
	{ID: RuleExposeSSH, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-284"},
		References: []string{"DS004"},
		Title:      "SSH port 22 exposed",
		Help:       "Running an SSH daemon in a container widens the attack surface. Use `docker exec`/`kubectl exec` instead and remove EXPOSE 22."},
	{ID: RulePkgCache, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-459"},
		References: []string{"DL3009", "DL3019", "DL3042", "DS025"},
		Title:      "Package manager cache left in the image",
		Help:       "Clean the cache in the same RUN: `rm -rf /var/lib/apt/lists/*` after apt-get install, `apk add --no-cache`, `pip install --no-cache-dir` (or use a cache mount)."},
	{ID: RuleNoHealth, Kind: report.KindConfig, Severity: report.SeverityLow, CWEs: []string{"CWE-754"},
		References: []string{"DS026"},
		Title:      "No HEALTHCHECK",
		Help:       "Without HEALTHCHECK the runtime cannot tell a hung container from a healthy one. Add a HEALTHCHECK to the final stage (orchestrators with their own probes may ignore it)."},
}

// Rules returns the metadata of every rule of the analyzer.
func Rules() []rules.Rule { return append([]rules.Rule(nil), ruleList...) }

var ruleIndex = rules.Index(ruleList)
