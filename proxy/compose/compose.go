// Package compose is the Docker Compose target of wslb generate: a compose
// project that runs the topology on one machine, for people who want to
// try it themselves. The project holds the proxy (HAProxy or NGINX, one
// compose profile each) with the config wslb generates for it mounted,
// one wslb echo backend per server on an internal network with fixed
// addresses, and the listeners' ports published on the host.
//
// The target is ConfigOnly: wslb writes the project but does not run it
// (verify runs the proxies itself); its tests run it with docker-compose.
package compose

import (
	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
)

// Kind is the target's name.
const Kind proxy.Kind = "compose"

// File names in the project directory.
const (
	ComposeFile    = "docker-compose.yml"
	EnvFile        = ".env"
	Dockerfile     = "Dockerfile"
	DockerIgnore   = ".dockerignore"
	ReadmeFile     = "README.md"
	DefaultProfile = "haproxy"
)

// Descriptor is Docker Compose's entry in the proxy registry.
var Descriptor = &proxy.Descriptor{
	Name:       Kind,
	Title:      "Docker Compose",
	ConfigName: ComposeFile,
	ConfigOnly: true,
}

func init() {
	proxy.Register(Descriptor)
	generator.RegisterFiles(Kind, Generate)
}
