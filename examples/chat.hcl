# A chat service: browsers load the web app from the "web" pool and open a
# WebSocket on /ws that is served by the "realtime" pool. A chat server keeps
# each connected user's presence in memory, so a reconnecting client should
# return to the server it was on: the realtime pool pins clients by source IP.

name = "chat"

# Proxy versions the generated configs must run on (Debian 12 ships these).
target {
  haproxy = "2.6"
  nginx   = "1.22"
}

listener "public" {
  address = "0.0.0.0:8080"
}

# Routes are tried in order; the first match wins. WebSocket upgrades on /ws
# go to the realtime pool ...
route "realtime" {
  path      = "/ws"
  websocket = true
  pool      = "realtime"
}

# ... and everything else (pages, assets, the REST API) to the web pool.
route "web" {
  path = "/"
  pool = "web"
}

pool "realtime" {
  # New clients go to the server with the fewest open sockets.
  balance = "leastconn"

  # Source-IP affinity with consistent hashing: when a server fails only its
  # own clients move. On NGINX, "hash" keys on the full address ($remote_addr)
  # instead of ip_hash's IPv4 /24, which spreads clients behind one NAT'ed
  # office network better.
  affinity {
    mode         = "source"
    consistent   = true
    nginx_method = "hash"
  }

  health_check {
    path     = "/healthz"
    interval = "2s"
    rise     = 2
    fall     = 3
  }

  server "ws1" {
    address   = "10.0.0.11:8080"
    max_conns = 5000
  }
  server "ws2" {
    address   = "10.0.0.12:8080"
    max_conns = 5000
  }
  server "ws3" {
    address   = "10.0.0.13:8080"
    max_conns = 5000
  }
}

# Plain HTTP: stateless, so no affinity is needed.
pool "web" {
  health_check {
    path = "/healthz"
  }

  server "web1" {
    address = "10.0.0.21:8080"
  }
  server "web2" {
    address = "10.0.0.22:8080"
  }
}

timeouts {
  # Idle WebSockets are closed after 1 hour without a frame in either
  # direction; the chat client pings every 30 seconds, so live ones never are.
  tunnel = "1h"
  # Half-closed connections are released after 30 seconds.
  client_fin = "30s"
}

# On reload, old proxy processes keep serving established WebSockets for up
# to 30 minutes, then close them so clients reconnect to the new ones.
reload {
  drain = "30m"
}

# Only the chat web app may open WebSockets from a browser (cross-site
# WebSocket hijacking protection); native clients send no Origin.
security {
  allowed_origins      = ["https://chat.example.com"]
  allow_missing_origin = true
}
