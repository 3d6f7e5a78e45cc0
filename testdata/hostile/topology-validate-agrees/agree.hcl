listener "public" {
  address = "127.0.0.1:8080"
}
route "ws" {
  path = "/ws"
  pool = "ws"
}
pool "ws" {
  affinity {
    mode = "none"
  }
  server "w1" {
    address = "10.0.0.11:8080"
  }
  server "w2" {
    address = "10.0.0.12:8080"
  }
}
pool "src" {
  affinity {
    mode = "source"
  }
  server "s1" {
    address = "10.0.0.21:8080"
  }
  server "s2" {
    address = "10.0.0.22:8080"
  }
}
route "live" {
  path = "/live/ws"
  pool = "src"
}
