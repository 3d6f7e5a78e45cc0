# A block header without braces and a single-line block left open.
listener "public" {
  address "0.0.0.0:8080" # ERROR: Invalid block definition
}
pool "web" {
  server "web1" { address = "10.0.0.21:8080" # ERROR: Invalid single-argument block definition
}
