package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/rules"
)

// stubAddress stands in for every host name in a server address when the
// binary checks the config.
const stubAddress = "127.0.0.1"

// maxListedHosts bounds the host names a note lists by name.
const maxListedHosts = 10

// execCheck runs the real binary's own config check on a scratch copy of
// src (as its linter's ex says) with host names in server addresses
// stubbed.
func execCheck(ctx context.Context, src Source, ex *rules.Exec, opts Options) ([]Finding, []string, error) {
	lookup := opts.Binaries
	if lookup == nil {
		lookup = proxybin.Lookup
	}
	bin, err := lookup(src.Kind)
	if err != nil {
		return nil, nil, fmt.Errorf("--exec: %w", err)
	}
	// Owned, so that a run killed meanwhile leaves nothing for long: the
	// next one (or wslb verify --cleanup) removes it.
	scratch, err := loopback.NewScratchNamed(loopback.ExecPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("--exec: %w", err)
	}
	defer scratch.Close()
	dir := scratch.Dir

	files, main, st, err := scratchCopy(src, ex, dir)
	if err != nil {
		return nil, nil, err
	}
	notes := st.notes(src.Name)
	if ex.Note != nil {
		if note := ex.Note(bin); note != "" {
			notes = append(notes, note)
		}
	}
	err = bin.Check(ctx, main)
	var ce *proxybin.CheckError
	if errors.As(err, &ce) && ctx.Err() == nil {
		back := map[string]string{}
		for orig, scratch := range files {
			back[scratch] = orig
		}
		return checkFindings(src.Name, src.Kind, ce.Output, back), notes, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, notes, ctx.Err()
		}
		return nil, notes, fmt.Errorf("--exec %s: %w", src.Name, err)
	}
	return nil, notes, nil
}

// stubs says which tokens in server addresses were replaced and which were
// left as written.
type stubs struct {
	replaced []string // host names
	kept     []string // address tokens that are not host names
	unplaced []string // host names not found verbatim where the parser saw them
}

// notes tells the user what the check ran on instead of their file.
func (s stubs) notes(name string) []string {
	var out []string
	if len(s.replaced) > 0 {
		out = append(out, fmt.Sprintf("--exec checked %s with the host names of its server addresses replaced by %s, so that the check does not depend on DNS (it runs without network access where the machine allows it; whether the names resolve was not checked): %s",
			name, stubAddress, listSome(s.replaced)))
	}
	if len(s.kept) > 0 {
		out = append(out, fmt.Sprintf("--exec left these server addresses in %s as written, because they are not host names: %s",
			name, listSome(s.kept)))
	}
	if len(s.unplaced) > 0 {
		out = append(out, fmt.Sprintf("--exec left these host names in %s as written, because they are spelt with escapes or over several lines: %s",
			name, listSome(s.unplaced)))
	}
	return out
}

// listSome joins names, naming at most maxListedHosts of them.
func listSome(names []string) string {
	if len(names) <= maxListedHosts {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListedHosts], ", "), len(names)-maxListedHosts)
}

// hostEdit is a host name at a byte offset of a file.
type hostEdit struct {
	off  int
	host string
}

// scratchCopy writes src and the files it includes from below its
// directory (ex.Sources) into dir with the host names of ex.Hosts stubbed.
// Keywords (an address forgotten: "server s1 check"), placeholders
// ("<host>"), variables and anything else that is not a host name stay as
// written, so the binary reports them. With ex.Wrap the binary checks a
// main config that includes the copy, the way the proxy reads it.
func scratchCopy(src Source, ex *rules.Exec, dir string) (files map[string]string, main string, st stubs, err error) {
	files = map[string]string{}
	edits := map[string][]hostEdit{}
	replaced, kept, unplaced := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, t := range ex.Hosts {
		switch {
		case t.Host == "" || net.ParseIP(t.Host) != nil:
		case !isHostName(t.Host) || rules.ServerKeyword(strings.ToLower(t.Host)):
			kept[t.Token] = true
		case t.Off < 0:
			unplaced[t.Host] = true
		default:
			edits[t.File] = append(edits[t.File], hostEdit{off: t.Off + t.At, host: t.Host})
			replaced[t.Host] = true
		}
	}
	for h := range replaced {
		st.replaced = append(st.replaced, h)
	}
	for k := range kept {
		st.kept = append(st.kept, k)
	}
	for u := range unplaced {
		st.unplaced = append(st.unplaced, u)
	}
	sort.Strings(st.replaced)
	sort.Strings(st.kept)
	sort.Strings(st.unplaced)

	base := filepath.Dir(src.Name)
	for file, data := range ex.Sources {
		rel, err := filepath.Rel(base, file)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // outside the config's directory: used in place
		}
		out := filepath.Join(dir, rel)
		if file == src.Name {
			out = filepath.Join(dir, filepath.Base(src.Name))
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, "", st, fmt.Errorf("--exec: %w", err)
		}
		if err := os.WriteFile(out, applyStubs(data, edits[file]), 0o644); err != nil {
			return nil, "", st, fmt.Errorf("--exec: %w", err)
		}
		files[file] = out
	}
	main = files[src.Name]
	if ex.Wrap != nil {
		wrapper := filepath.Join(dir, "wslb-main.conf")
		if err := os.WriteFile(wrapper, ex.Wrap(filepath.Base(main)), 0o644); err != nil {
			return nil, "", st, fmt.Errorf("--exec: %w", err)
		}
		main = wrapper
	}
	return files, main, st, nil
}

// applyStubs replaces each edit's host by stubAddress; line numbers stay.
func applyStubs(data []byte, edits []hostEdit) []byte {
	if len(edits) == 0 {
		return data
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].off < edits[j].off })
	var b bytes.Buffer
	last := 0
	for _, e := range edits {
		if e.off < last {
			continue // the same token reached twice (a file included twice)
		}
		b.Write(data[last:e.off])
		b.WriteString(stubAddress)
		last = e.off + len(e.host)
	}
	b.Write(data[last:])
	return b.Bytes()
}

// isHostName reports whether s is spelled like a DNS host name: labels of
// letters, digits, '-' and '_' separated by dots.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// checkFindings turns the binary's output into WSLB002 findings, one per
// error that names a file position (as the proxy's descriptor reads its
// output), mapped back to the original file names; without any, the
// errors (or the whole output) become one finding.
func checkFindings(name string, kind Kind, output string, back map[string]string) []Finding {
	r := rules.ByID(rules.ExecCheckID)
	d, _ := proxy.LookupReadable(string(kind))
	msgs := d.CheckMessages(output)
	var out []Finding
	for _, m := range msgs {
		if m.Line <= 0 {
			continue
		}
		f := Finding{Rule: r.ID, Slug: r.Slug, Severity: finding.Error, File: name, Line: m.Line, Fix: r.Fix,
			Message: r.Title + ": " + cleanCheckLine(m.Message, back)}
		if orig, ok := back[m.File]; ok {
			f.File = orig
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, m.Text)
		}
		out = append(out, Finding{Rule: r.ID, Slug: r.Slug, Severity: finding.Error, File: name, Line: 1,
			Message: r.Title + ": " + cleanCheckLine(strings.Join(texts, "; "), back), Fix: r.Fix})
	}
	return out
}

func cleanCheckLine(line string, back map[string]string) string {
	for scratch, orig := range back {
		line = strings.ReplaceAll(line, scratch, orig)
	}
	return line
}
