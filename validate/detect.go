package validate

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strings"
)

var haproxySections = map[string]bool{"global": true, "defaults": true, "frontend": true, "backend": true, "listen": true, "peers": true, "resolvers": true, "userlist": true}

// Detect guesses a config's proxy from its file name, then its content,
// then the directories it sits in.
func Detect(name string, data []byte) (Kind, bool) {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.Contains(base, "haproxy"):
		return HAProxy, true
	case strings.Contains(base, "nginx"):
		return Nginx, true
	}
	// NGINX lines end in ";", "{" or "}"; HAProxy lines do not, and its
	// sections start with a known keyword.
	h, n, sections := 0, 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for lines := 0; sc.Scan() && lines < 400; lines++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		switch line[len(line)-1] {
		case ';', '{', '}':
			n++
			continue
		}
		first := strings.Fields(line)[0]
		if haproxySections[first] {
			h += 3
			sections++
		} else {
			h++
		}
	}
	if sections == 0 {
		h = 0 // prose, not a config
	}
	switch {
	case h > n:
		return HAProxy, true
	case n > h:
		return Nginx, true
	}
	dir := strings.ToLower(filepath.ToSlash(name))
	switch {
	case filepath.Ext(base) == ".cfg" || strings.Contains(dir, "haproxy"):
		return HAProxy, true
	case filepath.Ext(base) == ".conf" || strings.Contains(dir, "nginx"):
		return Nginx, true
	}
	return "", false
}
