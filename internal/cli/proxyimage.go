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
	out, err := parsePerKind("image", values, func(val, image string) error {
		if image == "" || strings.ContainsAny(image, " \t\n") {
			return UsageError("--proxy-image %q: want IMAGE or KIND=IMAGE", val)
		}
		return nil
	})
	if bare, ok := out[""]; ok {
		delete(out, "")
		for _, k := range proxy.Runnable() {
			if _, ok := out[k]; !ok {
				out[k] = bare
			}
		}
	}
	return out, err
}
