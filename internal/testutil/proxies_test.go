package testutil

// The proxies' descriptors say how to read their binaries' versions, which
// the helpers' proxy lookups need.
import _ "github.com/wslb/wslb/proxy/all"
