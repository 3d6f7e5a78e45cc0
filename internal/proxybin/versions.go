package proxybin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wslb/wslb/topology"
)

// CacheEnv names the directory holding the root filesystems that
// `make proxies` (scripts/proxies) builds: one per Debian release, each
// with its own haproxy and nginx.
const CacheEnv = "WSLB_PROXY_CACHE"

// metaDir, in a cached root filesystem, holds PROXY.version: the output of
// PROXY's version command (`PROXY -v`) there, written last by scripts/proxies (so its presence marks
// a complete build).
const metaDir = ".wslb-proxies"

// BuildHint is what to run to get the cached versions.
const BuildHint = "make proxies"

// CacheDir is where the cached root filesystems live: $WSLB_PROXY_CACHE,
// else $XDG_CACHE_HOME/wslb/proxies, else ~/.cache/wslb/proxies (the same
// rule as scripts/proxies). It is outside any checkout, so every clone and
// CI run shares it.
func CacheDir() string {
	if d := os.Getenv(CacheEnv); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "wslb", "proxies")
}

// All lists every binary of kind available here, oldest version first:
// the one Lookup finds (the env override or PATH) and those in the cached
// root filesystems. Of two with the same version the first found is kept.
// A missing or unreadable cache holds nothing; a default binary that is
// missing is left out (Lookup says why).
func All(kind Kind) ([]Binary, error) {
	var all []Binary
	if b, err := lookupDefault(kind); err == nil {
		all = append(all, b)
	} else if nf := (*NotFoundError)(nil); !errors.As(err, &nf) {
		return nil, err
	}
	cached, err := cachedBinaries(kind, CacheDir())
	if err != nil {
		return nil, err
	}
	for _, b := range cached {
		if !slices.ContainsFunc(all, func(a Binary) bool { return a.Version == b.Version }) {
			all = append(all, b)
		}
	}
	slices.SortStableFunc(all, func(a, b Binary) int { return a.Version.Compare(b.Version) })
	return all, nil
}

// lookupDefault is Lookup; tests replace it to hide the host's binaries.
var lookupDefault = Lookup

// cachedBinaries reads the root filesystems below dir.
func cachedBinaries(kind Kind, dir string) ([]Binary, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the proxy cache: %w", err)
	}
	var bins []Binary
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue // a build in progress, or the lock
		}
		b, err := cachedBinary(kind, filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // incomplete, or without this proxy
		}
		if err != nil {
			return nil, err
		}
		bins = append(bins, b)
	}
	return bins, nil
}

// cachedBinary describes the binary of kind in the cached root filesystem
// root, from the version recorded there.
func cachedBinary(kind Kind, root string) (Binary, error) {
	out, err := os.ReadFile(filepath.Join(root, metaDir, string(kind)+".version"))
	if err != nil {
		return Binary{}, err
	}
	path := filepath.Join(root, "usr", "sbin", string(kind))
	if fi, err := os.Stat(path); err != nil {
		return Binary{}, err
	} else if !fi.Mode().IsRegular() {
		return Binary{}, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	v, err := parseVersion(kind, string(out))
	if err != nil {
		return Binary{}, fmt.Errorf("%s: %w", filepath.Join(root, metaDir), err)
	}
	return Binary{Kind: kind, Path: path, Root: root, Version: v}, nil
}

// RootOf returns the cached root filesystem that holds the binary at path
// (it must run there, see sandbox.Spec.Root), or "" for the host's.
func RootOf(path string) string {
	dir := CacheDir()
	if dir == "" || !filepath.IsAbs(path) {
		return ""
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return ""
	}
	root := filepath.Join(dir, strings.Split(rel, string(filepath.Separator))[0])
	if fi, err := os.Stat(filepath.Join(root, metaDir)); err != nil || !fi.IsDir() {
		return ""
	}
	return root
}

// Want says which version of a proxy to run. The zero Want is the default
// binary (Lookup).
type Want struct {
	// Version, when set, is a version asked for by name (--proxy-version):
	// "3.0" matches any 3.0.x, "3.0.11" only that release.
	Version string
	// AtLeast, when set, is the oldest version the config is written for
	// (a topology's targets): the default binary if it is that recent,
	// else the oldest available one that is.
	AtLeast topology.Version
}

// Find returns the binary of kind that w asks for. When no available
// binary fits, the error is a *NotFoundError naming the versions there
// are and how to get the others.
func Find(kind Kind, w Want) (Binary, error) {
	if w == (Want{}) {
		return lookupDefault(kind)
	}
	var match func(topology.Version) bool
	switch {
	case w.Version != "":
		want, err := topology.ParseVersion(w.Version)
		if err != nil {
			return Binary{}, err
		}
		patch := strings.Count(w.Version, ".") == 2
		match = func(v topology.Version) bool {
			return v.Major == want.Major && v.Minor == want.Minor && (!patch || v.Patch == want.Patch)
		}
	default:
		t := w.AtLeast
		match = func(v topology.Version) bool { return v.AtLeast(t.Major, t.Minor, t.Patch) }
		b, err := lookupDefault(kind)
		if err == nil && match(b.Version) {
			return b, nil
		}
		// A binary named by the environment that is not there is a
		// mistake to report, not a reason to run another.
		if nf := (*NotFoundError)(nil); errors.As(err, &nf) && nf.Path != "" {
			return Binary{}, err
		}
	}
	all, err := All(kind)
	if err != nil {
		return Binary{}, err
	}
	for _, b := range all {
		if match(b.Version) {
			return b, nil
		}
	}
	nf := &NotFoundError{Kind: kind, Want: w}
	for _, b := range all {
		nf.Have = append(nf.Have, b.Version)
	}
	return Binary{}, nf
}

// wanted says in words what w asks for.
func (w Want) String() string {
	if w.Version != "" {
		return w.Version
	}
	return w.AtLeast.Short() + " or later"
}
