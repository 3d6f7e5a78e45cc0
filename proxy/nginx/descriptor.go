package nginx

import (
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// Descriptor is NGINX's entry in the proxy registry.
var Descriptor = &proxy.Descriptor{
	Name:        proxybin.Nginx,
	Title:       "NGINX",
	ConfigName:  "nginx.conf",
	Detect:      Detect,
	Run:         run,
	CheckArgs:   checkArgs,
	CheckOutput: checkOutput,
	// nginx -v prints to stderr.
	VersionArgs:  []string{"-v"},
	ParseVersion: proxybin.VersionAfter("nginx version: nginx/"),
	// A runtime-mode config says "daemon off" and where its files go;
	// the prefix is dir for what it names relative.
	ContainerCommand: func(config, dir string) []string { return []string{"nginx", "-p", dir + "/", "-c", config} },
	MinVersion:       topology.MinNginx,
}

func init() { proxy.Register(Descriptor) }

// Detect weighs how much a file reads as an NGINX config: one for every
// line shaped like its directives, which end in ";" or open or close a "{"
// block.
func Detect(path string, content []byte) proxy.Evidence {
	weight := 0
	proxy.Lines(content, func(line string) {
		if proxy.BlockLine(line) {
			weight++
		}
	})
	return proxy.Evidence{Content: weight, Name: proxy.NameHint(path, "nginx", ".conf")}
}

func init() { rewrite.RegisterLoader(proxybin.Nginx, loadNginx) }
