package haproxy

import (
	"strings"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// Descriptor is HAProxy's entry in the proxy registry.
var Descriptor = &proxy.Descriptor{
	Name:       proxybin.HAProxy,
	Title:      "HAProxy",
	ConfigName: "haproxy.cfg",
	Detect:     Detect,
	Run:        run,
	// No -q: HAProxy 2.6 then hides the alerts.
	CheckArgs:   func(_ proxybin.Binary, abs string) []string { return []string{"-c", "-f", abs} },
	CheckOutput: checkOutput,
	// HAProxy 1.x printed "HA-Proxy version".
	VersionArgs:  []string{"-v"},
	ParseVersion: proxybin.VersionAfter("HAProxy version", "HA-Proxy version"),
	// Master-worker mode in the foreground, as the official image does.
	ContainerCommand: func(config, _ string) []string { return []string{"haproxy", "-W", "-db", "-f", config} },
	MinVersion:       topology.MinHAProxy,
	CapLimits:        CapLimits,
	// A file of bare keywords (no section yet) is more likely HAProxy's.
	Fallback: true,
}

func init() { proxy.Register(Descriptor) }

// Detect weighs how much a file reads as an HAProxy config: its lines are
// keywords and words, not ";"-terminated or "{" blocks (an anonymous ACL
// "if { ... }" is HAProxy's), and a config opens sections; a section
// header weighs three lines. Text with no section header is prose, not a
// config, and weighs nothing.
func Detect(path string, content []byte) proxy.Evidence {
	weight, sections := 0, 0
	proxy.Lines(content, func(line string) {
		if proxy.BlockLine(line) {
			return
		}
		if sectionKeywords[strings.Fields(line)[0]] {
			weight += 3
			sections++
		} else {
			weight++
		}
	})
	if sections == 0 {
		weight = 0
	}
	return proxy.Evidence{Content: weight, Name: proxy.NameHint(path, "haproxy", ".cfg")}
}

func init() { rewrite.RegisterLoader(proxybin.HAProxy, loadHAProxy) }
