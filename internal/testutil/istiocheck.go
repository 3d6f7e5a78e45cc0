package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The Istio and Gateway API YAML wslb generates is checked the way the
// HAProxy and NGINX configs are checked by their binaries: by
// tools/istiocheck, a module of its own (so wslb links none of it), which
// applies the CRD schemas of the istio.io/api and sigs.k8s.io/gateway-api
// versions wslb is built with, with the Kubernetes API server's
// validation code, decodes every object into its API's Go type, and runs
// Istio's semantic validation (istioctl validate's).

var (
	checkerOnce sync.Once
	checkerPath string
	checkerArgs []string
	checkerErr  error
)

// IstioCheck runs tools/istiocheck (built once per test binary) on files
// with the CRDs of both APIs, and returns its output.
func IstioCheck(t *testing.T, files ...string) (string, error) {
	t.Helper()
	checkerOnce.Do(buildIstioCheck)
	require.NoError(t, checkerErr)
	out, err := exec.Command(checkerPath, append(slices.Clone(checkerArgs), files...)...).CombinedOutput()
	return string(out), err
}

// RemoveIstioCheck deletes the checker IstioCheck built; call it from
// TestMain after the tests ran.
func RemoveIstioCheck() {
	if checkerPath != "" {
		os.RemoveAll(filepath.Dir(checkerPath))
	}
}

func buildIstioCheck() {
	root, err := moduleDir("github.com/wslb/wslb")
	if err != nil {
		checkerErr = err
		return
	}
	istioAPI, err := moduleDir("istio.io/api")
	if err != nil {
		checkerErr = err
		return
	}
	gatewayAPI, err := moduleDir("sigs.k8s.io/gateway-api")
	if err != nil {
		checkerErr = err
		return
	}
	checkerArgs = []string{
		"-crds", filepath.Join(istioAPI, "kubernetes", "customresourcedefinitions.gen.yaml"),
		// The standard channel: what a cluster has from the Gateway
		// API's release manifest.
		"-crds", filepath.Join(gatewayAPI, "config", "crd", "standard"),
	}
	dir, err := os.MkdirTemp("", "wslb-istiocheck-")
	if err != nil {
		checkerErr = err
		return
	}
	checkerPath = filepath.Join(dir, "istiocheck")
	out, err := exec.Command("go", "build", "-C", filepath.Join(root, "tools", "istiocheck"), "-o", checkerPath, ".").CombinedOutput()
	if err != nil {
		checkerErr = &buildError{err, string(out)}
	}
}

// moduleDir is where the module wslb builds with lies.
func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		return "", &buildError{err, "go list -m " + path}
	}
	return strings.TrimSpace(string(out)), nil
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "build tools/istiocheck: " + e.err.Error() + "\n" + e.out }
