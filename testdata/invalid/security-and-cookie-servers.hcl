target {
  nginx = "1.24"
}
listener "public" {
  address = "0.0.0.0:8080"
}
pool "app" {
  affinity {
    mode   = "cookie"
    cookie = "SRV"
  }
  server "app1" {
    address = "10.0.0.11:8080"
  }
  server "app2" {
    address = "app2.internal:8080" # ERROR: Cookie affinity needs IP server addresses
  }
}
security {
  allow_missing_origin = false # WARNING: Origin check not enabled
}
