package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/internal/words"
	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all"        // the proxies the commands offer
	_ "github.com/wslb/wslb/proxy/compose"    // config-only targets; they import the generator, which imports proxy/all
	_ "github.com/wslb/wslb/proxy/gatewayapi" // config-only targets; they import the generator, which imports proxy/all
	_ "github.com/wslb/wslb/proxy/istio"
)

// proxyFlag is the --proxy flag every command has. Its choices, help and
// completion come from the proxy registry; extra values ("all" for verify)
// come after them. Old spellings of the flag (--target, --kind) are hidden
// aliases that still work for one release, with a note on standard error.
type proxyFlag struct {
	value   *string
	extra   []string
	aliases map[string]*string
	// set is the proxies the flag offers and find looks one up among
	// them: those wslb runs, those it reads, or every target.
	set  func() []string
	find func(string) (*proxy.Descriptor, bool)
}

// addProxyFlag defines --proxy on cmd, storing the proxy's name in value,
// and the deprecated spellings in aliases.
func addProxyFlag(cmd *cobra.Command, value *string, usage string, extra []string, aliases ...string) *proxyFlag {
	p := &proxyFlag{set: proxy.Names, find: proxy.Lookup}
	return p.define(cmd, value, usage, extra, aliases)
}

// addReadFlag is addProxyFlag for validate, whose --proxy also takes the
// config-only targets wslb reads (proxy.Readable: Istio).
func addReadFlag(cmd *cobra.Command, value *string, usage string, aliases ...string) *proxyFlag {
	p := &proxyFlag{set: proxy.ReadableNames, find: proxy.LookupReadable}
	return p.define(cmd, value, usage, nil, aliases)
}

// addTargetFlag is addProxyFlag for generate, whose --proxy also takes
// the config-only targets (proxy.Descriptor.ConfigOnly).
func addTargetFlag(cmd *cobra.Command, value *string, usage string, aliases ...string) *proxyFlag {
	p := &proxyFlag{set: proxy.TargetNames, find: proxy.LookupTarget}
	return p.define(cmd, value, usage, nil, aliases)
}

func (p *proxyFlag) define(cmd *cobra.Command, value *string, usage string, extra, aliases []string) *proxyFlag {
	p.value, p.extra, p.aliases = value, extra, map[string]*string{}
	f := cmd.Flags()
	def := *value
	f.StringVar(value, "proxy", def, fmt.Sprintf(usage, p.choices()))
	complete := enumFlagCompletion(append(p.names(), extra...)...)
	_ = cmd.RegisterFlagCompletionFunc("proxy", complete)
	for _, a := range aliases {
		v := new(string)
		p.aliases[a] = v
		f.StringVar(v, a, def, "deprecated spelling of --proxy")
		_ = f.MarkHidden(a)
		_ = cmd.RegisterFlagCompletionFunc(a, complete)
	}
	return p
}

// names are the proxies the flag offers.
func (p *proxyFlag) names() []string { return p.set() }

// choices lists the values --proxy takes, for help and messages.
func (p *proxyFlag) choices() string {
	return words.Or(append(p.names(), p.extra...))
}

// resolve folds a deprecated spelling into --proxy (noting it on stderr),
// checks the value and turns a proxy's alias into its name. It returns the
// flag as the user spelled it, for messages.
func (p *proxyFlag) resolve(cmd *cobra.Command, streams IOStreams) (string, error) {
	spelled := "--proxy"
	for _, a := range slices.Sorted(maps.Keys(p.aliases)) {
		if !cmd.Flags().Changed(a) {
			continue
		}
		v := *p.aliases[a]
		// The note names the whole replacement, value and all.
		fmt.Fprintf(streams.ErrOut, "wslb: --%s is deprecated and will be removed in the next release; use --proxy %s\n", a, v)
		if cmd.Flags().Changed("proxy") && *p.value != v {
			return "", UsageError("--proxy %q and --%s %q disagree; give only --proxy", *p.value, a, v)
		}
		*p.value, spelled = v, "--"+a
	}
	v := *p.value
	if v == "" || slices.Contains(p.extra, v) {
		return spelled, nil
	}
	d, ok := p.find(v)
	if !ok {
		return spelled, UsageError("%s %q: want %s", spelled, v, p.choices())
	}
	*p.value = string(d.Name)
	return spelled, nil
}

// proxyAlternatives is "--proxy haproxy, --proxy istio or --proxy nginx",
// for validate's messages asking the user to name the proxy of what it
// reads.
func proxyAlternatives() string {
	var out []string
	for _, n := range proxy.ReadableNames() {
		out = append(out, "--proxy "+n)
	}
	return words.Or(out)
}
