# A game backend with two kinds of clients.
#
# Browsers cannot set custom headers on the WebSocket handshake, but they
# can put anything in the URL: the browser client connects to
#   wss://play.example.com/play?room=ROOM_ID
# and every player of a room lands on the server hosting that room, whatever
# their address.
#
# Native clients and other services talk to the match-making API and send an
# X-Session-Id header on every request: keying on the header keeps a session
# on one server even when the client's address changes.

name = "game"

target {
  haproxy = "2.6"
  nginx   = "1.22"
}

listener "public" {
  address = "0.0.0.0:8080"
}

route "play" {
  path      = "/play"
  websocket = true
  pool      = "rooms"
}

route "api" {
  path = "/api/"
  pool = "matchmaking"
}

pool "rooms" {
  # Same room, same server; consistent hashing keeps rooms in place when a
  # server joins or leaves, except those on that server.
  affinity {
    mode       = "query"
    param      = "room"
    consistent = true
  }

  server "room1" {
    address   = "10.0.3.11:9000"
    max_conns = 2000
  }
  server "room2" {
    address   = "10.0.3.12:9000"
    max_conns = 2000
  }
}

pool "matchmaking" {
  # Requests without the header are spread round-robin.
  balance = "roundrobin"

  affinity {
    mode   = "header"
    header = "X-Session-Id"
  }

  health_check {
    path = "/api/health"
  }

  server "mm1" {
    address   = "10.0.3.21:8080"
    max_conns = 1000
  }
  server "mm2" {
    address   = "10.0.3.22:8080"
    max_conns = 1000
  }
}

timeouts {
  # Players idle in a lobby for long stretches.
  tunnel = "30m"
}

# Every server has a limit, so the proxies are sized from them (6000); the
# explicit limit below leaves room for the backup capacity added at peaks.
limits {
  max_conns = 8000
}
