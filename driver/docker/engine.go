package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
)

// HostEnv names the engine to talk to, as the docker CLI reads it
// (DOCKER_HOST); unset means the engine's default socket.
const HostEnv = "DOCKER_HOST"

// NodeBinaryEnv names a wslb binary to put in the node image instead of
// the running one: the image is FROM scratch, so the binary must be
// statically linked (CGO_ENABLED=0).
const NodeBinaryEnv = "WSLB_NODE_BINARY"

// ErrNoEngine says no Docker engine answered.
var ErrNoEngine = errors.New("no Docker engine answers")

// pingTimeout bounds the first contact with the engine.
const pingTimeout = 5 * time.Second

// OwnEngineRunEnv names the directory of the engine scripts/dockerd (and
// so `make docker`) starts; its socket is docker.sock there.
const OwnEngineRunEnv = "WSLB_DOCKER_RUN"

// ownEngineRun is that directory when OwnEngineRunEnv is unset.
const ownEngineRun = "/run/wslb-dockerd"

// ownEngineHost is the DOCKER_HOST of the engine scripts/dockerd starts,
// if its socket exists.
func ownEngineHost() (string, bool) {
	run := os.Getenv(OwnEngineRunEnv)
	if run == "" {
		run = ownEngineRun
	}
	sock := filepath.Join(run, "docker.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Type() != os.ModeSocket {
		return "", false
	}
	return "unix://" + sock, true
}

// Connect returns a client of the engine DOCKER_HOST names once it
// answered a ping, with the API version negotiated down to what the engine
// speaks (the client negotiates by default; the ping does it now rather
// than on the first call). With DOCKER_HOST unset it tries wslb's own
// engine (the one `make docker` starts) and then the default socket, so
// that the commands of the docs work without exporting DOCKER_HOST.
func Connect(ctx context.Context) (*client.Client, error) {
	if os.Getenv(HostEnv) != "" {
		return connect(ctx, client.FromEnv)
	}
	if host, ok := ownEngineHost(); ok {
		c, err := connect(ctx, client.FromEnv, client.WithHost(host))
		if err == nil {
			return c, nil
		}
	}
	return connect(ctx, client.FromEnv)
}

func connect(ctx context.Context, opts ...client.Opt) (*client.Client, error) {
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if _, err := c.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		where := os.Getenv(HostEnv)
		if where == "" {
			where = "wslb's own engine or the default socket (" + HostEnv + " is unset)"
		}
		return nil, driver.Unavailable(fmt.Errorf("%w at %s: %v; start one (make docker, or scripts/dockerd start, which prints a %s to use) or point %s at one",
			ErrNoEngine, where, err, HostEnv, HostEnv))
	}
	return c, nil
}

// nodeRepo is the repository of the node images: wslb's own binary FROM
// scratch, tagged by the binary's digest so a rebuilt wslb gets a new one.
const nodeRepo = "wslb-node"

// NodeBinary is the wslb binary the node image holds: $WSLB_NODE_BINARY,
// else the running executable.
func NodeBinary() (string, error) {
	if p := os.Getenv(NodeBinaryEnv); p != "" {
		return p, nil
	}
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("docker: the wslb binary for the containers: %w", err)
	}
	return p, nil
}

// NodeImage returns the node image for the wslb binary at path, building
// it (FROM scratch, the binary as /wslb, no registry needed) unless an
// image of that binary exists already.
func NodeImage(ctx context.Context, c *client.Client, path string) (string, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("docker: node image: %w", err)
	}
	if err := checkStatic(path); err != nil {
		return "", err
	}
	sum := sha256.Sum256(bin)
	ref := nodeRepo + ":" + hex.EncodeToString(sum[:])[:16]
	if _, err := c.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	}
	buildCtx, err := nodeContext(bin)
	if err != nil {
		return "", err
	}
	res, err := c.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{labelNode: "1"},
	})
	if err != nil {
		return "", fmt.Errorf("docker: build %s: %w", ref, err)
	}
	defer res.Body.Close()
	if err := buildError(res.Body); err != nil {
		return "", fmt.Errorf("docker: build %s: %w", ref, err)
	}
	pruneNodeImages(ctx, c, ref)
	return ref, nil
}

// nodeImageKeep is how long a node image of another wslb binary is kept:
// runs of different binaries (a rebuilt wslb, a test binary) may share the
// engine at the same moment, and one must not remove the image another has
// just built and is about to start.
const nodeImageKeep = time.Hour

// pruneNodeImages removes the node images of other wslb binaries built
// over nodeImageKeep ago, so that rebuilding wslb does not pile up images;
// one that a running container uses is refused by the engine and stays.
func pruneNodeImages(ctx context.Context, c *client.Client, keep string) {
	imgs, err := c.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("label", labelNode)})
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-nodeImageKeep).Unix()
	for _, im := range imgs.Items {
		if slices.Contains(im.RepoTags, keep) || im.Created > cutoff {
			continue
		}
		_, _ = c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{PruneChildren: true})
	}
}

// nodeDockerfile is the whole node image: no shell, no libc, one binary.
const nodeDockerfile = "FROM scratch\nCOPY wslb /wslb\nENTRYPOINT [\"/wslb\"]\n"

// nodeContext is the build context of the node image as a tar stream.
func nodeContext(bin []byte) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(nodeDockerfile)}, {"wslb", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// buildError reads the engine's build output (JSON messages) to its end
// and returns the error it reported, if any.
func buildError(r io.Reader) error {
	dec := json.NewDecoder(r)
	var last []string
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return fmt.Errorf("%s (%s)", msg.Error, strings.Join(last, "; "))
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			last = append(last[max(0, len(last)-2):], s)
		}
	}
}

// checkStatic refuses a dynamically linked binary: the node image has no
// libc to load it with.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("docker: node image: %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return driver.Unavailable(fmt.Errorf("docker: %s is dynamically linked and cannot run in the FROM scratch node image: "+
				"build wslb with CGO_ENABLED=0 (go build), or name a static build in $%s", path, NodeBinaryEnv))
		}
	}
	return nil
}

// ProxyImage is the image a proxy of kind at version runs from: the
// --proxy-image override, else the official image of that MAJOR.MINOR
// (haproxy:2.6, nginx:1.22).
func ProxyImage(override, kind, version string) string {
	if override != "" {
		return override
	}
	mm := version
	if parts := strings.SplitN(version, ".", 3); len(parts) >= 2 {
		mm = parts[0] + "." + parts[1]
	}
	return kind + ":" + mm
}

// haveImage checks that ref is present on the engine: nothing is pulled
// (the machines wslb is tested on reach no registry, and a run should not
// depend on one).
func haveImage(ctx context.Context, c *client.Client, ref string) error {
	if _, err := c.ImageInspect(ctx, ref); err != nil {
		return driver.Unavailable(fmt.Errorf("docker: image %s is not on the engine (%v); pull or build it first (docker pull %s), or name another with --proxy-image", ref, err, ref))
	}
	return nil
}
