package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/wslb/wslb/validate"
)

// jsonPrinter writes {"findings":[...],"summary":{...}}.
type jsonPrinter struct{}

type jsonFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

type jsonReport struct {
	Findings []jsonFinding    `json:"findings"`
	Summary  validate.Summary `json:"summary"`
	Notes    []string         `json:"notes,omitempty"`
}

func (jsonPrinter) Print(w io.Writer, r validate.Result) error {
	rep := jsonReport{Findings: []jsonFinding{}, Summary: r.Summary(), Notes: r.Notes}
	for _, f := range r.Findings {
		rep.Findings = append(rep.Findings, jsonFinding{
			Rule: f.Rule, Severity: f.Severity.String(), File: slashPath(f.File),
			Line: f.Line, Column: f.Column, Message: f.Message, Fix: f.Fix,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
