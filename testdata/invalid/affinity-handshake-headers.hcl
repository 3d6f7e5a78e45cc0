# Handshake headers are fresh per handshake or the same for every client:
# none of them can keep a client on one server.
listener "public" {
  address = "0.0.0.0:8080"
}
route "a" {
  path = "/a/ws"
  pool = "a"
}
route "b" {
  path = "/b/ws"
  pool = "b"
}
route "c" {
  path = "/c/ws"
  pool = "c"
}
pool "a" {
  affinity {
    mode   = "header"
    header = "Sec-WebSocket-Key" # ERROR: Affinity header cannot pin a client
  }
  server "a1" {
    address = "10.0.0.11:8080"
  }
}
pool "b" {
  affinity {
    mode   = "header"
    header = "upgrade" # ERROR: Affinity header cannot pin a client
  }
  server "b1" {
    address = "10.0.0.12:8080"
  }
}
pool "c" {
  affinity {
    mode   = "header"
    header = "X-Session-Id"
  }
  server "c1" {
    address = "10.0.0.13:8080"
  }
}
