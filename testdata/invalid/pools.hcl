listener "public" {
  address = "0.0.0.0:8080"
}
route "a" {
  path = "/a/"
  pool = "empty"
}
route "b" {
  path = "/b/"
  pool = "spares"
}
route "c" {
  path = "/"
  pool = "web"
}
pool "empty" { # ERROR: Pool without servers
}
pool "spares" { # ERROR: Pool with only backup servers
  server "s1" {
    address = "10.0.0.11:8080"
    backup  = true
  }
}
pool "web" {
  server "w1" {
    address   = "10.0.0.21:8080"
    weight    = 0 # ERROR: Weight out of range
    max_conns = 0 # ERROR: Invalid max_conns
  }
  server "w2" {
    address   = "10.0.0.22:8080"
    weight    = 257 # ERROR: Weight out of range
    max_conns = -5 # ERROR: Invalid max_conns
  }
  server "w3" {
    address = "10.0.0.23:8080"
    weight  = 1.5 # ERROR: Incorrect value type
    backup  = "maybe" # ERROR: Incorrect value type
  }
}
limits {
  max_conns = 0 # ERROR: Invalid max_conns
}
