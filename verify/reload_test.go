package verify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPinned(t *testing.T) {
	tests := []struct {
		name         string
		held, sticky map[string]string
		want         map[string]string
	}{
		{
			name:   "the held connection is the reference, not the earlier phase",
			held:   map[string]string{"c1": "b", "c2": "b"},
			sticky: map[string]string{"c1": "a", "c2": "b"},
			want:   map[string]string{"c1": "b", "c2": "b"},
		},
		{
			name:   "clients not sticky before are not judged",
			held:   map[string]string{"c1": "a", "c2": "b"},
			sticky: map[string]string{"c1": "a"},
			want:   map[string]string{"c1": "a"},
		},
		{
			name:   "clients without an open held connection are not judged",
			held:   map[string]string{},
			sticky: map[string]string{"c1": "a"},
			want:   map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, pinned(tc.held, tc.sticky))
		})
	}
}

func TestEvalReloadExplainsMoves(t *testing.T) {
	tests := []struct {
		name    string
		in      ReloadInput
		moved   float64
		details []string
		absent  string
	}{
		{
			name:    "moved clients are named with where they were and went",
			in:      ReloadInput{Held: 2, Before: map[string]string{"c1": "a", "c2": "b"}, New: []Trace{tr("c1", 0, "b"), tr("c2", 0, "b")}},
			moved:   1,
			details: []string{"c1: a before the reload, b after", "did not keep their affinity across the reload", "peers section"},
		},
		{
			name:   "without a reference nobody moved",
			in:     ReloadInput{Held: 2, New: []Trace{tr("c1", 0, "b"), tr("c2", 0, "a")}},
			absent: "moved",
		},
		{
			name:   "failed new connections are not moves",
			in:     ReloadInput{Held: 1, Before: map[string]string{"c1": "a"}, New: []Trace{tr("c1", 1)}},
			absent: "moved",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := EvalReload(tc.in)
			details := strings.Join(sc.Details, "\n")
			for _, d := range tc.details {
				require.Contains(t, details, d)
			}
			if tc.absent != "" {
				require.NotContains(t, sc.Summary+details, tc.absent)
			}
			var moved float64
			for _, m := range sc.Metrics {
				if m.Name == "clients moved by the reload" {
					moved = m.Value
				}
			}
			require.Equal(t, tc.moved, moved)
		})
	}
}
