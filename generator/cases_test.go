package generator

import (
	"time"

	"github.com/wslb/wslb/topology"
)

// Topologies built in Go for the affinity modes and features the examples
// do not all cover. They carry the loader's defaults.

func server(name, host string, port int) *topology.Server {
	return &topology.Server{Name: name, Address: topology.Address{Host: host, Port: port}, Weight: 1}
}

func health() topology.HealthCheck {
	return topology.HealthCheck{Enabled: true, Path: "/healthz", Interval: 2 * time.Second, Rise: 2, Fall: 3, Timeout: 5 * time.Second}
}

// baseTopology is one listener, a WebSocket route on /ws to pool "realtime"
// (three servers) and everything else to pool "web".
func baseTopology(name string, aff topology.Affinity) *topology.Topology {
	if aff.Mode == "" {
		aff.Mode = topology.AffinityNone
	}
	return &topology.Topology{
		Name:    name,
		Targets: topology.Targets{Versions: map[string]topology.Version{"haproxy": {Major: 2, Minor: 4}, "nginx": {Major: 1, Minor: 18}}},
		Listeners: []*topology.Listener{
			{Name: "public", Address: topology.Address{Host: "*", Port: 8080}},
		},
		Routes: []*topology.Route{
			{Name: "ws", PathPrefix: "/ws", WebSocketOnly: true, Pool: "realtime"},
			{Name: "web", PathPrefix: "/", Pool: "web"},
		},
		Pools: []*topology.Pool{
			{
				Name: "realtime",
				Servers: []*topology.Server{
					server("rt1", "127.0.0.1", 9001),
					server("rt2", "127.0.0.1", 9002),
					server("rt3", "127.0.0.1", 9003),
				},
				Balance:   topology.BalanceRoundRobin,
				Affinity:  aff,
				Health:    health(),
				WebSocket: true,
			},
			{
				Name:     "web",
				Servers:  []*topology.Server{server("web1", "127.0.0.1", 9101), server("web2", "127.0.0.1", 9102)},
				Balance:  topology.BalanceRoundRobin,
				Affinity: topology.Affinity{Mode: topology.AffinityNone, Consistent: true},
				Health:   health(),
			},
		},
		Timeouts: topology.Timeouts{
			Connect: 5 * time.Second, Client: 60 * time.Second, Server: 60 * time.Second,
			Tunnel: time.Hour, ClientFin: 30 * time.Second, ServerFin: 30 * time.Second,
			HTTPRequest: 10 * time.Second, HTTPKeepAlive: 10 * time.Second,
		},
		Reload:   topology.Reload{Drain: 30 * time.Minute},
		Security: topology.Security{AllowMissingOrigin: true},
		Limits:   topology.Limits{MaxConns: 10000},
	}
}

// goCase is a topology built in Go, with the lines each config must hold.
type goCase struct {
	name    string
	topo    func() *topology.Topology
	haproxy []string
	nginx   []string
}

