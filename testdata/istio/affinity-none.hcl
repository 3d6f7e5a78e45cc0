# No affinity: the servers share their state; new clients go to the least
# busy server.
name = "board"

listener "public" {
  address = "0.0.0.0:8080"
}

route "live" {
  path      = "/live"
  websocket = true
  pool      = "live"
}

pool "live" {
  balance = "leastconn"
  affinity {
    mode = "none"
  }
  server "a" { address = "10.1.0.1:9000" }
  server "b" { address = "10.1.0.2:9000" }
}
