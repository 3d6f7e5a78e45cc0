package compose

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// Where things are inside the containers.
const (
	// configDir holds the mounted proxy config.
	configDir = "/etc/wslb"
	// runDir is a tmpfs for the pid file, sockets and NGINX's temporary
	// files: the configs are generated in runtime mode (generator.Runtime)
	// with their logs on the container's output.
	runDir = "/run/wslb"
	// wslbBinary is wslb in the backends' image (Dockerfile).
	wslbBinary = "/wslb"
)

// Environment variables that override the project's defaults when
// docker-compose runs (compose interpolation; an .env file works too).
const (
	ImageEnv   = "WSLB_IMAGE"           // the backends' image
	PublishEnv = "WSLB_PUBLISH_ADDRESS" // the host address the listeners are published on
	// DefaultPublish keeps the listeners off the host's other interfaces.
	DefaultPublish = "127.0.0.1"
	// DefaultImage is the image the Dockerfile builds.
	DefaultImage = "wslb"
)

// ImageEnvOf is the variable naming the image of proxy kind
// (WSLB_HAPROXY_IMAGE).
func ImageEnvOf(kind proxy.Kind) string { return "WSLB_" + envName(string(kind)) + "_IMAGE" }

// maxServers is what the backend network's /24 holds after the gateway
// and the addresses kept free below firstServer.
const (
	firstServer = 10
	maxServers  = 254 - firstServer + 1
)

// dockerfile is the backends' image: wslb's static binary FROM scratch,
// as verify --driver docker builds its node image.
const dockerfile = "# The wslb echo backends' image: a statically linked wslb FROM scratch.\n" +
	"# Copy wslb here first (CGO_ENABLED=0 go build -o wslb ./cmd/wslb); see README.md.\n" +
	"FROM scratch\nCOPY wslb " + wslbBinary + "\nENTRYPOINT [\"" + wslbBinary + "\"]\n"

// dockerignore keeps the build context to the binary.
const dockerignore = "*\n!wslb\n"

// Project is what Generate writes, before it is encoded.
type Project struct {
	Topology *topology.Topology
	// Subnet is the internal network of the proxy and the backends.
	Subnet netip.Prefix
	// Proxies are the proxies, by name, each a profile.
	Proxies []*ProxyService
	// Backends are the echo backends, one per server.
	Backends []*Backend
	// Listeners are the published ports.
	Listeners []*Listener
}

// ProxyService is one proxy's service.
type ProxyService struct {
	Kind    proxy.Kind
	Title   string
	Service string
	Image   string // default image, before the override
	Config  string // file name in the project and under configDir
	Command []string
	Bytes   []byte // the config
}

// Backend is one server's echo backend.
type Backend struct {
	Service string
	ID      string // the server's name, which every reply carries
	Pool    string
	Addr    netip.AddrPort
	// Was is the server's address in the topology.
	Was topology.Address
}

// Listener is a published port.
type Listener struct {
	Name    string
	Port    int
	PortEnv string
	TLS     *topology.TLS
}

// Generate writes the compose project for t.
func Generate(t *topology.Topology, _ generator.Options) ([]generator.Artifact, error) {
	p, err := NewProject(t)
	if err != nil {
		return nil, err
	}
	file, err := p.ComposeYAML()
	if err != nil {
		return nil, err
	}
	readme, err := p.Readme()
	if err != nil {
		return nil, err
	}
	arts := []generator.Artifact{{Name: ComposeFile, Kind: Kind, Bytes: file}}
	for _, px := range p.Proxies {
		arts = append(arts, generator.Artifact{Name: px.Config, Kind: px.Kind, Bytes: px.Bytes})
	}
	arts = append(arts,
		generator.Artifact{Name: EnvFile, Kind: Kind, Bytes: []byte("# The proxy docker-compose starts unless --profile names the other one.\nCOMPOSE_PROFILES=" + DefaultProfile + "\n")},
		generator.Artifact{Name: Dockerfile, Kind: Kind, Bytes: []byte(dockerfile)},
		generator.Artifact{Name: DockerIgnore, Kind: Kind, Bytes: []byte(dockerignore)},
		generator.Artifact{Name: ReadmeFile, Kind: Kind, Bytes: readme},
	)
	return arts, nil
}

// NewProject plans the project: the backends' addresses, the listeners'
// ports, and each proxy's config for the containers' addresses.
func NewProject(t *topology.Topology) (*Project, error) {
	p := &Project{Topology: t, Subnet: subnetOf(t.Name)}
	services := names{}
	for _, d := range proxy.All() {
		if d.ContainerCommand == nil {
			continue
		}
		p.Proxies = append(p.Proxies, &ProxyService{
			Kind: d.Name, Title: d.Title, Service: services.get(serviceName(string(d.Name))),
			Image: string(d.Name) + ":" + versionOf(d, t), Config: d.ConfigName,
		})
	}
	if len(p.Proxies) == 0 {
		return nil, fmt.Errorf("no proxy wslb runs is registered")
	}
	local, err := p.plan(services)
	if err != nil {
		return nil, err
	}
	arts, err := generator.Generate(local, generator.Options{
		Kinds:   kinds(p.Proxies),
		Runtime: &generator.Runtime{Dir: runDir, ConsoleLogs: true},
	})
	if err != nil {
		return nil, err
	}
	for i, a := range arts {
		px := p.Proxies[i]
		px.Bytes = a.Bytes
		d, _ := proxy.Lookup(string(px.Kind))
		px.Command = d.ContainerCommand(configDir+"/"+px.Config, runDir)
	}
	return p, nil
}

