listener "public" {
  address = "0.0.0.0:8080"
}
listener "public" { # ERROR: Duplicate listener
  address = "127.0.0.1:8081"
}
listener "other" {
  address = "*:8080" # ERROR: Duplicate listener address
}
route "web" {
  path = "/api/"
  pool = "web"
}
route "web" { # ERROR: Duplicate route
  pool = "web"
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
  server "web1" { # ERROR: Duplicate server
    address = "10.0.0.22:8080"
  }
}
pool "web" { # ERROR: Duplicate pool
  server "web3" {
    address = "10.0.0.23:8080"
  }
}
timeouts {
  tunnel = "1h"
}
timeouts { # ERROR: Duplicate timeouts block
  tunnel = "2h"
}
