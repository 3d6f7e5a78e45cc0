// Package all registers every built-in driver: import it for its side
// effect wherever a driver is picked by name.
package all

import (
	_ "github.com/wslb/wslb/driver/docker"   // containers on a network of their own
	_ "github.com/wslb/wslb/driver/loopback" // processes on 127.0.0.0/8
	_ "github.com/wslb/wslb/driver/netns"    // network namespaces on a private bridge
)
