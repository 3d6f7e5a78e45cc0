# A Socket.IO application. Socket.IO starts every session with HTTP
# long-polling on /socket.io/ and then upgrades to a WebSocket on the same
# path. The polling requests are separate HTTP requests that must all reach
# the server holding the session; without affinity they are spread over the
# servers and clients fail with "Session ID unknown" (HTTP 400). wslb refuses
# a Socket.IO route to a multi-server pool without affinity.
#
# Cookie affinity is used here: it survives clients changing networks (mobile
# users) and does not collapse users behind one NAT onto one server, which
# source-IP affinity would. Source affinity (mode = "source") also works if
# clients cannot keep cookies.

name = "socketio"

target {
  haproxy = "2.6"
  nginx   = "1.22"
}

listener "public" {
  address = "0.0.0.0:8080"
}

# Polling and WebSocket share the path: no `websocket = true` here, or the
# polling requests would not match this route.
route "socketio" {
  path = "/socket.io/"
  pool = "socketio"
}

route "static" {
  path = "/"
  pool = "static"
}

pool "socketio" {
  affinity {
    mode   = "cookie"
    cookie = "io_srv"
  }

  # The Node.js servers expose a health endpoint beside Socket.IO.
  health_check {
    path = "/healthz"
  }

  server "io1" {
    address = "10.0.2.11:3000"
  }
  server "io2" {
    address = "10.0.2.12:3000"
  }
  server "io3" {
    address = "10.0.2.13:3000"
  }
}

pool "static" {
  server "cdn-origin" {
    address = "10.0.2.21:8080"
  }
}

timeouts {
  # Socket.IO pings every 25 s, so a live socket is never idle for 5 minutes.
  tunnel = "5m"
  # A long-polling request is held open up to the ping interval (25 s).
  server = "60s"
}

security {
  allowed_origins = ["https://app.example.com"]
}
