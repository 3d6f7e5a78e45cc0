listener "public" {
  address = "0.0.0.0:8080"
}
# Host names match case-insensitively, so the first route takes every
# request for app.example.com.
route "app" {
  host = "App.example.com"
  pool = "web"
}
route "api" { # WARNING: Unreachable route
  host = "app.example.com"
  path = "/api/"
  pool = "web"
}
pool "web" {
  server "web1" {
    address = "10.0.0.31:8080"
  }
}
