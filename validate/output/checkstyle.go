package output

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/wslb/wslb/validate"
)

// checkstylePrinter writes Checkstyle XML, grouped by file.
type checkstylePrinter struct{}

type csReport struct {
	XMLName xml.Name `xml:"checkstyle"`
	Version string   `xml:"version,attr"`
	Files   []csFile `xml:"file"`
}

type csFile struct {
	Name   string    `xml:"name,attr"`
	Errors []csError `xml:"error"`
}

type csError struct {
	Line     int    `xml:"line,attr"`
	Column   int    `xml:"column,attr,omitempty"`
	Severity string `xml:"severity,attr"`
	Message  string `xml:"message,attr"`
	Source   string `xml:"source,attr"`
}

func (checkstylePrinter) Print(w io.Writer, r validate.Result) error {
	rep := csReport{Version: "4.3"}
	index := map[string]int{}
	for _, f := range r.Findings {
		name := slashPath(f.File)
		i, ok := index[name]
		if !ok {
			i = len(rep.Files)
			index[name] = i
			rep.Files = append(rep.Files, csFile{Name: name})
		}
		msg := f.Message
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		rep.Files[i].Errors = append(rep.Files[i].Errors, csError{
			Line: f.Line, Column: f.Column, Severity: f.Severity.String(),
			Message: msg, Source: "wslb." + f.Rule,
		})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write checkstyle: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
