listener "public" {
  address = "0.0.0.0:8080"
}
route "realtime" {
  path      = "/ws"
  websocket = true
  pool      = "realtme" # ERROR: Undefined pool
  listener  = "publc" # ERROR: Undefined listener
}
route "web" {
  pool = "web"
}
pool "realtime" {
  affinity {
    mode = "source"
  }
  server "ws1" {
    address = "10.0.0.11:8080"
  }
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
