package docker

// The proxies' descriptors say how to read their binaries' versions, which
// the tests' proxy lookups need.
import _ "github.com/wslb/wslb/proxy/all"
