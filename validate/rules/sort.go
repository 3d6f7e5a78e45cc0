package rules

import (
	"sort"

	"github.com/wslb/wslb/proxy/haproxy"
)

func sortedSections[V any](m map[*haproxy.Section]V) []*haproxy.Section {
	out := make([]*haproxy.Section, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
