# Query affinity over a large pool: heavy weights call for a Maglev table.
name = "feeds"

listener "public" {
  address = "0.0.0.0:8080"
}

route "feed" {
  path = "/feed/ws"
  pool = "feed"
}

pool "feed" {
  affinity {
    mode  = "query"
    param = "feed"
  }
  server "f1" {
    address = "10.4.0.1:8080"
    weight  = 256
  }
  server "f2" {
    address = "10.4.0.2:8080"
    weight  = 256
  }
  server "f3" {
    address = "10.4.0.3:8080"
    weight  = 256
  }
}

timeouts {
  tunnel  = "30m"
  connect = "2s"
}

limits {
  max_conns = 50000
}
