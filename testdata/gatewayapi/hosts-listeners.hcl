# Two listeners (one with TLS), routes restricted to one of them, routes
# for one host, a strict Origin allowlist without handshakes lacking an
# Origin, and a shorter prefix declared before a longer one.
name = "desk"

listener "web" {
  address = "0.0.0.0:8080"
}

listener "secure" {
  address = "0.0.0.0:8443"
  tls {
    certificate = "/etc/ssl/private/desk.pem"
  }
}

route "admin-ws" {
  listener  = "secure"
  host      = "admin.desk.example"
  path      = "/live/"
  websocket = true
  pool      = "live"
}

route "live" {
  path      = "/live/"
  websocket = true
  pool      = "live"
}

route "api" {
  path = "/api/"
  pool = "app"
}

route "app" {
  path = "/"
  pool = "app"
}

route "api-v2" {
  path = "/api/v2/"
  pool = "live"
}

pool "live" {
  affinity {
    mode   = "header"
    header = "X-Desk-Session"
  }
  server "l1" { address = "10.1.0.11:9000" }
  server "l2" { address = "10.1.0.12:9000" }
}

pool "app" {
  balance = "leastconn"
  server "a1" { address = "app-1.desk.internal:8080" }
  server "a2" { address = "app-2.desk.internal:8080" }
}

security {
  allowed_origins      = ["https://desk.example", "https://admin.desk.example"]
  allow_missing_origin = false
}
