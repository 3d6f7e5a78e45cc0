package topology

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/wslb/wslb/internal/safefile"
)

// Bounds on what the loader accepts, so that no file can crash, hang or
// flood it: HCL's parser recurses once per nesting level and per unary
// operator, and parses about a megabyte a second.
const (
	// MaxFileSize bounds a topology file. Real topologies are a few
	// kilobytes; a thousand servers fit in 100 KB.
	MaxFileSize = 1 << 20
	// MaxNesting bounds nested brackets, blocks, strings and templates.
	// wslb's own language needs four levels.
	MaxNesting = 32
	// maxUnaryRun bounds operators in a row ("- - - 1", "!!!x").
	maxUnaryRun = 32
)

// readFile reads a topology file, refusing anything but a regular file of
// at most MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := safefile.OpenRegular(path)
	var nr *safefile.NotRegularError
	switch {
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return nil, errors.New("it is a directory, not a topology file")
	case errors.As(err, &nr):
		return nil, fmt.Errorf("it is %s; topology files must be regular files", nr)
	case err != nil:
		return nil, err
	}
	defer f.Close()
	src, err := safefile.ReadAtMost(f, MaxFileSize)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, fmt.Errorf("it is larger than 1 MiB: topology files are limited to %d bytes", MaxFileSize)
	}
	return src, err
}

// checkNesting scans src with HCL's own (non-recursive) lexer and reports
// nesting deeper than MaxNesting or long runs of unary operators before
// the recursive parser sees them. It stops at the first problem.
func checkNesting(filename string, src []byte) hcl.Diagnostics {
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	var open []hclsyntax.TokenType
	run := 0
	for _, tok := range tokens {
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			open = append(open, tok.Type)
			if len(open) > MaxNesting {
				return tooDeep(tok.Range, fmt.Sprintf("Brackets, blocks and strings nest more than %d levels deep here", MaxNesting))
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case hclsyntax.TokenNewline:
			// A quoted string ends at the line's end even when unterminated
			// (the parser reports that).
			if len(open) > 0 && open[len(open)-1] == hclsyntax.TokenOQuote {
				open = open[:len(open)-1]
			}
		}
		switch tok.Type {
		case hclsyntax.TokenBang, hclsyntax.TokenMinus:
			run++
			if run > maxUnaryRun {
				return tooDeep(tok.Range, fmt.Sprintf("More than %d operators follow each other here", maxUnaryRun))
			}
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
		default:
			run = 0
		}
	}
	return nil
}

func tooDeep(r hcl.Range, what string) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Nesting too deep",
		Detail:   what + ". A topology needs only a few levels (pool { server { ... } }) and literal values; remove the extra brackets or operators.",
		Subject:  &r,
	}}
}