var goCases = []goCase{
	{
		name: "source-iphash",
		topo: func() *topology.Topology {
			return baseTopology("source-iphash", topology.Affinity{Mode: topology.AffinitySource, Consistent: true, NginxSource: topology.NginxIPHash})
		},
		haproxy: []string{"balance source", "hash-type consistent", "acl is_websocket hdr(Upgrade) -i websocket", "use_backend be_realtime if route_ws_path is_websocket", "timeout tunnel 1h", "hard-stop-after 30m", "option forwardfor", "option httpchk", "http-check send meth GET uri /healthz"},
		nginx:   []string{"ip_hash;", "proxy_http_version 1.1;", "proxy_set_header Connection $connection_upgrade;", "proxy_set_header Upgrade $http_upgrade;", "map $http_upgrade $connection_upgrade {", "proxy_read_timeout 1h;", "worker_shutdown_timeout 30m;", "max_fails=3 fail_timeout=6s"},
	},
	{
		name: "source-hash",
		topo: func() *topology.Topology {
			return baseTopology("source-hash", topology.Affinity{Mode: topology.AffinitySource, Consistent: true, NginxSource: topology.NginxHashRemoteAddr})
		},
		haproxy: []string{"balance source", "hash-type consistent"},
		nginx:   []string{"hash $remote_addr consistent;"},
	},
	{
		name: "source-client-ip-header",
		topo: func() *topology.Topology {
			return baseTopology("source-client-ip-header", topology.Affinity{Mode: topology.AffinitySource, Consistent: true, NginxSource: topology.NginxIPHash, ClientIPHeader: "X-Forwarded-For", TrustedProxies: []string{"10.0.0.0/8", "fd00::/8"}})
		},
		haproxy: []string{"acl wslb_trusted_proxy src 10.0.0.0/8 fd00::/8", "http-request set-src req.hdr_ip(X-Forwarded-For,-1) if wslb_trusted_proxy { req.hdr_ip(X-Forwarded-For,-1) -m found }", "balance source"},
		nginx:   []string{"geo $wslb_realtime_trusted {", "hash $wslb_realtime_client consistent;"},
	},
	{
		name: "cookie-map",
		topo: func() *topology.Topology {
			return baseTopology("cookie-map", topology.Affinity{Mode: topology.AffinityCookie, Cookie: "WSLB_SERVER", Consistent: true, CookieMaxAge: time.Hour})
		},
		haproxy: []string{"cookie WSLB_SERVER insert indirect nocache httponly maxlife 1h attr Max-Age=3600 attr SameSite=Lax", "server rt1 127.0.0.1:9001 check inter 2s rise 2 fall 3 cookie rt1"},
		nginx:   []string{"map $cookie_WSLB_SERVER $wslb_realtime_upstream {", "add_header Set-Cookie $wslb_realtime_set_cookie always;", "proxy_pass http://$wslb_realtime_upstream;", "upstream wslb_realtime_server_rt1 {", `default "WSLB_SERVER=$wslb_realtime_server; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600";`},
	},
	{
		name: "cookie-sticky",
		topo: func() *topology.Topology {
			t := baseTopology("cookie-sticky", topology.Affinity{Mode: topology.AffinityCookie, Cookie: "WSLB_SERVER", Consistent: true})
			t.Targets.Versions["nginx"] = topology.Version{Major: 1, Minor: 29, Patch: 6}
			return t
		},
		haproxy: []string{"cookie WSLB_SERVER insert indirect nocache httponly attr SameSite=Lax"},
		nginx:   []string{"sticky cookie WSLB_SERVER path=/ httponly samesite=lax;"},
	},
	{
		name: "header",
		topo: func() *topology.Topology {
			return baseTopology("header", topology.Affinity{Mode: topology.AffinityHeader, Header: "X-Session-Id", Consistent: true})
		},
		haproxy: []string{"balance hdr(X-Session-Id)", "hash-type consistent"},
		nginx:   []string{"hash $http_x_session_id consistent;"},
	},
	{
		name: "query",
		topo: func() *topology.Topology {
			return baseTopology("query", topology.Affinity{Mode: topology.AffinityQuery, Param: "session", Consistent: false})
		},
		haproxy: []string{"balance url_param session", "hash-type map-based"},
		nginx:   []string{"hash $arg_session;"},
	},
	{
		name: "leastconn",
		topo: func() *topology.Topology {
			t := baseTopology("leastconn", topology.Affinity{Mode: topology.AffinityNone, Consistent: true})
			t.Pools[0].Balance = topology.BalanceLeastConn
			return t
		},
		haproxy: []string{"balance leastconn"},
		nginx:   []string{"least_conn;"},
	},
	{
		name: "tls-origins-hosts",
		topo: func() *topology.Topology {
			t := baseTopology("tls-origins-hosts", topology.Affinity{Mode: topology.AffinityCookie, Cookie: "srv", Consistent: true})
			t.Listeners = []*topology.Listener{{
				Name:    "https",
				Address: topology.Address{Host: "127.0.0.1", Port: 8443},
				TLS:     &topology.TLS{Certificate: "/etc/wslb/cert.pem", Profile: topology.TLSIntermediate},
			}}
			t.Routes = []*topology.Route{
				{Name: "chat-ws", Host: "chat.example.com", PathPrefix: "/ws", WebSocketOnly: true, Pool: "realtime"},
				{Name: "chat", Host: "chat.example.com", PathPrefix: "/", Pool: "web"},
				{Name: "admin", PathPrefix: "/admin", Pool: "web"},
			}
			t.Security = topology.Security{AllowedOrigins: []string{"https://chat.example.com", "https://www.example.com:8443"}, AllowMissingOrigin: false}
			return t
		},
		haproxy: []string{"ssl crt /etc/wslb/cert.pem", "ssl-min-ver TLSv1.2", "http-request set-header X-Forwarded-Proto https", "acl wslb_origin_allowed req.fhdr(Origin) -m str -i https://chat.example.com https://www.example.com:8443", "http-request deny deny_status 403 if is_websocket wslb_origin_present !wslb_origin_single", "http-request deny deny_status 403 if is_websocket !wslb_origin_present", "acl route_chat_host hdr(host),field(1,:) -i chat.example.com", "secure", "default_backend wslb_no_route"},
		nginx:   []string{"listen 127.0.0.1:8443 ssl default_server;", "server_name chat.example.com;", "ssl_protocols TLSv1.2 TLSv1.3;", "if ($wslb_origin_denied) {", "https://chat.example.com 1;", `"" 0;`, "; Secure", "return 404;"},
	},
	{
		name: "backup-weights",
		topo: func() *topology.Topology {
			t := baseTopology("backup-weights", topology.Affinity{Mode: topology.AffinitySource, Consistent: true, NginxSource: topology.NginxIPHash})
			rt := t.Pools[0]
			rt.Servers[0].Weight = 10
			rt.Servers[1].MaxConns = 500
			rt.Servers[2].Backup = true
			web := t.Pools[1]
			web.Servers[1].Backup = true
			web.Servers[0].Weight = 3
			return t
		},
		haproxy: []string{"server rt1 127.0.0.1:9001 check inter 2s rise 2 fall 3 weight 10", "maxconn 500", "server rt3 127.0.0.1:9003 check inter 2s rise 2 fall 3 backup"},
		nginx:   []string{"server 127.0.0.1:9001 weight=10", "max_conns=500", "upstream wslb_realtime_backup {", "error_page 502 503 504 = @wslb_realtime_backup;", "server 127.0.0.1:9102 max_fails=3 fail_timeout=6s backup; # web2"},
	},
	{
		name: "mixed-path",
		topo: func() *topology.Topology {
			// Socket.IO style: one path carries long-polling and WebSocket,
			// and a WebSocket-only route shadows a plain one on the same path.
			t := baseTopology("mixed-path", topology.Affinity{Mode: topology.AffinityHeader, Header: "X-User", Consistent: true})
			t.Routes = []*topology.Route{
				{Name: "live", PathPrefix: "/api/live", WebSocketOnly: true, Pool: "realtime"},
				{Name: "api", PathPrefix: "/api", Pool: "web"},
				{Name: "events", PathPrefix: "/events", WebSocketOnly: true, Pool: "realtime"},
			}
			return t
		},
		haproxy: []string{"use_backend be_realtime if route_live_path is_websocket", "use_backend be_web if route_api_path", "default_backend wslb_no_route"},
		nginx:   []string{"location /api/live {", "error_page 418 = @wslb_websocket_1;", "location @wslb_websocket_1 {", "if ($wslb_is_websocket = 0) {"},
	},
	{
		name: "tls-old-ipv6",
		topo: func() *topology.Topology {
			t := baseTopology("tls-old-ipv6", topology.Affinity{Mode: topology.AffinitySource, Consistent: true, NginxSource: topology.NginxHashRemoteAddr})
			t.Listeners = []*topology.Listener{
				{Name: "v6", Address: topology.Address{Host: "::", Port: 8443}, TLS: &topology.TLS{Certificate: "/etc/wslb/site.pem", Key: "/etc/wslb/site.pem.key", Profile: topology.TLSOld}},
				{Name: "plain", Address: topology.Address{Host: "0.0.0.0", Port: 8080}},
			}
			t.Routes = append([]*topology.Route{{Name: "only-plain", Listener: "plain", PathPrefix: "/plain", Pool: "web"}}, t.Routes...)
			return t
		},
		haproxy: []string{"bind [::]:8443 ssl crt /etc/wslb/site.pem", "ssl-min-ver TLSv1.0", "@SECLEVEL=0", "bind :8080", "use_backend be_web if route_only-plain_path"},
		nginx:   []string{"listen [::]:8443 ssl default_server;", "ssl_certificate_key /etc/wslb/site.pem.key;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;", "listen 8080 default_server;", "location /plain {"},
	},
}
