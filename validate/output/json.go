package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/wslb/wslb/validate"
)

// jsonPrinter writes {"findings":[...],"summary":{...}}.
type jsonPrinter struct{}

type jsonReport struct {
	Findings []validate.Finding `json:"findings"`
	Summary  validate.Summary   `json:"summary"`
	Notes    []string           `json:"notes,omitempty"`
}

func (jsonPrinter) Print(w io.Writer, r validate.Result) error {
	rep := jsonReport{Findings: []validate.Finding{}, Summary: r.Summary(), Notes: r.Notes}
	for _, f := range r.Findings {
		f.File = slashPath(f.File)
		rep.Findings = append(rep.Findings, f)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
