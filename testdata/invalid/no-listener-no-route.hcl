# Two pools, no listener, no route. # ERROR: No listener | ERROR: No route
pool "a" {
  server "a1" {
    address = "10.0.0.11:8080"
  }
}
pool "b" {
  server "b1" {
    address = "10.0.0.12:8080"
  }
}
