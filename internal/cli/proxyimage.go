package cli

import (
	"strings"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
)

// proxyImageUsage is the help of --proxy-image (verify --driver docker).
const proxyImageUsage = "with --driver docker, the image to run the proxy from: IMAGE or KIND=IMAGE, e.g. nginx=registry.example/nginx:1.26 " +
	"(repeatable; default: the official haproxy:VERSION or nginx:VERSION of the version that runs, which must be present: nothing is pulled)"

// parseProxyImages reads --proxy-image values: "KIND=IMAGE", or a bare
// "IMAGE" for whichever proxy runs (given to every kind not named).
func parseProxyImages(values []string) (map[proxybin.Kind]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[proxybin.Kind]string{}
	var bare string
	for _, val := range values {
		kind, image, named := strings.Cut(val, "=")
		image = strings.TrimSpace(image)
		if !named {
			image = strings.TrimSpace(val)
		}
		if image == "" || strings.ContainsAny(image, " \t\n") {
			return nil, UsageError("--proxy-image %q: want IMAGE or KIND=IMAGE", val)
		}
		if !named {
			if bare != "" && bare != image {
				return nil, UsageError("--proxy-image: two images for the proxy (%s and %s); name the proxy: KIND=IMAGE", bare, image)
			}
			bare = image
			continue
		}
		d, ok := proxy.Lookup(strings.TrimSpace(kind))
		if !ok {
			return nil, UsageError("--proxy-image %s: unknown proxy %q (want %s)", val, kind, proxy.Choices())
		}
		if prev, ok := out[d.Name]; ok && prev != image {
			return nil, UsageError("--proxy-image: two images for %s (%s and %s)", d.Name, prev, image)
		}
		out[d.Name] = image
	}
	if bare != "" {
		for _, k := range proxybin.Kinds {
			if _, ok := out[k]; !ok {
				out[k] = bare
			}
		}
	}
	return out, nil
}
