listener "public" {
  address = "127.0.0.1:8080"
}
pool "web" {
  server "w1" {
    address = "10.0.0.11:8080"
    weight  = "5"
    backup  = "true"
  }
  server "w2" {
    address = "10.0.0.12:8080"
  }
}
