# Cookie affinity with a session cookie, every listener on TLS (so the
# cookie is Secure), and an Origin allowlist that also lets clients
# without Origin through.
name = "Desk_App"

# Host-name servers need NGINX's sticky cookie for the NGINX config.
target {
  nginx = "1.30"
}

listener "web" {
  address = "0.0.0.0:443"
  tls {
    certificate = "/etc/ssl/private/desk.pem"
    profile     = "modern"
  }
}

route "socket" {
  path      = "/socket/"
  websocket = true
  pool      = "Agents_1"
}

route "pages" {
  pool = "pages"
}

pool "Agents_1" {
  affinity {
    mode   = "cookie"
    cookie = "desk_srv"
  }
  server "agent.1" { address = "agents-1.desk.internal:7000" }
  server "agent_1" { address = "agents-2.desk.internal:7000" }
  server "agent-3" {
    address = "agents-3.desk.internal:7000"
    backup  = true
  }
}

pool "pages" {
  health_check {
    enabled = false
  }
  server "p1" { address = "10.2.0.1:8080" }
  server "p2" { address = "10.2.0.2:8080" }
}

security {
  allowed_origins      = ["https://desk.example.com"]
  allow_missing_origin = true
}
