listener "public" {
  address = "0.0.0.0:8080"
}

pool "realtime" {
  kubernetes_service = "realtime.chat:8080"
  affinity {
    mode = "source"
  }
}
