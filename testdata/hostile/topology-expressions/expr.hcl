listener "public" {
  address = "0.0.0.0:${8000 + 80}"
}
listener "admin" {
  address = "127.0.0.1:%{ if true }9000%{ endif }"
}
listener "other" {
  address = "%{ for p in [1] }127.0.0.1:${p}%{ endfor }"
}
route "a" {
  path = true ? "/a" : "/b"
  pool = ["web"][0]
}
route "b" {
  path = [for s in ["x"] : "/${s}"]
  pool = web
}
route "c" {
  path = upper("/c")
  pool = "web"
}
pool "web" {
  server "s1" {
    weight  = 2 * 2
    address = "10.0.0.11:8080"
  }
}
