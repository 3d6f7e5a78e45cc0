# Values are literals: nothing is evaluated, interpolated or converted.
listener "public" {
  address = "0.0.0.0:${8000 + 80}" # ERROR: Expression not allowed
}
listener "admin" {
  address = "127.0.0.1:%{ if true }9000%{ endif }" # ERROR: Expression not allowed
}
listener "other" {
  address = "%{ for p in [1] }127.0.0.1:${p}%{ endfor }" # ERROR: Expression not allowed
}
route "a" {
  path = true ? "/a" : "/b" # ERROR: Expression not allowed
  pool = ["web"][0] # ERROR: Expression not allowed
}
route "b" {
  path = [for s in ["x"] : "/${s}"] # ERROR: Expression not allowed
  pool = web # ERROR: Expression not allowed
}
route "c" {
  path = ("/c") # ERROR: Expression not allowed
  pool = "${"web"}" # ERROR: Expression not allowed
  websocket = !false # ERROR: Expression not allowed
}
pool "web" {
  server "s1" {
    address = "10.0.0.11:8080"
    weight  = "5" # ERROR: Incorrect value type
    backup  = "true" # ERROR: Incorrect value type
  }
  server "s2" {
    address   = "10.0.0.12:8080"
    weight    = 2 * 2 # ERROR: Expression not allowed
    max_conns = -5 # ERROR: Invalid max_conns
  }
  server "s3" {
    address = 10 # ERROR: Incorrect value type
    weight  = { n = 1 } # ERROR: Expression not allowed
  }
}
security {
  allowed_origins = "https://app.example.com" # ERROR: Incorrect value type
}
limits {
  max_conns = "100" # ERROR: Incorrect value type
}
timeouts {
  tunnel = <<EOT
1h${""} # ERROR: Expression not allowed
EOT
}
