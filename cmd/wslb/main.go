// Command wslb generates, lints and verifies HAProxy and NGINX configs for
// WebSocket applications.
package main

import (
	"os"

	"github.com/wslb/wslb/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
