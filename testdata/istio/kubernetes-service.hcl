# Pools that name Kubernetes Services instead of listing servers: cookie
# affinity on a Socket.IO service, and a plain web service beside it.
name = "board"

listener "public" {
  address = "0.0.0.0:8080"
}

route "io" {
  path = "/socket.io/"
  pool = "io"
}

route "web" {
  path = "/"
  pool = "web"
}

pool "io" {
  kubernetes_service = "board-io.realtime:3000"
  affinity {
    mode    = "cookie"
    cookie  = "io_srv"
    max_age = "1h"
  }
}

pool "web" {
  kubernetes_service = "board-web.web:80"
  health_check {
    enabled = false
  }
}
