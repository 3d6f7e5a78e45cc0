package rules

import "github.com/wslb/wslb/validate/finding"

// ExecCheckID is emitted by the validate stage when --exec runs the real
// binary's own check (the command line its proxy's descriptor gives: haproxy -c,
// nginx -t) and it fails.
const ExecCheckID = "WSLB002"

func init() {
	register(&Rule{Rule: finding.Rule{
		ID: ExecCheckID, Slug: "binary-rejects-config", Severity: finding.Error,
		Title:     "The proxy's own binary rejects the config",
		Rationale: "The installed binary is the final judge: a keyword from a newer version, a missing certificate or a bad argument only shows up when the binary reads the file.",
		Fix:       "Read the binary's message, correct the config, and re-run 'wslb validate --exec'.",
	}})
}
