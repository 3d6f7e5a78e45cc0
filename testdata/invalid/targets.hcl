target {
  haproxy = "2.2" # ERROR: Unsupported HAProxy version
  nginx   = "latest" # ERROR: Invalid version
}
listener "public" {
  address = "0.0.0.0:8080"
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
