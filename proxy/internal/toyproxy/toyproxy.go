// Package toyproxy is a made-up third proxy, used only by its tests to
// prove that a proxy is added by a package of its own: it registers a
// descriptor (with the command line its binary checks a config with), a
// generator and one validate rule, and no code outside this package names
// it. Its config is one directive per line:
//
//	toy-listen NAME PORT
//	toy-pool NAME SERVER...
//	toy-idle SECONDS
package toyproxy

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/rules"
)

// Kind is the toy proxy's name.
const Kind proxy.Kind = "toy"

// ShortIdleID is the toy's one rule.
const ShortIdleID = "TOY001"

func init() {
	proxy.Register(&proxy.Descriptor{
		Name:       Kind,
		Aliases:    []string{"toyproxy"},
		Title:      "Toy",
		ConfigName: "toy.conf",
		Detect:     detect,
		// validate --exec runs `toy --check FILE`.
		CheckArgs: func(_ proxybin.Binary, abs string) []string { return []string{"--check", abs} },
		// Finding the binary ($WSLB_TOY, else toy in PATH) reads
		// `toy --version`.
		VersionArgs:  []string{"--version"},
		ParseVersion: proxybin.VersionAfter("toy version"),
		// Versions it tells apart: validate offers --toy-version.
		MinVersion: topology.Version{Major: 1},
	})
	generator.Register(Kind, generate)
	rules.Register(&rules.Rule{
		Rule: finding.Rule{
			ID: ShortIdleID, Slug: "toy-short-idle", Severity: finding.Warning,
			Title:     "The toy proxy closes idle WebSockets within a minute",
			Rationale: "A quiet WebSocket is cut when toy-idle runs out.",
			Fix:       "Raise toy-idle to 120 or more.",
		},
		Proxy: string(Kind),
		File:  checkIdle,
	})
}

// detect counts the lines that start with a toy directive. The ".conf"
// name is NGINX's hint too: the content must tell.
func detect(path string, content []byte) proxy.Evidence {
	weight := 0
	proxy.Lines(content, func(line string) {
		if strings.HasPrefix(line, "toy-") {
			weight += 3
		}
	})
	return proxy.Evidence{Content: weight, Name: proxy.NameHint(path, "toy", "")}
}

func generate(t *topology.Topology, _ generator.Options) ([]byte, error) {
	var b bytes.Buffer
	for _, l := range t.Listeners {
		fmt.Fprintf(&b, "toy-listen %s %d\n", l.Name, l.Address.Port)
	}
	for _, p := range t.Pools {
		fmt.Fprintf(&b, "toy-pool %s", p.Name)
		for _, s := range p.Servers {
			fmt.Fprintf(&b, " %s:%d", s.Address.Host, s.Address.Port)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "toy-idle %d\n", int(t.Timeouts.Tunnel.Seconds()))
	return b.Bytes(), nil
}

func checkIdle(p *rules.FilePass) {
	sc := bufio.NewScanner(bytes.NewReader(p.Text))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != "toy-idle" {
			continue
		}
		if s, err := strconv.Atoi(f[1]); err == nil && s < 60 {
			p.Report(n, strings.Index(sc.Text(), f[1])+1, fmt.Sprintf("toy-idle %d closes quiet WebSockets after %d s", s, s), "")
		}
	}
}
