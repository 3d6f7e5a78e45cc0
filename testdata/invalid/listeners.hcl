listener "zero" {
  address = "0.0.0.0:0" # ERROR: Invalid listen address
}
listener "big" {
  address = "0.0.0.0:70000" # ERROR: Invalid listen address
}
listener "noport" {
  address = "0.0.0.0" # ERROR: Invalid listen address
}
listener "v6" {
  address = "::1:8080" # ERROR: Invalid listen address
}
listener "zone" {
  address = "[fe80::1%eth0]:8080" # ERROR: Invalid listen address
}
listener "tls" {
  address = "[::]:8443"
  tls {
    certificate = "certs/chat.pem" # ERROR: Invalid file path
    key         = "/etc/ssl/private/chat key.pem" # ERROR: Invalid file path
    profile     = "intermediat" # ERROR: Unknown TLS profile
  }
}
listener "notls" {
  address = "127.0.0.1:8081"
  tls { # ERROR: Missing required argument
  }
}
pool "web" {
  server "web1" {
    address = "10.0.0.21" # ERROR: Invalid address
  }
  server "web2" {
    address = "*:8080" # ERROR: Invalid address
  }
}
