package validate

import (
	"bufio"
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	haproxySectionRe = regexp.MustCompile(`(?m)^\s*(global|defaults|frontend|backend|listen)(\s|$)`)
	nginxBlockRe     = regexp.MustCompile(`(?m)^\s*(http|server|location|upstream|events|stream|map)\b[^;{\n]*\{`)
)

// Detect guesses a config's proxy from its file name, then its content.
func Detect(name string, data []byte) (Kind, bool) {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.Contains(base, "haproxy"):
		return HAProxy, true
	case strings.Contains(base, "nginx"):
		return Nginx, true
	}
	h := len(haproxySectionRe.FindAllIndex(data, 50))
	n := len(nginxBlockRe.FindAllIndex(data, 50)) + bytes.Count(data, []byte(";\n"))/4
	switch {
	case h > 0 && h >= n:
		return HAProxy, true
	case n > 0:
		return Nginx, true
	}
	switch filepath.Ext(base) {
	case ".cfg":
		return HAProxy, true
	case ".conf":
		return Nginx, true
	}
	return "", false
}

// nginxSnippet reports whether an NGINX file has no top-level http or
// events block (a conf.d file).
func nginxSnippet(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "http") || strings.HasPrefix(line, "events") {
			f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '{' || r == '\t' })
			if len(f) > 0 && (f[0] == "http" || f[0] == "events") {
				return false
			}
		}
	}
	return true
}
