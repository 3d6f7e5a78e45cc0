listener "public" {
  address = "0x7f.1:8080"
}
pool "web" {
  server "w1" {
    address = "0x0a000001:8080"
  }
  server "w2" {
    address = "127.1:8080"
  }
  server "w3" {
    address = "0177.0.0.1:8080"
  }
}
