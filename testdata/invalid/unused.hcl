listener "public" {
  address = "0.0.0.0:8080"
}
listener "admin" { # WARNING: Listener without routes
  address = "127.0.0.1:9000"
}
route "web" {
  listener = "public"
  pool     = "web"
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
pool "old" { # WARNING: Unused pool
  server "old1" {
    address = "10.0.0.31:8080"
  }
}
limits {
  max_conns = 2000000 # ERROR: Invalid max_conns
}
