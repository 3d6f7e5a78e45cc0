name = "mini"

listener "public" {
  address = "127.0.0.1:8080"
}

route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "rt"
}

pool "rt" {
  affinity {
    mode = "source"
  }
  server "a" {
    address = "127.0.0.1:9001"
  }
  server "b" {
    address = "127.0.0.1:9002"
  }
}
