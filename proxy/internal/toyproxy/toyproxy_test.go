package toyproxy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/proxy/internal/toyproxy"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate"
)

// Nothing outside package toyproxy names the toy proxy: registering it is
// enough for the registry, detection, generate, validate and the CLI.

const toyConfig = "# a toy config\ntoy-listen public 8080\ntoy-pool realtime 10.0.0.1:3000\ntoy-idle 30\n"

func TestRegistryKnowsTheToy(t *testing.T) {
	require.Equal(t, []string{"haproxy", "nginx", "toy"}, proxy.Names())
	d, ok := proxy.Lookup("toyproxy")
	require.True(t, ok, "an alias finds the descriptor")
	require.Equal(t, toyproxy.Kind, d.Name)
	// Content decides, though ".conf" is NGINX's extension.
	require.Equal(t, toyproxy.Kind, proxy.DetectKind("site.conf", []byte(toyConfig)))
	// The built-in proxies are still told apart.
	require.Equal(t, proxy.Kind("nginx"), proxy.DetectKind("x", []byte("events {}\n")))
	require.Equal(t, proxy.Kind("haproxy"), proxy.DetectKind("x", []byte("frontend f\n  bind :80\n")))
	// verify tells the toy's configs apart as every command does, and
	// runs only the proxies a driver can run: the toy has no Run.
	require.Equal(t, toyproxy.Kind, rewrite.DetectKind("site.conf", []byte(toyConfig)))
	require.Equal(t, []proxy.Kind{"haproxy", "nginx"}, proxy.Runnable())
	path := filepath.Join(t.TempDir(), "edge.conf")
	require.NoError(t, os.WriteFile(path, []byte(toyConfig), 0o644))
	_, err := rewrite.Load(path)
	require.ErrorContains(t, err, "this is a toy config, which verify cannot run yet")
	require.Equal(t, proxy.Kind("haproxy"), proxy.Fallback().Name, "the toy leaves the fallback alone")
}

func TestGenerateMakesTheToyConfig(t *testing.T) {
	topo, diags := topology.NewLoader().LoadFile("../../../examples/chat.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	arts, err := generator.Generate(topo, generator.Options{})
	require.NoError(t, err)
	var names []string
	for _, a := range arts {
		names = append(names, a.Name)
	}
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf", "toy.conf"}, names)
	require.Contains(t, string(arts[2].Bytes), "toy-listen public 8080\n")

	code, stdout, stderr := targettest.Run(t, "generate", "../../../examples/chat.hcl", "--proxy", "toy")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.True(t, strings.HasPrefix(stdout, "toy-listen public 8080\n"), stdout)
}

func TestValidateRunsTheToyRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edge.conf")
	require.NoError(t, os.WriteFile(path, []byte(toyConfig), 0o644))
	res, err := validate.Lint(context.Background(), []validate.Source{{Name: path}}, validate.Options{})
	require.NoError(t, err)
	require.Len(t, res.Findings, 1)
	f := res.Findings[0]
	require.Equal(t, toyproxy.ShortIdleID, f.Rule)
	require.Equal(t, 4, f.Line)
	require.Equal(t, 10, f.Column)

	code, stdout, stderr := targettest.Run(t, "validate", path, "--fail-on", "warning")
	require.Equal(t, cli.ExitFailed, code, stderr)
	require.Contains(t, stdout, "TOY001")
	// --disable and --list-rules know the rule.
	code, _, stderr = targettest.Run(t, "validate", path, "--disable", "toy001", "--fail-on", "info")
	require.Equal(t, cli.ExitOK, code, stderr)
	code, stdout, _ = targettest.Run(t, "validate", "--list-rules")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, stdout, "TOY001")

	// A topology linted for the toy proxy only: generated, then checked.
	code, stdout, stderr = targettest.Run(t, "validate", "../../../examples/chat.hcl", "--proxy", "toy", "--fail-on", "none")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.NotContains(t, stdout, "TOY001", "the generated toy-idle is the tunnel timeout, 1h")
}

func TestValidateTakesTheToyVersion(t *testing.T) {
	code, stdout, _ := targettest.Run(t, "validate", "--help")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, stdout, "target toy version (default: the installed toy, else 1.0)")
	path := filepath.Join(t.TempDir(), "edge.conf")
	require.NoError(t, os.WriteFile(path, []byte(toyConfig), 0o644))
	code, _, stderr := targettest.Run(t, "validate", path, "--toy-version", "1.x")
	require.Equal(t, cli.ExitUsage, code, stderr)
	require.Contains(t, stderr, "--toy-version")
	code, _, stderr = targettest.Run(t, "validate", path, "--toy-version", "1.2", "--fail-on", "none")
	require.Equal(t, cli.ExitOK, code, stderr)
}

