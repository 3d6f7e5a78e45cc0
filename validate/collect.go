package validate

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/wslb/wslb/proxy"
)

// Collect turns paths (files or directories) into sources. Directories
// are walked for *.cfg and *.conf files, extensionless files named
// haproxy* or nginx*, and *.yaml and *.yml files, which are linted only
// when their content is a readable proxy's (Istio manifests, not CI
// workflows or Helm values); hidden directories are skipped.
func Collect(paths []string) ([]Source, error) {
	var out []Source
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if !info.IsDir() {
			out = append(out, Source{Name: p})
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if looksLikeConfig(d.Name()) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: %w", p, ErrNoConfigs)
		}
		sort.Strings(found)
		for _, f := range found {
			out = append(out, Source{Name: f, IfContent: isYAML(f)})
		}
	}
	return out, nil
}

func looksLikeConfig(name string) bool {
	n := strings.ToLower(name)
	ext := filepath.Ext(n)
	if ext == ".cfg" || ext == ".conf" || isYAML(n) {
		return true
	}
	// Extensionless files named after a proxy (haproxy*, nginx*), not
	// haproxy.pem or nginx.service.
	return ext == "" && slices.ContainsFunc(proxy.Names(), func(p string) bool { return strings.HasPrefix(n, p) })
}

func isYAML(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}
