package proxy

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strings"
)

// Detect tells which proxy a config is for. Every readable descriptor
// (ConfigOnly targets with a detector included) weighs the
// file; the content decides when one proxy's syntax clearly dominates
// (more than twice any other's), else the path's hint (file name, then
// extension, then directory), else the larger content weight. reason says
// which ("content" or "file name"); ok is false when nothing tells.
//
// validate, verify and generate all ask this one function, so they agree on
// every file.
func Detect(path string, content []byte) (d *Descriptor, reason string, ok bool) {
	type weighed struct {
		d *Descriptor
		e Evidence
	}
	var all []weighed
	for _, d := range Readable() {
		all = append(all, weighed{d, d.Detect(path, content)})
	}
	var best, second weighed
	for _, w := range all {
		switch {
		case w.e.Content > best.e.Content:
			best, second = w, best
		case w.e.Content > second.e.Content:
			second = w
		}
	}
	if best.d != nil && best.e.Content > 2*second.e.Content {
		return best.d, "content", true
	}
	var hint weighed
	tied := false
	for _, w := range all {
		switch {
		case w.e.Name > hint.e.Name:
			hint, tied = w, false
		case w.e.Name > 0 && w.e.Name == hint.e.Name:
			tied = true
		}
	}
	if hint.d != nil && !tied {
		return hint.d, "file name", true
	}
	if best.d != nil && best.e.Content > second.e.Content {
		return best.d, "content", true
	}
	return nil, "", false
}

// DetectKind is Detect's kind, or "" when nothing tells.
func DetectKind(path string, content []byte) Kind {
	if d, _, ok := Detect(path, content); ok {
		return d.Name
	}
	return ""
}

// NameHint is the Evidence.Name a path gives the proxy called name with the
// usual extension ext (".cfg"): 3 when the file's name contains name, 2
// when it ends in ext, 1 when a directory of the path contains name.
func NameHint(path, name, ext string) int {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(base, name):
		return 3
	case ext != "" && filepath.Ext(base) == ext:
		return 2
	case strings.Contains(strings.ToLower(filepath.ToSlash(filepath.Dir(path))), name):
		return 1
	}
	return 0
}

// maxDetectLines bounds how much of a file detectors read: enough to see
// past a long comment header, little enough for a huge file.
const maxDetectLines = 2000

// Lines calls f with each of the first lines of content that hold more than
// a comment, trimmed and with any "#" comment removed. Detectors read
// configs through it.
func Lines(content []byte, f func(line string)) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 0; n < maxDetectLines && sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			f(line)
		}
	}
}

// BlockLine reports whether line (as Lines gives it) is shaped like a
// directive of a brace-and-semicolon syntax such as NGINX's: it ends in
// ";" or "{", or closes a block ("}", "events {}", "location / { return
// 204; }"). A line ending in an HAProxy anonymous ACL ("use_backend ws if {
// hdr(upgrade) -i websocket }") is not: words, not ";" or "{", come before
// its "}".
func BlockLine(line string) bool {
	if line == "" {
		return false
	}
	switch line[len(line)-1] {
	case ';', '{':
		return true
	case '}':
		if line[0] == '}' {
			return true
		}
		rest := strings.TrimSpace(line[:len(line)-1])
		return rest != "" && (rest[len(rest)-1] == ';' || rest[len(rest)-1] == '{')
	}
	return false
}
