listener "public" {
  address = "0.0.0.0:8443"
  tls {
    certificate = "/etc/ssl/private/chat.pem"
    key         = "/etc/ssl/private/chat.key" # WARNING: HAProxy will not read this key file
  }
}
listener "other" {
  address = "0.0.0.0:9443"
  tls {
    certificate = "/etc/ssl/private/other.pem"
    key         = "/etc/ssl/private/other.pem.key"
    profile     = "morden" # ERROR: Unknown TLS profile
  }
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
