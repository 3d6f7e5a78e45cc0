package rules

import "github.com/wslb/wslb/validate/finding"

// ParseErrorID is emitted by the validate stage for lines the parsers
// cannot read.
const ParseErrorID = "WSLB001"

func init() {
	register(&Rule{Rule: finding.Rule{
		ID: ParseErrorID, Slug: "parse-error", Severity: finding.Error,
		Title:     "The config cannot be parsed",
		Rationale: "A syntax error, an unknown keyword or a directive in the wrong place makes the proxy refuse to start or reload.",
		Fix:       "Correct the line; for a custom module or a newer keyword, suppress with '# wslb:ignore WSLB001' on the line.",
	}})
}