func TestCLIChoicesOfferTheToy(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "x.hcl", "--proxy", ""},
		{"validate", "x.conf", "--proxy", ""},
		{"verify", "x.hcl", "--proxy", ""},
	} {
		code, stdout, stderr := targettest.Run(t, append([]string{"__complete"}, args...)...)
		require.Equal(t, cli.ExitOK, code, stderr)
		require.Contains(t, stdout, "toy\n", args)
		require.NotContains(t, stdout, "toyproxy", "aliases are not offered")
	}
	code, stdout, _ := targettest.Run(t, "generate", "--help")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, stdout, "compose, gateway-api, haproxy, istio, nginx or toy")
	code, _, stderr := targettest.Run(t, "generate", "x.hcl", "--proxy", "envoy")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, stderr, "want compose, gateway-api, haproxy, istio, nginx or toy")
}

// validate --exec runs the toy's binary with the command line its
// descriptor gives, in the sandbox, on a copy of the config; what the
// binary rejects is a WSLB002 finding on the user's file.
func TestValidateExecChecksTheToyWithItsBinary(t *testing.T) {
	// A toy binary that rejects "toy-idle 0", with shell builtins only:
	// the sandbox gives it an empty environment.
	bin := filepath.Join(t.TempDir(), "toy")
	testutil.WriteExecutable(t, bin, []byte("#!/bin/sh\n[ \"$1\" = --check ] || exit 2\n"+
		"while read -r l; do [ \"$l\" = \"toy-idle 0\" ] && { echo \"toy: toy-idle 0 is no timeout\"; exit 1; }; done < \"$2\"\nexit 0\n"))
	opts := validate.Options{Exec: true, Binaries: func(k proxy.Kind) (proxybin.Binary, error) {
		require.Equal(t, toyproxy.Kind, k)
		return proxybin.Binary{Kind: k, Path: bin, Version: topology.Version{Major: 1}}, nil
	}}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	require.NoError(t, os.WriteFile(good, []byte(strings.Replace(toyConfig, "toy-idle 30", "toy-idle 300", 1)), 0o644))
	res, err := validate.Lint(context.Background(), []validate.Source{{Name: good}}, opts)
	require.NoError(t, err)
	require.Empty(t, res.Findings, "the binary accepts it")

	bad := filepath.Join(dir, "bad.conf")
	text := strings.Replace(toyConfig, "toy-idle 30", "toy-idle 0", 1)
	require.NoError(t, os.WriteFile(bad, []byte(text), 0o644))
	res, err = validate.Lint(context.Background(), []validate.Source{{Name: bad}}, opts)
	require.NoError(t, err)
	var rules []string
	for _, f := range res.Findings {
		rules = append(rules, f.Rule)
		if f.Rule == "WSLB002" {
			require.Equal(t, bad, f.File)
			require.Contains(t, f.Message, "toy-idle 0 is no timeout")
		}
	}
	require.ElementsMatch(t, []string{toyproxy.ShortIdleID, "WSLB002"}, rules)
	got, err := os.ReadFile(bad)
	require.NoError(t, err)
	require.Equal(t, text, string(got), "the check ran on a copy")
}

