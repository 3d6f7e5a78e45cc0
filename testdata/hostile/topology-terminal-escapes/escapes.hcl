listener "public" {
  address = "127.0.0.1:80[2J‮" # ‮
}
pool "web" {
  server "w1" {
    address = "10.0.0.11:8080"
  }
}
