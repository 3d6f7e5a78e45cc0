# A collaborative editor: each document session lives on one backend server,
# so every request and WebSocket of a browser must reach the same server.
# Cookie affinity does this without depending on client addresses: the
# proxy sets WSLB_SRV on the first response and routes on it afterwards.
# Browsers send cookies on the WebSocket handshake too, so the socket opened
# by the page lands on the server that served the page.

name = "editor"

target {
  haproxy = "2.6"
  nginx   = "1.22"
}

listener "public" {
  address = "0.0.0.0:8080"
}

# One pool serves pages, the API and the WebSocket on /ws.
route "app" {
  path = "/"
  pool = "app"
}

pool "app" {
  # Clients without the cookie yet go to the least busy server.
  balance = "leastconn"

  affinity {
    mode   = "cookie"
    cookie = "WSLB_SRV"
    # Expire the pin after 12 hours so long-lived browsers rebalance.
    max_age = "12h"
  }

  # The page opens its WebSocket on /ws; say so, since the route is "/".
  websocket = true

  health_check {
    path     = "/healthz"
    interval = "3s"
  }

  server "app1" {
    address = "10.0.1.11:8080"
  }
  server "app2" {
    address = "10.0.1.12:8080"
  }
  server "app3" {
    address = "10.0.1.13:8080"
    # A bigger machine: twice the share of new clients.
    weight = 2
  }
  # Takes traffic only when every other server is down.
  server "spare" {
    address = "10.0.1.19:8080"
    backup  = true
  }
}

timeouts {
  tunnel = "2h"
}

security {
  # Cookie-authenticated WebSockets must check Origin: without it any site
  # the user visits could open a socket with the user's cookies.
  allowed_origins      = ["https://editor.example.com", "https://www.example.com"]
  allow_missing_origin = false
}
