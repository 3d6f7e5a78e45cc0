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
pool "a" {
  affinity {
    mode   = "cookie"
    cookie = "SRV; path=/" # ERROR: Invalid cookie name
  }
  server "a1" {
    address = "10.0.0.11:8080"
  }
}
pool "b" {
  affinity {
    mode   = "header"
    header = "X-Session\nId" # ERROR: Invalid header name
  }
  server "b1" {
    address = "10.0.0.12:8080"
  }
}
pool "c" {
  affinity {
    mode  = "query"
    param = "sid}" # ERROR: Invalid query parameter name
  }
  server "c1" {
    address = "10.0.0.13:8080"
  }
}
pool "d" {
  affinity {
    mode             = "source"
    client_ip_header = "X-Real-IP#" # ERROR: Invalid header name
    trusted_proxies  = [
      "10.0.0.0/8",
      "10.0.0.1/8", # ERROR: Invalid network
      "10.0.0.0/8; allow all", # ERROR: Invalid network
    ]
  }
  server "d1" {
    address = "10.0.0.14:8080"
  }
}
security {
  allowed_origins = [
    "https://chat.example.com",
    "https://chat.example.com/", # ERROR: Invalid Origin
    "https://Chat.example.com", # ERROR: Invalid Origin
    "https://chat.example.com:443", # ERROR: Invalid Origin
    "ftp://chat.example.com", # ERROR: Invalid Origin
    "https://chat.example.com\"", # ERROR: Invalid Origin
    "https://x.com\nX-Evil: 1", # ERROR: Invalid Origin
    "*", # ERROR: Invalid Origin
  ]
  allow_missing_origin = "no" # ERROR: Incorrect value type
}
