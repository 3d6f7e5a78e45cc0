listener "public" {
  address = "0.0.0.0:8080; listen 1" # ERROR: Invalid listen address
}
listener "named" {
  address = "proxy.example.com\n:8081" # ERROR: Invalid listen address
}
route "a" {
  path = "/ws; return 200" # ERROR: Invalid path
  pool = "web"
}
route "b" {
  path = "/ws}" # ERROR: Invalid path
  pool = "web"
}
route "c" {
  path = "/ws#frag" # ERROR: Invalid path
  pool = "web"
}
route "d" {
  path = "/\"q" # ERROR: Invalid path
  pool = "web"
}
route "e" {
  path = "/a\\b" # ERROR: Invalid path
  pool = "web"
}
route "f" {
  path = "/${var.x}" # ERROR: Expression not allowed
  pool = "web"
}
route "g" {
  path = "/$${x}" # ERROR: Invalid path
  pool = "web"
}
route "h" {
  path = "/caf\u00e9" # ERROR: Invalid path
  pool = "web"
}
route "i" {
  path = "/a\u202eb" # ERROR: Invalid path
  pool = "web"
}
route "j" {
  path = "/%2e%2e/admin" # ERROR: Invalid path
  pool = "web"
}
route "k" {
  host = "chat.example.com;" # ERROR: Invalid host name
  pool = "web"
}
route "l" {
  host = "-chat.example.com" # ERROR: Invalid host name
  pool = "web"
}
route "m" {
  path = "/x"
  host = "chat.exаmple.com" # ERROR: Invalid host name
  pool = "web"
}
route "n" {
  path = upper("/x") # ERROR: Expression not allowed
  pool = "web"
}
pool "web" {
  health_check {
    path = "/healthz\r\nHost: evil" # ERROR: Invalid path
  }
  server "a" {
    address = "10.0.0.21:8080 backup" # ERROR: Invalid address
  }
  server "b" {
    address = "10.0.0.22:80'80" # ERROR: Invalid address
  }
  server "c" {
    address = "evil.com:80\n  server x 1.2.3.4" # ERROR: Invalid address
  }
}
