listener "public" { # ERROR: Missing required argument
  adress = "0.0.0.0:8080" # ERROR: Unsupported argument
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
    wieght  = 2 # ERROR: Unsupported argument
  }
  helth_check { # ERROR: Unsupported block type
    path = "/healthz"
  }
}
timeouts {
  tunel = "1h" # ERROR: Unsupported argument
}
