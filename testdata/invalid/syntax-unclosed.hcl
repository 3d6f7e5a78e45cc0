listener "public" {
  address = "0.0.0.0:8080"
}
pool "web" { # ERROR: Unclosed configuration block
  server "web1" {
    address = "10.0.0.21:8080"
  }
