listener "public" {
  address = "127.0.0.1:8080"
}
route "ws" {
  path = "/ws"
  pool = "ws"
}
pool "ws" {
  affinity {
    mode   = "header"
    header = "Sec-WebSocket-Key"
  }
  server "w1" {
    address = "10.0.0.11:8080"
  }
}
