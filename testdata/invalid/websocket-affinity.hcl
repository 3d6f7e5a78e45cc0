listener "public" {
  address = "0.0.0.0:8080"
}
route "io" {
  path = "/socket.io/"
  pool = "io"
}
route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "ws"
}
route "web" {
  path = "/"
  pool = "web"
}
route "late" { # WARNING: Unreachable route
  path = "/api/"
  pool = "web"
}
pool "io" { # ERROR: Socket.IO without affinity
  server "io1" {
    address = "10.0.0.11:3000"
  }
  server "io2" {
    address = "10.0.0.12:3000"
  }
}
pool "ws" { # WARNING: WebSocket pool without affinity
  server "ws1" {
    address = "10.0.0.21:8080"
  }
  server "ws2" {
    address = "10.0.0.22:8080"
  }
}
pool "web" {
  websocket = false
  server "web1" {
    address = "10.0.0.31:8080"
  }
}