// The toy needs no edit outside its package: no other Go file of wslb
// imports it, and no other code names its kind, so what the tests above
// see comes from its registrations alone.
func TestNothingOutsideNamesTheToy(t *testing.T) {
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	own, err := filepath.Abs(".")
	require.NoError(t, err)
	files := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == own || (path != root && strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		names := []string{"proxy/internal/toyproxy"}
		if !strings.HasSuffix(path, "_test.go") {
			names = append(names, `"toy"`, `"toyproxy"`)
		}
		for _, name := range names {
			require.False(t, strings.Contains(string(b), name), "%s names the toy: %s", path, name)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 100, "the walk saw wslb's sources")
}

// `wslb validate --exec` finds the toy's binary as it finds HAProxy's:
// $WSLB_TOY, else toy in PATH, its version read with the descriptor's
// command line and parser.
func TestValidateExecFindsAndVersionsTheToyBinary(t *testing.T) {
	// Shell builtins only: the check runs in the sandbox's empty
	// environment.
	toyBinary := func(t *testing.T, version string) string {
		dir := t.TempDir()
		testutil.WriteExecutable(t, filepath.Join(dir, "toy"), []byte("#!/bin/sh\n"+
			"[ \"$1\" = --version ] && { echo \""+version+"\" >&2; exit 0; }\n"+
			"[ \"$1\" = --check ] || exit 2\n"+
			"while read -r l; do [ \"$l\" = \"toy-idle 0\" ] && { echo \"toy: toy-idle 0 is no timeout\"; exit 1; }; done < \"$2\"\nexit 0\n"))
		return dir
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	require.NoError(t, os.WriteFile(good, []byte(strings.Replace(toyConfig, "toy-idle 30", "toy-idle 300", 1)), 0o644))
	bad := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(toyConfig, "toy-idle 30", "toy-idle 0", 1)), 0o644))

	t.Run("env", func(t *testing.T) {
		bin := filepath.Join(toyBinary(t, "toy version 1.3.2 (built today)"), "toy")
		t.Setenv("WSLB_TOY", bin)
		d, ok := proxy.Lookup(string(toyproxy.Kind))
		require.True(t, ok)
		require.Equal(t, "WSLB_TOY", d.EnvVar())
		b, err := d.Binary()
		require.NoError(t, err)
		require.Equal(t, bin, b.Path)
		require.Equal(t, topology.Version{Major: 1, Minor: 3, Patch: 2}, b.Version)

		code, stdout, stderr := targettest.Run(t, "validate", "--exec", good, "--fail-on", "error")
		require.Equal(t, cli.ExitOK, code, stdout+stderr)
		code, stdout, stderr = targettest.Run(t, "validate", "--exec", bad, "--fail-on", "error")
		require.Equal(t, cli.ExitInvalidInput, code, stdout+stderr)
		require.Contains(t, stdout, "WSLB002")
		require.Contains(t, stdout, "toy-idle 0 is no timeout")
	})
	t.Run("path", func(t *testing.T) {
		t.Setenv("WSLB_TOY", "")
		t.Setenv("PATH", toyBinary(t, "toy version 2.0")+string(os.PathListSeparator)+os.Getenv("PATH"))
		code, stdout, stderr := targettest.Run(t, "validate", "--exec", bad, "--fail-on", "error")
		require.Equal(t, cli.ExitInvalidInput, code, stdout+stderr)
		require.Contains(t, stdout, "toy-idle 0 is no timeout")
	})
	t.Run("unreadable version", func(t *testing.T) {
		bin := filepath.Join(toyBinary(t, "a toy of some kind"), "toy")
		t.Setenv("WSLB_TOY", bin)
		code, stdout, stderr := targettest.Run(t, "validate", "--exec", good)
		require.NotEqual(t, cli.ExitOK, code, stdout+stderr)
		require.Contains(t, stderr, bin+" --version: cannot read a version from \"a toy of some kind\"")
	})
}

// A topology's target block names the toy's version as it names
// HAProxy's: the registry's proxies are the block's arguments.
func TestTopologyTargetsTheToy(t *testing.T) {
	src, err := os.ReadFile("../../../examples/chat.hcl")
	require.NoError(t, err)
	text := strings.Replace(string(src), "target {\n", "target {\n  toy     = \"1.4\"\n", 1)
	require.NotEqual(t, string(src), text)
	topo, diags := topology.NewLoader().Load("chat.hcl", []byte(text))
	require.False(t, diags.HasErrors(), diags.Error())
	d, _ := proxy.Lookup(string(toyproxy.Kind))
	require.Equal(t, topology.Version{Major: 1, Minor: 4}, d.Target(topo.Targets))
	require.Equal(t, topology.Version{Major: 2, Minor: 6}, topo.Targets.Version("haproxy"))

	_, diags = topology.NewLoader().Load("chat.hcl", []byte(strings.Replace(text, `toy     = "1.4"`, `toy     = "0.9"`, 1)))
	require.True(t, diags.HasErrors())
	require.Equal(t, "Unsupported Toy version", diags[0].Summary)

	_, diags = topology.NewLoader().Load("chat.hcl", []byte(strings.Replace(text, `toy     = "1.4"`, `toys    = "1.4"`, 1)))
	require.True(t, diags.HasErrors())
	require.Contains(t, diags[0].Detail, `Did you mean "toy"?`)
	require.Contains(t, diags[0].Detail, `A target names the version of "haproxy", "nginx" or "toy".`)
	require.Equal(t, 10, diags[0].Subject.Start.Line)
}
