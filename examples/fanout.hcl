# A chat service whose WebSocket servers pin no one: every server joins one
# Redis pub/sub channel, and a message a client sends into a room on any
# server is published there and delivered to that room's clients on every
# server. A reconnecting client may land on any server, so the pool uses no
# affinity. wslb accepts that only because the pool names its broker, and
# only for WebSocket-only routes: HTTP long-polling (Socket.IO, SockJS)
# would still need affinity.
#
# Prove the fan-out: verify starts a Redis of its own on loopback (the url
# below is production's, like the server addresses) and checks that every
# client receives every message of its room exactly once, also while a node
# stops and while Redis restarts (pub/sub keeps nothing for a node that is
# reconnecting: what it loses is reported):
#   wslb verify examples/fanout.hcl

name = "fanout"

target {
  haproxy = "2.6"
  nginx   = "1.22"
}

listener "public" {
  address = "0.0.0.0:8080"
}

# Only WebSocket upgrades reach the realtime pool.
route "realtime" {
  path      = "/ws"
  websocket = true
  pool      = "realtime"
}

route "web" {
  path = "/"
  pool = "web"
}

pool "realtime" {
  balance = "leastconn"

  # No affinity: the servers share every room's messages through Redis.
  affinity {
    mode = "none"
  }

  broker {
    kind     = "redis"
    url      = "redis://10.0.0.5:6379"
    channel  = "chat"
    room_key = "room"
  }

  server "ws1" {
    address = "10.0.0.11:8080"
  }
  server "ws2" {
    address = "10.0.0.12:8080"
  }
  server "ws3" {
    address = "10.0.0.13:8080"
  }
}

pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
  server "web2" {
    address = "10.0.0.22:8080"
  }
}
