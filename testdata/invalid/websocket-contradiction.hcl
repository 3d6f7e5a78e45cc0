listener "public" {
  address = "0.0.0.0:8080"
}
route "ws" {
  path      = "/live"
  websocket = true
  pool      = "ws"
}
pool "ws" {
  websocket = false # ERROR: Pool websocket setting contradicts route
  affinity {
    mode = "none"
    consistent = false # ERROR: Attribute not used by affinity mode
  }
  server "ws1" {
    address = "10.0.0.21:8080"
  }
}