func kinds(ps []*ProxyService) []proxy.Kind {
	var out []proxy.Kind
	for _, p := range ps {
		out = append(out, p.Kind)
	}
	return out
}

// versionOf is the MAJOR.MINOR the topology targets (else the oldest
// wslb writes for): the tag of the official image.
func versionOf(d *proxy.Descriptor, t *topology.Topology) string {
	v := d.Target(t.Targets)
	if v == (topology.Version{}) {
		v = d.MinVersion
	}
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// subnetOf is the backend network: a /24 of 172.16.0.0/16, which Docker's
// default address pools leave out, picked by the topology's name so that
// projects of different topologies can run side by side.
func subnetOf(name string) netip.Prefix {
	h := fnv.New32a()
	h.Write([]byte(name))
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(h.Sum32() % 256), 0}), 24)
}

// plan gives every server a backend with an address on the subnet, and
// returns a copy of the topology whose servers are those addresses and
// whose listeners listen on every address of the proxy's container.
func (p *Project) plan(services names) (*topology.Topology, error) {
	t := p.Topology
	local := *t
	local.Listeners = nil
	ports := map[int]string{}
	envs := names{}
	for _, l := range t.Listeners {
		if other, ok := ports[l.Address.Port]; ok {
			return nil, fmt.Errorf("listeners %q and %q both use port %d: in the proxy's container both listen on every address; give them different ports", other, l.Name, l.Address.Port)
		}
		ports[l.Address.Port] = l.Name
		if l.TLS != nil {
			for _, f := range []string{l.TLS.Certificate, l.TLS.Key} {
				if f != "" && !filepath.IsAbs(f) {
					return nil, fmt.Errorf("listener %q: the certificate file %q is mounted into the proxy's container at the same path: give an absolute path", l.Name, f)
				}
			}
		}
		cp := *l
		cp.Address = topology.Address{Host: "0.0.0.0", Port: l.Address.Port}
		local.Listeners = append(local.Listeners, &cp)
		p.Listeners = append(p.Listeners, &Listener{
			Name: l.Name, Port: l.Address.Port, TLS: l.TLS,
			PortEnv: envs.get("WSLB_" + envName(l.Name) + "_PORT"),
		})
	}
	// One backend per server; a server listed in several pools (the same
	// name and address) is one backend.
	type key struct {
		name string
		addr topology.Address
	}
	byKey := map[key]*Backend{}
	next := p.Subnet.Addr().Next()
	for range firstServer - 1 {
		next = next.Next()
	}
	local.Pools = nil
	for _, pool := range t.Pools {
		cp := *pool
		cp.Servers = nil
		for _, s := range pool.Servers {
			k := key{s.Name, s.Address}
			b := byKey[k]
			if b == nil {
				if len(p.Backends) == maxServers {
					return nil, fmt.Errorf("more than %d servers: the backend network holds %d", maxServers, maxServers)
				}
				b = &Backend{
					Service: services.get(serviceName(s.Name)), ID: s.Name, Pool: pool.Name,
					Addr: netip.AddrPortFrom(next, uint16(s.Address.Port)), Was: s.Address,
				}
				next = next.Next()
				byKey[k] = b
				p.Backends = append(p.Backends, b)
			}
			sc := *s
			sc.Address = topology.Address{Host: b.Addr.Addr().String(), Port: int(b.Addr.Port())}
			cp.Servers = append(cp.Servers, &sc)
		}
		local.Pools = append(local.Pools, &cp)
	}
	return &local, nil
}

