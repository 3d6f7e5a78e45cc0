# Source affinity behind a load balancer that sets X-Forwarded-For, on a
# TLS listener for legacy clients.
name = "ticker"

listener "secure" {
  address = "[::]:8443"
  tls {
    certificate = "/etc/ssl/private/ticker.pem"
    key         = "/etc/ssl/private/ticker.pem.key"
    profile     = "old"
  }
}

route "quotes" {
  path = "/quotes/ws"
  pool = "quotes"
}

pool "quotes" {
  affinity {
    mode             = "source"
    client_ip_header = "X-Forwarded-For"
    trusted_proxies  = ["10.0.0.0/8"]
  }
  health_check {
    interval = "5s"
    rise     = 3
    fall     = 2
  }
  server "q1" {
    address   = "[fd00::11]:8080"
    max_conns = 2000
  }
  server "q2" {
    address   = "[fd00::12]:8080"
    max_conns = 3000
  }
}
