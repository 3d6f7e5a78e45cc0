package validate

import (
	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all"        // every proxy validate can lint
	_ "github.com/wslb/wslb/proxy/istio/lint" // Istio's rules
)

// Detect tells a config's proxy the way every wslb command does
// (proxy.Detect): by content, with the file's name and extension deciding
// when the content does not.
func Detect(name string, data []byte) (Kind, bool) {
	k := proxy.DetectKind(name, data)
	return k, k != ""
}
