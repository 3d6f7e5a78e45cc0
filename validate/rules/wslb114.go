package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB114", Slug: "nginx-duplicate-listen", Severity: finding.Error,
			Title:     "Two servers claim the same address and name",
			Rationale: "Two server blocks that are both default_server for one address make nginx refuse to start ('a duplicate default server'); two that listen on one address with the same server_name start with a warning ('conflicting server name ... ignored') and the second never gets a request, so its WebSocket locations are dead.",
			Fix:       "Merge the two server blocks, or give them different server_name or listen addresses",
		},
		Proxy: "nginx",
		Nginx: checkDuplicateListen,
	})
}

// listenKey normalises a listen address: "80", "*:80" and "0.0.0.0:80"
// are one socket.
func listenKey(addr string) string {
	a := strings.ToLower(addr)
	if !strings.Contains(a, ":") && !strings.HasPrefix(a, "unix:") {
		return "*:" + a
	}
	if strings.HasPrefix(a, "0.0.0.0:") {
		return "*:" + a[len("0.0.0.0:"):]
	}
	return a
}

func checkDuplicateListen(p *NginxPass) {
	type claim struct {
		server *nginx.Node
		line   *nginx.Node
	}
	defaults := map[string]claim{}
	names := map[string]claim{}
	for _, srv := range p.Config.All("server") {
		if srv.Enclosing("http") == nil && !p.Config.Snippet || srv.Enclosing("upstream") != nil || srv.Enclosing("stream") != nil || len(srv.Children) == 0 {
			continue
		}
		var serverNames []string
		for _, sn := range srv.Own("server_name") {
			for _, n := range sn.Args {
				serverNames = append(serverNames, strings.ToLower(n))
			}
		}
		if len(serverNames) == 0 {
			serverNames = []string{""}
		}
		for _, l := range srv.Own("listen") {
			if strings.Contains(l.Arg(0), "$") {
				continue
			}
			k := listenKey(l.Arg(0))
			if slices.Contains(l.Args, "default_server") || slices.Contains(l.Args, "default") {
				if prev, dup := defaults[k]; dup && prev.server != srv {
					p.Report(l, fmt.Sprintf("listen %s is default_server here and in the server on line %d: nginx refuses to start (a duplicate default server)", l.Arg(0), prev.line.Line), "")
				} else if !dup {
					defaults[k] = claim{srv, l}
				}
			}
			for _, n := range serverNames {
				if n == "" || n == "_" {
					continue // catch-all names collide on purpose only with default_server
				}
				nk := k + " " + n
				if prev, dup := names[nk]; dup && prev.server != srv {
					p.Report(l, fmt.Sprintf("server_name %s on %s is already served by the server on line %d: nginx ignores this server for it (conflicting server name)", n, l.Arg(0), prev.server.Line), "")
					break
				} else if !dup {
					names[nk] = claim{srv, l}
				}
			}
		}
	}
}
