package topology

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
// at most MaxFileSize bytes. The file is opened non-blocking so that a FIFO
// cannot block the open itself.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, errors.New("it is a directory, not a topology file")
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("it is not a regular file (%s); topology files must be regular files", fileKind(fi.Mode()))
	case fi.Size() > MaxFileSize:
		return nil, fmt.Errorf("it is %d bytes; topology files are limited to %d bytes", fi.Size(), MaxFileSize)
	}
	// The file may grow between Stat and the read.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("it is larger than %d bytes, the limit for topology files", MaxFileSize)
	}
	return src, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	default:
		return "mode " + m.Type().String()
	}
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
