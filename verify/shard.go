package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one slice of a run's client identities: shard Index of Count.
// The zero value is an unsharded run. Shard i runs the clients numbered
// i×C/N up to (i+1)×C/N of C clients in all, with the same names, source
// addresses, cookies and key values as the unsharded run gives them, so a
// proxy keys every client the same whichever machine runs it.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Bounds of a sharded run.
const (
	// MaxShards bounds --shard's N.
	MaxShards = 1000
	// MaxShardedClients bounds the clients of all shards together: the
	// identities of probe clients start there.
	MaxShardedClients = probeRTTFirst
)

// Sharded reports whether s is a slice of a larger run.
func (s Shard) Sharded() bool { return s.Count > 1 }

// String is the --shard syntax, "i/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads the --shard syntax: "i/N" with 0 <= i < N.
func ParseShard(v string) (Shard, error) {
	is, ns, ok := strings.Cut(v, "/")
	i, ierr := strconv.Atoi(is)
	n, nerr := strconv.Atoi(ns)
	if !ok || ierr != nil || nerr != nil {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT, e.g. 0/4 (indices count from 0)", v)
	}
	s := Shard{Index: i, Count: n}
	return s, s.check()
}

func (s Shard) check() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("shard %s: the count must be between 1 and %d", s, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %s: the index must be between 0 and %d (indices count from 0)", s, s.Count-1)
	}
	return nil
}

// Range is the slice of clients (numbered from 0) that shard s runs out
// of clients: contiguous blocks, so merging the shards in index order
// lists the clients in the unsharded run's order.
func (s Shard) Range(clients int) (first, n int) {
	if !s.Sharded() {
		return 0, clients
	}
	first = s.Index * clients / s.Count
	return first, (s.Index+1)*clients/s.Count - first
}
