package output

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/wslb/wslb/validate"
)

// sarifPrinter writes SARIF 2.1.0 for GitHub code scanning: every rule of
// the catalog with its help page, and one result per finding.
type sarifPrinter struct{ version string }

var sarifLevel = map[validate.Severity]string{
	validate.Error:   "error",
	validate.Warning: "warning",
	validate.Info:    "note",
}

// InformationURI is wslb's home page in SARIF output.
const InformationURI = "https://github.com/wslb/wslb"

func (p sarifPrinter) Print(w io.Writer, r validate.Result) error {
	rep, err := sarif.New(sarif.Version210, true)
	if err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	run := sarif.NewRunWithInformationURI("wslb", InformationURI)
	if p.version != "" {
		run.Tool.Driver.Version = &p.version
	}
	index := map[string]int{}
	for i, rule := range validate.Rules() {
		index[rule.ID] = i
		run.AddRule(rule.ID).
			WithName(rule.Slug).
			WithShortDescription(sarif.NewMultiformatMessageString(rule.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString(rule.Rationale)).
			WithHelpURI(rule.DocURL()).
			WithTextHelp(rule.Fix).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel[rule.Severity])).
			WithProperties(sarif.Properties{"tags": []string{"websocket", "proxy", "wslb"}})
	}
	for _, f := range r.Findings {
		region := sarif.NewRegion().WithStartLine(max(f.Line, 1))
		if f.Column > 0 {
			region.WithStartColumn(f.Column)
		}
		msg := f.Message
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		res := sarif.NewRuleResult(f.Rule).
			WithRuleIndex(index[f.Rule]).
			WithLevel(sarifLevel[f.Severity]).
			WithMessage(sarif.NewTextMessage(msg)).
			WithLocations([]*sarif.Location{sarif.NewLocationWithPhysicalLocation(
				sarif.NewPhysicalLocation().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(f.File))).
					WithRegion(region))})
		run.AddResult(res)
	}
	rep.AddRun(run)
	if err := rep.PrettyWrite(w); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// artifactURI turns a file path into a SARIF artifact URI: a relative path
// stays a relative reference (code scanning resolves it against the
// checkout), an absolute one becomes a file: URI, since a reference that
// starts with a slash cannot combine with a base URI.
func artifactURI(path string) string {
	u := &url.URL{Path: slashPath(path)}
	if filepath.IsAbs(path) {
		u.Scheme = "file"
	}
	return u.String()
}
