# Header affinity for native clients on one listener, a host-restricted
# route on another, and a pool of one server.
name = "games"

listener "native" {
  address = "0.0.0.0:9001"
}

listener "browser" {
  address = "0.0.0.0:8080"
}

route "play" {
  listener  = "native"
  path      = "/play"
  websocket = true
  pool      = "rooms"
}

route "lobby" {
  listener = "browser"
  host     = "lobby.games.example"
  pool     = "lobby"
}

pool "rooms" {
  affinity {
    mode   = "header"
    header = "X-Room-Id"
  }
  server "r1" {
    address = "10.3.0.1:7000"
    weight  = 3
  }
  server "r2" { address = "10.3.0.2:7001" }
}

pool "lobby" {
  server "l1" { address = "10.3.1.1:8080" }
}