// ComposeYAML is docker-compose.yml: a header comment, then the project
// encoded from typed values (never text pasted together), so no value
// from the topology can open a key of its own.
func (p *Project) ComposeYAML() ([]byte, error) {
	services := ordered{}
	deps := ordered{}
	for _, b := range p.Backends {
		deps = append(deps, entry{b.Service, dependency{Condition: "service_healthy"}})
	}
	for _, px := range p.Proxies {
		s := &service{
			Image:       fmt.Sprintf("${%s:-%s}", ImageEnvOf(px.Kind), px.Image),
			Profiles:    []string{px.Service},
			Command:     px.Command,
			User:        "0",
			Init:        true,
			SecurityOpt: []string{"no-new-privileges:true"},
			Volumes: []volume{{
				Type: "bind", Source: "./" + px.Config, Target: configDir + "/" + px.Config, ReadOnly: true,
			}},
			Tmpfs:     []string{runDir},
			Networks:  []string{"edge", "backend"},
			DependsOn: deps,
		}
		for _, l := range p.Listeners {
			s.Ports = append(s.Ports, fmt.Sprintf("${%s:-%s}:${%s:-%d}:%d", PublishEnv, DefaultPublish, l.PortEnv, l.Port, l.Port))
			if l.TLS != nil {
				for _, f := range []string{l.TLS.Certificate, l.TLS.Key} {
					if f != "" {
						s.Volumes = append(s.Volumes, volume{Type: "bind", Source: literal(f), Target: literal(f), ReadOnly: true})
					}
				}
			}
		}
		if len(p.Listeners) > 0 {
			// The images wslb's docs name are Debian's: bash's /dev/tcp
			// tells whether the first listener accepts connections.
			s.Healthcheck = &healthcheck{
				Test:     []string{"CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + strconv.Itoa(p.Listeners[0].Port)},
				Interval: "5s", Timeout: "3s", Retries: 3,
			}
		}
		services = append(services, entry{px.Service, s})
	}
	for _, b := range p.Backends {
		port := strconv.Itoa(int(b.Addr.Port()))
		services = append(services, entry{b.Service, &service{
			Image:       fmt.Sprintf("${%s:-%s}", ImageEnv, DefaultImage),
			Build:       &build{Context: ".", Dockerfile: Dockerfile},
			Command:     []string{"echo", "--id", literal(b.ID), "--listen", "0.0.0.0:" + port},
			SecurityOpt: []string{"no-new-privileges:true"},
			Networks:    ordered{{"backend", network{IPv4Address: b.Addr.Addr().String()}}},
			// The image has no shell: wslb probes its own /healthz.
			Healthcheck: &healthcheck{
				Test:     []string{"CMD", wslbBinary, "echo", "--probe", "127.0.0.1:" + port},
				Interval: "2s", Timeout: "3s", Retries: 5,
			},
		}})
	}
	file := composeFile{
		Version:  "3.9",
		Services: services,
		Networks: ordered{
			{"edge", struct{}{}},
			{"backend", networkDef{Internal: true, IPAM: &ipam{Config: []ipamConfig{{Subnet: p.Subnet.String()}}}}},
		},
	}
	var buf bytes.Buffer
	for _, l := range p.header() {
		buf.WriteString("# " + l + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(file); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ComposeFile, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ComposeFile, err)
	}
	return buf.Bytes(), nil
}

// header is the comment atop docker-compose.yml; the topology's name and
// file are quoted, so no line break of theirs ends the comment.
func (p *Project) header() []string {
	var profiles []string
	for _, px := range p.Proxies {
		profiles = append(profiles, "--profile "+px.Service)
	}
	return []string{
		fmt.Sprintf("Generated by wslb from %q (topology %q): docker-compose runs it.", filepath.Base(p.Topology.Filename), p.Topology.Name),
		"Do not edit by hand: change the topology and run `wslb generate --proxy compose` again.",
		"Start: docker-compose up -d (" + DefaultProfile + "; choose with " + strings.Join(profiles, " or ") + "). See README.md.",
	}
}

// The compose file's shape: only what wslb writes. Field order is the
// order in the file.
type composeFile struct {
	Version  string  `yaml:"version"`
	Services ordered `yaml:"services"`
	Networks ordered `yaml:"networks"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       *build       `yaml:"build,omitempty"`
	Profiles    []string     `yaml:"profiles,omitempty"`
	Command     []string     `yaml:"command,omitempty"`
	User        string       `yaml:"user,omitempty"`
	Init        bool         `yaml:"init,omitempty"`
	SecurityOpt []string     `yaml:"security_opt,omitempty"`
	Volumes     []volume     `yaml:"volumes,omitempty"`
	Tmpfs       []string     `yaml:"tmpfs,omitempty"`
	Ports       []string     `yaml:"ports,omitempty"`
	Networks    any          `yaml:"networks"`
	DependsOn   ordered      `yaml:"depends_on,omitempty"`
	Healthcheck *healthcheck `yaml:"healthcheck,omitempty"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type volume struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only"`
}

type network struct {
	IPv4Address string `yaml:"ipv4_address"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

type networkDef struct {
	Internal bool  `yaml:"internal,omitempty"`
	IPAM     *ipam `yaml:"ipam,omitempty"`
}

type ipam struct {
	Config []ipamConfig `yaml:"config"`
}

type ipamConfig struct {
	Subnet string `yaml:"subnet"`
}

// ordered is a mapping that keeps its keys in the order given (yaml
// sorts a Go map's): services as the project reads best, proxies first.
type ordered []entry

type entry struct {
	key   string
	value any
}

// MarshalYAML builds the mapping node key by key.
func (o ordered) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range o {
		k := &yaml.Node{}
		if err := k.Encode(e.key); err != nil {
			return nil, err
		}
		v := &yaml.Node{}
		if err := v.Encode(e.value); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, k, v)
	}
	return n, nil
}
