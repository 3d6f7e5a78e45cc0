// Package docker is the docker driver: every node of a run — the proxy,
// each backend, the clients' host — is a container on a user-defined
// network of the run's own, with an explicit subnet from 198.18.0.0/15
// (reserved for benchmarking), talked to through the Docker Engine API.
// Every container and network carries the run's labels and is removed by
// them at teardown, and by `wslb verify --cleanup` when the run was killed.
package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/netfault"
	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
)

// Name is the driver's name for --driver.
const Name = "docker"

// Labels on everything a run creates.
const (
	// labelRun is the run's id: teardown removes by it.
	labelRun = "wslb.run"
	// labelOwner is the wslb process that made the run ("PID START", as
	// loopback.ProcessID), labelHost the host it runs on: --cleanup
	// removes what owners on this host that no longer run left.
	labelOwner = "wslb.owner"
	labelHost  = "wslb.host"
	// labelRole says what a container is: proxy, backend, host, clients.
	labelRole = "wslb.role"
	// labelNode marks node images.
	labelNode = "wslb.node"
)

func init() {
	driver.Register(&driver.Descriptor{
		Name:       Name,
		Summary:    "every node a container on a network of its own (Docker Engine API)",
		Open:       Open,
		OwnNetwork: true,
		Cleanup:    Cleanup,
		Check:      Check,
	})
}

// Env is one run of the docker driver.
type Env struct {
	cli     *client.Client
	id      string
	labels  map[string]string
	scratch *loopback.Scratch
	images  map[proxybin.Kind]string
	node    string // the node image
	// backendImage runs the user's --backend-cmd (--backend-image).
	backendImage string

	net *netPlan

	mu       sync.Mutex
	backends *Backends
	broker   *containerBroker
	// services counts the service hosts made; serviceNS are their
	// namespaces, open until Close.
	services  int
	serviceNS []netfault.NS
	proxy     *Proxy
	clients   *Clients
	faults    netfault.Held // faults still on, lifted by Close
	closed    bool
	closeErr  error
}

var (
	_ driver.Env      = (*Env)(nil)
	_ driver.Backends = (*Backends)(nil)
	_ driver.Proxy    = (*Proxy)(nil)
)

// Open connects to the engine, makes (or finds) the node image and
// creates the run's network; the scratch dir holds the proxy's config,
// logs and sockets and is mounted into the proxy's container at the same
// path.
func Open(ctx context.Context, opts driver.Options) (driver.Env, error) {
	c, err := Connect(ctx)
	if err != nil {
		return nil, err
	}
	e := &Env{cli: c, images: opts.ProxyImages, backendImage: opts.BackendImage}
	var id [6]byte
	_, _ = rand.Read(id[:])
	e.id = hex.EncodeToString(id[:])
	host, _ := os.Hostname()
	owner, _ := loopback.ProcessID(os.Getpid())
	e.labels = map[string]string{labelRun: e.id, labelOwner: owner, labelHost: host}

	fail := func(err error) (driver.Env, error) {
		_ = e.Close()
		return nil, err
	}
	bin, err := NodeBinary()
	if err != nil {
		return fail(err)
	}
	if e.node, err = NodeImage(ctx, c, bin); err != nil {
		return fail(err)
	}
	if e.scratch, err = loopback.NewScratch(); err != nil {
		return fail(err)
	}
	// Containers read the config and write sockets and logs here.
	if err := os.Chmod(e.scratch.Dir, 0o755); err != nil {
		return fail(err)
	}
	if e.net, err = createNetwork(ctx, c, "wslb-"+e.id, e.labelsFor("network")); err != nil {
		return fail(err)
	}
	return e, nil
}

// labelsFor is the run's labels plus a role.
func (e *Env) labelsFor(role string) map[string]string {
	m := make(map[string]string, len(e.labels)+1)
	for k, v := range e.labels {
		m[k] = v
	}
	m[labelRole] = role
	return m
}

// Driver is Name.
func (e *Env) Driver() string { return Name }

// Dir is the scratch dir.
func (e *Env) Dir() string { return e.scratch.Dir }

// WriteFile writes a file inside the scratch dir.
func (e *Env) WriteFile(name string, data []byte) (string, error) {
	return e.scratch.WriteFile(name, data)
}

// ListenAddrs hands out n ports on the proxy's address: the proxy's
// container has its network namespace to itself, so any port is free.
func (e *Env) ListenAddrs(n int) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, n)
	for i := range out {
		out[i] = netip.AddrPortFrom(e.net.proxy, uint16(listenBase+i))
	}
	return out, nil
}

// listenBase is the proxy's first listener port.
const listenBase = 8000

// Clients are a container of the run's holding one address per client
// in source mode, spread over the /24s of the run's subnet.
func (e *Env) Clients() driver.Clients {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.clients == nil {
		e.clients = newClients(e)
	}
	return e.clients
}

