package workflows

import (
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins/code/rules"
)

// Rule ids.
const (
	RuleInjection       = "gha-template-injection"
	RuleDangerousTrig   = "gha-dangerous-trigger-checkout"
	RuleUnpinned        = "gha-unpinned-uses"
	RulePermissions     = "gha-excessive-permissions"
	RuleSecretsInherit  = "gha-secrets-inherit"
	RuleSecretEcho      = "gha-secret-echo"
	RuleCurlPipe        = "gha-curl-pipe-shell"
	RuleGitlabInjection = "gitlab-inputs-injection"
	RuleGitlabImage     = "gitlab-image-latest"
	RuleGitlabCurlPipe  = "gitlab-curl-pipe-shell"
)

var ruleList = []rules.Rule{
	{ID: RuleInjection, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-94", "CWE-78"},
		References: []string{"zizmor:template-injection", "actionlint:expression"},
		Title:      "Untrusted input expanded into a script",
		Help:       "`${{ github.event.issue.title }}` and similar attacker-controlled values are pasted into the script before it runs, so a crafted title runs commands. Pass the value through `env:` and use \"$VAR\" in the script."},
	{ID: RuleDangerousTrig, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-829", "CWE-94"},
		References: []string{"zizmor:dangerous-triggers"},
		Title:      "Privileged trigger checks out untrusted code",
		Help:       "pull_request_target and workflow_run run with the base repository's secrets and write token; checking out the pull request's head and building it runs the attacker's code with them. Use pull_request, or never execute the checked-out code."},
	{ID: RuleUnpinned, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-829"},
		References: []string{"zizmor:unpinned-uses"},
		Title:      "Action not pinned to a commit SHA",
		Help:       "Tags and branches are mutable: whoever controls the action's repository controls your workflow. Pin `uses:` to a full 40-character commit SHA (with the tag in a comment). MEDIUM for third-party actions, LOW for actions/* and github/*."},
	{ID: RulePermissions, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-250", "CWE-732"},
		References: []string{"zizmor:excessive-permissions"},
		Title:      "Excessive or default GITHUB_TOKEN permissions",
		Help:       "`permissions: write-all` gives every job a token that can push code and releases. Declare `permissions:` at the workflow level with the least scopes needed (e.g. `contents: read`). MEDIUM for write-all, LOW when no permissions block is declared."},
	{ID: RuleSecretsInherit, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-200"},
		References: []string{"zizmor:secrets-inherit"},
		Title:      "Reusable workflow inherits every secret",
		Help:       "`secrets: inherit` hands all of the caller's secrets to the called workflow. Pass only the secrets it needs."},
	{ID: RuleSecretEcho, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-532"},
		References: []string{"zizmor:secrets-outside-env"},
		Title:      "Secret printed in a script",
		Help:       "Echoing a secret writes it to the job log (masking is best effort and fails on transformed values). Pass it through env: to the program that needs it."},
	{ID: RuleCurlPipe, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-494", "CWE-78"},
		Title: "Downloaded script piped into a shell",
		Help:  "`curl ... | sh` runs whatever the server returns, with the job's secrets. Download, verify a checksum, then run."},
	{ID: RuleGitlabInjection, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-94", "CWE-78"},
		References: []string{"zizmor:template-injection"},
		Title:      "CI/CD input interpolated into a script",
		Help:       "`$[[ inputs.x ]]` is substituted into the script text before the shell parses it, so an input value can run commands. Assign it to a variable (`variables: X: $[[ inputs.x ]]`) and use \"$X\"."},
	{ID: RuleGitlabImage, Kind: report.KindConfig, Severity: report.SeverityMedium, CWEs: []string{"CWE-829"},
		References: []string{"DS001"},
		Title:      "CI image uses the latest tag or no tag",
		Help:       "An untagged or latest job image changes between pipelines. Pin a version tag, ideally with a digest."},
	{ID: RuleGitlabCurlPipe, Kind: report.KindConfig, Severity: report.SeverityHigh, CWEs: []string{"CWE-494", "CWE-78"},
		Title: "Downloaded script piped into a shell",
		Help:  "`curl ... | sh` runs whatever the server returns, with the job's variables. Download, verify a checksum, then run."},
}

// Rules returns the metadata of every rule of the analyzer.
func Rules() []rules.Rule { return append([]rules.Rule(nil), ruleList...) }

var ruleIndex = rules.Index(ruleList)
