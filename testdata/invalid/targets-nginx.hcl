target {
  haproxy = "2.4.0"
  nginx   = "1.16.1" # ERROR: Unsupported NGINX version
}
target { # ERROR: Duplicate target block
  haproxy = "3.0"
}
listener "public" {
  address = "0.0.0.0:8080"
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
