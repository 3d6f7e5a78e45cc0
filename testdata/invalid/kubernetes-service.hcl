listener "public" {
  address = "0.0.0.0:8080"
}
route "a" {
  path = "/a/"
  pool = "both"
}
route "b" {
  path = "/b/"
  pool = "bad"
}
route "c" {
  path = "/"
  pool = "dns"
}
pool "both" {
  kubernetes_service = "both.prod:8080" # ERROR: Pool with servers and a Kubernetes Service
  server "s1" {
    address = "10.0.0.11:8080"
  }
}
pool "bad" {
  kubernetes_service = "Bad.prod:8080" # ERROR: Invalid Kubernetes Service
}
pool "dns" {
  kubernetes_service = "dns.prod.svc.cluster.local:80" # ERROR: Invalid Kubernetes Service
}
