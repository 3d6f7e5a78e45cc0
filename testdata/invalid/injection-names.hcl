# Names become config identifiers: anything outside the name grammar is
# rejected, never escaped.
name = "chat\nlisten 1" # ERROR: Invalid name
listener "public;" { # ERROR: Invalid name
  address = "0.0.0.0:8080"
}
route "web }" { # ERROR: Invalid name
  pool = "web\u0000" # ERROR: Invalid name
}
route "api" {
  path     = "/api/"
  pool     = "web"
  listener = "public#x" # ERROR: Invalid name
}
pool "web" {
  server "a\nb" { # ERROR: Invalid name
    address = "10.0.0.21:8080"
  }
  server "wеb2" { # ERROR: Invalid name
    address = "10.0.0.22:8080"
  }
  server "1st" { # ERROR: Invalid name
    address = "10.0.0.23:8080"
  }
}
