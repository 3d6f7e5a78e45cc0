listener "public" {
  address = "0.0.0.0:8080"
}
route "a" {
  path = "/a/"
  pool = "a"
}
route "b" {
  path = "/b/"
  pool = "b"
}
route "c" {
  path = "/c/"
  pool = "c"
}
route "d" {
  path = "/d/"
  pool = "d"
}
route "e" {
  path = "/e/"
  pool = "e"
}
pool "a" {
  affinity { # ERROR: Missing affinity cookie name
    mode = "cookie"
  }
  server "a1" {
    address = "10.0.0.11:8080"
  }
}
pool "b" {
  affinity { # ERROR: Missing affinity header
    mode = "header"
  }
  server "b1" {
    address = "10.0.0.12:8080"
  }
}
pool "c" {
  affinity { # ERROR: Missing affinity query parameter
    mode = "query"
  }
  server "c1" {
    address = "10.0.0.13:8080"
  }
}
pool "d" {
  affinity {
    mode         = "source"
    cookie       = "WSLB_SRV" # ERROR: Attribute not used by affinity mode
    nginx_method = "iphash" # ERROR: Unknown NGINX source method
    client_ip_header = "X-Forwarded-For" # ERROR: Missing trusted_proxies
  }
  server "d1" {
    address = "10.0.0.14:8080"
  }
}
pool "e" {
  balance = "least_conn" # ERROR: Unknown balance algorithm
  affinity {
    mode = "sticky" # ERROR: Unknown affinity mode
  }
  server "e1" {
    address = "10.0.0.15:8080"
  }
}
