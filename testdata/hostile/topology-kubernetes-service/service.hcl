listener "public" {
  address = "0.0.0.0:8080"
}

route "ws" {
  path = "/ws"
  pool = "realtime"
}

route "web" {
  path = "/"
  pool = "web"
}

pool "realtime" {
  kubernetes_service = "realtime.chat:8080"
  affinity {
    mode = "source"
  }
}

pool "web" {
  kubernetes_service = "web.chat:80\"\n  server \"x\" { address = \"127.0.0.2:9\" }"
}
