listener "public" {
  address = "0.0.0.0:8080"
}
pool "web" {
  health_check {
    path     = "healthz" # ERROR: Invalid path
    interval = "2 seconds" # ERROR: Invalid duration
    rise     = 0 # ERROR: Health check threshold out of range
    fall     = 0 # ERROR: Health check threshold out of range
    timeout  = "-1s" # ERROR: Invalid duration
  }
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
timeouts {
  connect    = "0s" # ERROR: Invalid duration
  client     = "1.5us" # ERROR: Invalid duration
  server     = "30d" # ERROR: Invalid duration
  http_request = "600h" # ERROR: Invalid duration
  tunnel     = "500ms" # ERROR: Tunnel timeout too short | ERROR: Tunnel timeout shorter than health check interval
  client_fin = "2s" # WARNING: client_fin longer than tunnel
}
