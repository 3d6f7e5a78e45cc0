listener "public" {
  address = "0.0.0.0:8080"
}
pool "web" {
  health_check {
    interval = "10s"
  }
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
timeouts {
  tunnel     = "5s" # ERROR: Tunnel timeout shorter than health check interval
  client_fin = "1s"
}
