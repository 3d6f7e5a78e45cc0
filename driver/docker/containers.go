package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver/loopback"
)

// teardownTimeout bounds removing a run's containers and network.
const teardownTimeout = 30 * time.Second

// node describes a container to create.
type node struct {
	name   string
	image  string
	role   string
	cmd    []string
	entry  []string
	user   string
	addr   netip.Addr // on the run's network; zero with netOf
	netOf  string     // share this container's network namespace instead
	mounts []string   // host dirs bound read-write at the same path
	// readOnly are host dirs bound read-only at the same path, tmpfs
	// empty dirs of the container's own.
	readOnly []string
	tmpfs    []string
	env      []string
	tty      bool
}

// create creates (not starts) a container for n, started with an init
// process: a proxy as PID 1 gets no default signal handlers and would
// ignore SIGTERM, so every stop would wait out the grace period.
func (e *Env) create(ctx context.Context, n node) (string, error) {
	init := true
	cfg := &container.Config{
		Image:      n.image,
		Cmd:        n.cmd,
		Entrypoint: n.entry,
		User:       n.user,
		Env:        n.env,
		Labels:     e.labelsFor(n.role),
		Tty:        n.tty,
	}
	hc := &container.HostConfig{
		Init:        &init,
		SecurityOpt: []string{"no-new-privileges"},
	}
	for _, m := range n.mounts {
		hc.Binds = append(hc.Binds, m+":"+m)
	}
	for _, m := range n.readOnly {
		hc.Binds = append(hc.Binds, m+":"+m+":ro")
	}
	for _, m := range n.tmpfs {
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		hc.Tmpfs[m] = "mode=1777"
	}
	var nc *network.NetworkingConfig
	if n.netOf != "" {
		hc.NetworkMode = container.NetworkMode("container:" + n.netOf)
	} else {
		hc.NetworkMode = container.NetworkMode(e.net.name)
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			e.net.name: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: n.addr}},
		}}
	}
	res, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: n.name, Config: cfg, HostConfig: hc, NetworkingConfig: nc,
	})
	if err != nil {
		return "", fmt.Errorf("docker: create %s: %w", n.name, err)
	}
	return res.ID, nil
}

// start starts container id.
func (e *Env) start(ctx context.Context, id, name string) error {
	if _, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("docker: start %s: %w", name, err)
	}
	return nil
}

// removeRun removes every container, then every network, that filters
// select, and names what it removed.
func removeRun(ctx context.Context, c *client.Client, filters client.Filters) ([]string, error) {
	var removed []string
	var errs []error
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	var mu sync.Mutex
	_ = eachParallel(cs.Items, func(ct container.Summary) error {
		_, err := c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("docker: remove container %s: %w", name(ct.Names, ct.ID), err))
		} else {
			removed = append(removed, "container "+name(ct.Names, ct.ID))
		}
		return nil
	})
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: filters})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("docker: list networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if err := removeNetwork(ctx, c, n.ID, cs.Items); err != nil {
			errs = append(errs, fmt.Errorf("docker: remove network %s: %w", n.Name, err))
			continue
		}
		removed = append(removed, "network "+n.Name)
	}
	return removed, errors.Join(errs...)
}

// removeNetwork removes a run's network. The engine refuses while an
// endpoint is attached, and endpoints outlive the list of containers just
// removed: a container the run was creating or starting when it was
// killed or cancelled joins the network after that list was taken, and
// an endpoint's release after a removal is not always done when the call
// returns, or not at all (a stale endpoint, listed under no container).
// Whatever is still attached is on the run's own network, so it is
// removed or force-disconnected — a gone container's endpoint by the
// container's name (removed lists the run's containers), which is how
// the engine finds a stale one — and the removal tried again.
func removeNetwork(ctx context.Context, c *client.Client, id string, removed []container.Summary) error {
	var err error
	for try := 0; try < 8; try++ {
		if _, err = c.NetworkRemove(ctx, id, client.NetworkRemoveOptions{}); err == nil || isNotFound(err) {
			return nil
		}
		res, ierr := c.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
		if ierr != nil {
			if isNotFound(ierr) {
				return nil
			}
			return err
		}
		for ct := range res.Network.Containers {
			if _, rerr := c.ContainerRemove(ctx, ct, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil {
				_, _ = c.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: ct, Force: true})
			}
		}
		for _, ct := range removed {
			_, _ = c.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: name(ct.Names, ct.ID), Force: true})
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(try+1) * 200 * time.Millisecond):
		}
	}
	return err
}

func name(names []string, id string) string {
	if len(names) > 0 {
		return strings.TrimPrefix(names[0], "/")
	}
	return id[:min(12, len(id))]
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// Cleanup removes the containers and networks of runs whose wslb process
// on this host no longer runs (killed before its teardown). Runs of live
// processes, and of other hosts, are left alone. Without a reachable
// engine there is nothing of ours to remove.
func Cleanup(ctx context.Context) ([]string, error) {
	c, err := Connect(ctx)
	if err != nil {
		return nil, nil
	}
	defer c.Close()
	host, _ := os.Hostname()
	owners := map[string]string{} // run id -> owner
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", labelRun)})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("label", labelRun)})
	if err != nil {
		return nil, fmt.Errorf("docker: list networks: %w", err)
	}
	note := func(labels map[string]string) {
		if labels[labelHost] == host {
			owners[labels[labelRun]] = labels[labelOwner]
		}
	}
	for _, ct := range cs.Items {
		note(ct.Labels)
	}
	for _, n := range ns.Items {
		note(n.Labels)
	}
	var removed []string
	var errs []error
	for run, owner := range owners {
		if ownerAlive(owner) {
			continue
		}
		r, err := removeRun(ctx, c, client.Filters{}.Add("label", labelRun+"="+run))
		removed = append(removed, r...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// ownerAlive reports whether the process an owner label names still runs.
func ownerAlive(owner string) bool {
	var pid int
	if _, err := fmt.Sscanf(owner, "%d", &pid); err != nil || pid <= 0 {
		return false
	}
	id, ok := loopback.ProcessID(pid)
	return ok && id == owner
}
