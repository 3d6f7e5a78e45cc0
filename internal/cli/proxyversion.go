package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// proxyVersionUsage is the help of --proxy-version (verify, validate).
const proxyVersionUsage = "run this version of the proxy: VERSION or KIND=VERSION, e.g. 3.0 or nginx=1.30 " +
	"(repeatable; default: the topology's target, else the installed one; make proxies builds the others, see docs/proxies.md)"

// parseProxyVersions reads --proxy-version values: "KIND=VERSION", or a
// bare "VERSION" for whichever proxy runs (the "" key).
func parseProxyVersions(values []string) (map[proxybin.Kind]string, error) {
	return parsePerKind("version", values, func(val, version string) error {
		if _, err := topology.ParseVersion(version); err != nil {
			return UsageError("--proxy-version %s: %v", val, err)
		}
		return nil
	})
}

// parsePerKind reads the values of --proxy-WHAT: "KIND=VALUE", or a bare
// "VALUE" for whichever proxy runs (the "" key). check refuses a bad
// VALUE (trimmed) of the flag value val with a usage error.
func parsePerKind(what string, values []string, check func(val, value string) error) (map[proxybin.Kind]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	flag := "--proxy-" + what
	out := map[proxybin.Kind]string{}
	for _, val := range values {
		kind, value, named := strings.Cut(val, "=")
		if !named {
			kind, value = "", val
		}
		var k proxybin.Kind
		if named {
			d, ok := proxy.Lookup(strings.TrimSpace(kind))
			if !ok {
				return nil, UsageError("%s %s: unknown proxy %q (want %s)", flag, val, kind, proxy.Choices())
			}
			k = d.Name
		}
		value = strings.TrimSpace(value)
		if err := check(val, value); err != nil {
			return nil, err
		}
		if prev, ok := out[k]; ok && prev != value {
			if k == "" {
				return nil, UsageError("%s: two %ss for the proxy (%s and %s); name the proxy: KIND=%s", flag, what, prev, value, strings.ToUpper(what))
			}
			return nil, UsageError("%s: two %ss for %s (%s and %s)", flag, what, k, prev, value)
		}
		out[k] = value
	}
	return out, nil
}

// versionFinder returns the binary lookup for a run: the --proxy-version
// asked for kind, else the target version the topology gives (targets;
// zero when there is none), else the default binary.
func versionFinder(versions map[proxybin.Kind]string, targets func(proxybin.Kind) topology.Version) func(proxybin.Kind) (proxybin.Binary, error) {
	return func(kind proxybin.Kind) (proxybin.Binary, error) {
		var want proxybin.Want
		if v, ok := versions[kind]; ok {
			want.Version = v
		} else if v, ok := versions[""]; ok {
			want.Version = v
		} else if targets != nil {
			want.AtLeast = targets(kind)
		}
		return proxybin.Find(kind, want)
	}
}

// proxyVersionCompletion offers the versions there are, as KIND=MAJOR.MINOR.
func proxyVersionCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, d := range proxy.All() {
		bins, err := proxybin.All(d.Name)
		if err != nil {
			continue
		}
		for _, b := range bins {
			out = append(out, fmt.Sprintf("%s=%d.%d", d.Name, b.Version.Major, b.Version.Minor))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
