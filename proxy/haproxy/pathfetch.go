package haproxy

// IsPathFetch reports whether an ACL's sample fetch reads the request
// path or URL (path, path_beg, url_sub, base_reg, ...).
func IsPathFetch(fetch string) bool { return pathFetchRe.MatchString(fetch) }
