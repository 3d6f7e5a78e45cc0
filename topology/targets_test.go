package topology

// The proxy registry registers the target proxies (proxy/haproxy,
// proxy/nginx); this package's tests cannot import it, so they register
// the same two, and "extra", a third that only proves the names are the
// registered ones.
func init() {
	RegisterTarget(TargetProxy{Name: "haproxy", Title: "HAProxy", Oldest: MinHAProxy})
	RegisterTarget(TargetProxy{Name: "nginx", Title: "NGINX", Oldest: MinNginx})
	RegisterTarget(TargetProxy{Name: "extra", Title: "Extra", Oldest: Version{Major: 3}})
}