// Close lifts the faults still on, stops the proxy gracefully, then removes every container and the
// network by the run's label, and the scratch dir. It is idempotent.
func (e *Env) Close() error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return e.closeErr
	}
	e.closed = true
	var errs []error
	// Faults first: a delay's relay and the namespaces faults hold open
	// are this process's, not the engine's.
	e.faults.LiftAll()
	if e.proxy != nil {
		errs = append(errs, e.proxy.Close())
	}
	if e.clients != nil {
		e.clients.close()
	}
	if e.backends != nil {
		if e.backends.stopFollowing != nil {
			e.backends.stopFollowing()
		}
		errs = append(errs, e.backends.Close())
	}
	// wslb's own handles on the service hosts' namespaces go before
	// the containers do, so that nothing of this process keeps one alive
	// while the engine takes their endpoints down.
	for _, ns := range e.serviceNS {
		ns.Handle.Close()
	}
	if e.cli != nil {
		// Teardown must run even when the run's context was cancelled.
		ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
		_, err := removeRun(ctx, e.cli, client.Filters{}.Add("label", labelRun+"="+e.id))
		cancel()
		errs = append(errs, err)
		e.cli.Close()
	}
	if e.scratch != nil {
		errs = append(errs, e.scratch.Close())
	}
	e.closeErr = errors.Join(errs...)
	return e.closeErr
}

// netPlan is the run's network and the addresses in it.
type netPlan struct {
	id      string
	name    string
	subnet  netip.Prefix
	gateway netip.Addr // on the host's side of the bridge
	proxy   netip.Addr
	clients netip.Addr // the clients' container's own address
	broker  netip.Addr // the run's broker, if it has one
	// backend0 is the first backend's address; the others follow.
	backend0 netip.Addr
}

// Address plan: 198.18.0.0/16 is cut into /20 blocks, one per run (the
// engine refuses a subnet that overlaps another network, so a run tries
// the next block, and waits for one while all sixteen are taken). In a
// block, .1 is the gateway (the host's end of the bridge), .2 the proxy,
// .3 the clients' host, .5 the broker and .10 on the backends. The clients' source
// addresses are in 198.19.0.0/16 (clientRange) in every run: they live
// only in the run's clients' host, and the proxy's container routes that
// range to it, so runs never see each other's.
var (
	benchRange  = netip.MustParsePrefix("198.18.0.0/16")
	clientRange = netip.MustParsePrefix("198.19.0.0/16")
	blockBits   = 20
)

// blockWait bounds waiting for a free block; blockRetry is the pause
// between tries.
const (
	blockWait  = 2 * time.Minute
	blockRetry = 500 * time.Millisecond
)

const (
	maxBackends  = 240
	firstBackend = 10
)

// createNetwork creates the run's network in the first free block,
// waiting (up to blockWait) while every block is taken by other runs.
func createNetwork(ctx context.Context, c *client.Client, name string, labels map[string]string) (*netPlan, error) {
	deadline := time.Now().Add(blockWait)
	for {
		p, err := tryNetwork(ctx, c, name, labels)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) || !errors.Is(err, errNoBlock) {
			return p, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(blockRetry):
		}
	}
}

var errNoBlock = errors.New("no free block")

func tryNetwork(ctx context.Context, c *client.Client, name string, labels map[string]string) (*netPlan, error) {
	blocks := 1 << (blockBits - benchRange.Bits())
	var errs []error
	for i := range blocks {
		base := benchRange.Addr().As4()
		off := i << (32 - blockBits) // block offset in addresses
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		v += uint32(off)
		subnet := netip.PrefixFrom(addr4(v), blockBits)
		p := &netPlan{name: name, subnet: subnet, gateway: addr4(v + 1), proxy: addr4(v + 2), clients: addr4(v + 3), broker: addr4(v + 5), backend0: addr4(v + firstBackend)}
		res, err := c.NetworkCreate(ctx, name, client.NetworkCreateOptions{
			Driver:   "bridge",
			Internal: true, // no route out of it: nothing a node runs reaches another host
			IPAM: &network.IPAM{Config: []network.IPAMConfig{{
				Subnet:  subnet,
				IPRange: netip.PrefixFrom(addr4(v), 24),
				Gateway: p.gateway,
			}}},
			Labels: labels,
		})
		if err == nil {
			p.id = res.ID
			return p, nil
		}
		if !strings.Contains(err.Error(), "overlap") {
			return nil, fmt.Errorf("docker: create network %s (%s): %w", name, subnet, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", subnet, err))
	}
	return nil, fmt.Errorf("docker: create network %s: %w: every /%d of %s is taken: %w", name, errNoBlock, blockBits, benchRange, errors.Join(errs...))
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// backendAddr is backend i's address.
func (p *netPlan) backendAddr(i int) netip.Addr {
	a := p.backend0.As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	return addr4(v + uint32(i))
}
