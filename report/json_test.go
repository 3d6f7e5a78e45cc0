package report

import (
	"bytes"
	"encoding/json"
	"maps"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

func renderJSON(t *testing.T, s *Summary) (string, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, s))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), "output is not one JSON object:\n%s", buf.String())
	return buf.String(), doc
}

func singleRun() *Summary {
	s := fixtureSummary()
	s.Runs = s.Runs[:1]
	s.Passed = true
	return s
}

func TestWriteJSONGolden(t *testing.T) {
	t.Parallel()
	out, _ := renderJSON(t, fixtureSummary())
	golden(t, "summary.json", []byte(out))
	out, _ = renderJSON(t, singleRun())
	golden(t, "single.json", []byte(out))
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The key names are the contract with scripts and CI; renaming one is a
// breaking change.
func TestWriteJSONKeys(t *testing.T) {
	t.Parallel()
	runKeys := []string{"affinity", "backend_details", "backends", "clients", "direct_rtt_ms", "driver", "driver_why", "duration_ms", "errors",
		"hosts", "load", "messages", "passed", "pool", "proxy", "proxy_added_ms", "proxy_version", "reconnects", "rtt_ms", "scenarios",
		"source", "started", "stickiness", "timeline"}

	checkRun := func(t *testing.T, run map[string]any) {
		// images only when the nodes ran from container images.
		if ims, ok := run["images"]; ok {
			require.NotEmpty(t, ims)
			for _, im := range ims.([]any) {
				require.Equal(t, []string{"id", "ref", "role"}, keys(im.(map[string]any)))
			}
			run = maps.Clone(run)
			delete(run, "images")
		}
		require.Equal(t, runKeys, keys(run))
		require.IsType(t, true, run["passed"])
		require.IsType(t, "", run["proxy"])
		require.IsType(t, float64(0), run["stickiness"])
		require.Equal(t, []string{"key", "mode"}, keys(run["affinity"].(map[string]any)))

		scenarios := run["scenarios"].([]any)
		for _, sc := range scenarios {
			require.Equal(t, []string{"details", "elapsed_ms", "metrics", "name", "passed", "skipped", "summary"},
				keys(sc.(map[string]any)))
			for _, m := range sc.(map[string]any)["metrics"].([]any) {
				require.Equal(t, []string{"name", "unit", "value"}, keys(m.(map[string]any)))
			}
		}
		for id, n := range run["backends"].(map[string]any) {
			require.NotEmpty(t, id)
			require.IsType(t, float64(0), n)
		}
		for _, b := range run["backend_details"].([]any) {
			require.Equal(t, []string{"backup", "clients", "connections", "id", "weight"}, keys(b.(map[string]any)))
		}
		load := run["load"].(map[string]any)
		require.Equal(t, []string{"elapsed_ms", "in_flight", "messages", "messages_per_s", "queueing_ms"}, keys(load))
		// The probe's round trips through the proxy and straight to a
		// backend, and the load phases' queueing, have the same shape.
		for _, rtt := range []any{run["rtt_ms"], run["direct_rtt_ms"], load["queueing_ms"]} {
			rtt := rtt.(map[string]any)
			require.Equal(t, []string{"histogram", "max", "p50", "p90", "p99", "samples"}, keys(rtt))
			for _, b := range rtt["histogram"].([]any) {
				require.Equal(t, []string{"count", "le"}, keys(b.(map[string]any)))
			}
		}
		rtt, direct := run["rtt_ms"].(map[string]any), run["direct_rtt_ms"].(map[string]any)
		if rtt["samples"].(float64) > 0 && direct["samples"].(float64) > 0 {
			require.InDelta(t, rtt["p50"].(float64)-direct["p50"].(float64), run["proxy_added_ms"], 1e-9)
		} else {
			require.Nil(t, run["proxy_added_ms"], "null without both probes")
		}
		require.Equal(t, []string{"dropped", "echoed", "handshake", "message", "samples", "sent"},
			keys(run["errors"].(map[string]any)))
		for _, ev := range run["timeline"].([]any) {
			ev := ev.(map[string]any)
			want := []string{"at_ms", "connections", "detail", "kind"}
			if ev["kind"] == EventSample {
				// Samples also count the connections served in their interval.
				want = []string{"at_ms", "connections", "detail", "interval_ms", "kind", "served"}
				require.Positive(t, ev["interval_ms"])
			}
			require.Equal(t, want, keys(ev))
		}
	}

	t.Run("one run is the run object", func(t *testing.T) {
		_, doc := renderJSON(t, singleRun())
		checkRun(t, doc)
		require.NotEmpty(t, doc["scenarios"])
		require.Equal(t, true, doc["passed"])
		require.Equal(t, "haproxy", doc["proxy"])
		require.Equal(t, "examples/chat.hcl", doc["source"])
	})
	t.Run("several runs are wrapped", func(t *testing.T) {
		_, doc := renderJSON(t, fixtureSummary())
		require.Equal(t, []string{"passed", "runs", "source"}, keys(doc))
		require.Equal(t, false, doc["passed"])
		runs := doc["runs"].([]any)
		require.Len(t, runs, 2)
		for _, r := range runs {
			checkRun(t, r.(map[string]any))
		}
		require.Equal(t, true, runs[0].(map[string]any)["passed"], "each run carries its own verdict")
		require.Equal(t, []any{
			map[string]any{"role": "proxy", "ref": "haproxy:2.6", "id": "sha256:5d3f4c8a9b1e2f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"},
			map[string]any{"role": "node", "ref": "wslb-node:0123456789abcdef", "id": "sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"},
			map[string]any{"role": "broker", "ref": "wslb-runtime:bookworm", "id": ""},
		}, runs[0].(map[string]any)["images"])
		require.NotContains(t, runs[1].(map[string]any), "images", "no images without containers")
		require.Equal(t, false, runs[1].(map[string]any)["passed"])
	})
	t.Run("unknown start is null", func(t *testing.T) {
		_, doc := renderJSON(t, &Summary{Runs: []*Run{{Proxy: "nginx"}}})
		checkRun(t, doc)
		require.Nil(t, doc["started"])
		require.Equal(t, "none", doc["affinity"].(map[string]any)["mode"])
	})
	t.Run("no runs", func(t *testing.T) {
		out, doc := renderJSON(t, &Summary{Source: "x.cfg"})
		require.Equal(t, []string{"passed", "runs", "source"}, keys(doc))
		require.Contains(t, out, `"runs": []`, "arrays are never null")
	})
}

func TestWriteJSONValues(t *testing.T) {
	t.Parallel()
	_, doc := renderJSON(t, fixtureSummary())
	nginx := doc["runs"].([]any)[1].(map[string]any)

	rtt := nginx["rtt_ms"].(map[string]any)
	require.InDelta(t, 0.21, rtt["p50"], 1e-9, "durations are milliseconds")
	require.InDelta(t, 6.3, rtt["max"], 1e-9)
	require.InDelta(t, 11000, nginx["duration_ms"], 1e-9)
	require.InDelta(t, 46.0/60, nginx["stickiness"], 1e-9, "stickiness is a fraction")
	require.Equal(t, map[string]any{"ws1": 72.0, "ws2": 84.0, "ws3": 84.0}, nginx["backends"])

	sc := nginx["scenarios"].([]any)
	stick := sc[0].(map[string]any)
	require.Equal(t, "stickiness", stick["name"])
	require.Equal(t, false, stick["passed"])
	require.Len(t, stick["details"], 14, "JSON keeps every detail, the terminal caps them")
	spread := sc[1].(map[string]any)
	pValue := spread["metrics"].([]any)[1].(map[string]any)
	require.Equal(t, "p-value", pValue["name"])
	require.Nil(t, pValue["value"], "a NaN metric is null, not an encoding error")

	errs := nginx["errors"].(map[string]any)
	require.Equal(t, 2.0, errs["dropped"])
	require.Equal(t, 1194.0, errs["echoed"])

	tl := nginx["timeline"].([]any)
	down := tl[3].(map[string]any)
	require.Equal(t, "backend-down", down["kind"])
	require.Equal(t, 3000.0, down["at_ms"])
	require.Equal(t, 0.0, down["connections"].(map[string]any)["ws1"])
}

func TestWriteJSONErrors(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, WriteJSON(&bytes.Buffer{}, nil), "nil summary")
	require.ErrorContains(t, WriteJSON(failingWriter{}, fixtureSummary()), "disk full")
}
