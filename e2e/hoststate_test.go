package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
)

// hostState is what a run must leave as it was in the host's network
// namespace: addresses, routes, the nftables ruleset, iptables rules and
// forwarding.
func hostState(t *testing.T) map[string]string {
	t.Helper()
	state := map[string]string{}
	for _, args := range [][]string{{"-o", "addr"}, {"route"}, {"-6", "route"}, {"-o", "link"}} {
		state["ip "+strings.Join(args, " ")] = withoutDockerLinks(ipDump(t, args...))
	}
	if out, err := exec.Command("iptables-save").Output(); err == nil {
		state["iptables-save"] = stripComments(string(out))
	}
	c, err := nftables.New()
	require.NoError(t, err)
	tables, err := c.ListTables()
	require.NoError(t, err)
	var nft []string
	for _, tb := range tables {
		chains, _ := c.ListChainsOfTableFamily(tb.Family)
		for _, ch := range chains {
			if ch.Table.Name != tb.Name {
				continue
			}
			rules, _ := c.GetRules(tb, ch)
			nft = append(nft, fmt.Sprintf("%d %s %s %d rules", tb.Family, tb.Name, ch.Name, len(rules)))
		}
		nft = append(nft, fmt.Sprintf("%d %s", tb.Family, tb.Name))
	}
	sort.Strings(nft)
	state["nftables"] = strings.Join(nft, "\n")
	fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	require.NoError(t, err)
	state["net.ipv4.ip_forward"] = string(fwd)
	return state
}

// ipDump runs ip with args. The kernel marks a dump that links coming and
// going (other tests' containers and namespaces) cut short with a first
// line "Dump was interrupted and may be inconsistent."; such a dump is
// taken again.
func ipDump(t *testing.T, args ...string) string {
	t.Helper()
	for try := 0; ; try++ {
		out, err := exec.Command("ip", args...).CombinedOutput()
		require.NoError(t, err, "ip %v: %s", args, out)
		if !strings.HasPrefix(string(out), "Dump was interrupted") {
			return string(out)
		}
		require.Less(t, try, 50, "ip %v: every dump was interrupted", args)
		time.Sleep(20 * time.Millisecond)
	}
}

// dockerLink names the bridges and veths a Docker engine makes for its
// networks: the docker driver's tests, run at the same time in other
// packages, come and go on the host while this one runs.
var dockerLink = regexp.MustCompile(`\b(br-[0-9a-f]{12}|veth[0-9a-f]{7})\b`)

// withoutDockerLinks drops the lines (one per address, link or route with
// ip -o) that name a Docker engine's link.
func withoutDockerLinks(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !dockerLink.MatchString(l) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// stripComments drops iptables-save's "# Generated ... on DATE" lines.
func stripComments(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// requireHostAsItWas compares the host's state with before: a run on
// netns or docker leaves it as it found it. Docker links are left out of
// the comparison (other docker runs come and go meanwhile); instead, none
// may be left of a network the engine no longer has.
func requireHostAsItWas(t *testing.T, before map[string]string) {
	t.Helper()
	after := hostState(t)
	for k, v := range before {
		require.Equal(t, v, after[k], "the host's %s changed", k)
	}
	if os.Getenv("DOCKER_HOST") == "" {
		return
	}
	// The engine's networks before and after the look at the links: a
	// network made or removed meanwhile is in one of the two lists.
	nets := dockerNetworks(t)
	out := ipDump(t, "-o", "link")
	for id := range dockerNetworks(t) {
		nets[id] = true
	}
	for _, br := range dockerBridge.FindAllStringSubmatch(out, -1) {
		require.True(t, nets[br[1]], "bridge br-%s is left of a network the engine no longer has:\n%s", br[1], out)
	}
}

// dockerBridge is a Docker engine's bridge for a network: br- and the
// network id's first 12 digits.
var dockerBridge = regexp.MustCompile(`\bbr-([0-9a-f]{12})\b`)

// dockerNetworks are the first 12 digits of the id of every network the
// engine at DOCKER_HOST has.
func dockerNetworks(t *testing.T) map[string]bool {
	t.Helper()
	c, err := client.New(client.FromEnv)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{})
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, n := range ns.Items {
		ids[n.ID[:min(12, len(n.ID))]] = true
	}
	return ids
}
