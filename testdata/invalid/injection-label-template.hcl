# Labels are literal: a template sequence in one is a syntax error.
listener "public" {
  address = "0.0.0.0:8080"
}
pool "${x}" { # ERROR: Invalid string literal
  server "s" {
    address = "10.0.0.24:8080"
  }
}
