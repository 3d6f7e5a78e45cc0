package verify

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/report"
)

func TestParseShard(t *testing.T) {
	s, err := ParseShard("2/4")
	require.NoError(t, err)
	require.Equal(t, Shard{Index: 2, Count: 4}, s)
	for _, bad := range []string{"", "4/4", "-1/4", "1/0", "a/4", "1/b", "1", "1/4/5", "0/1001", " 1/4"} {
		_, err := ParseShard(bad)
		require.Error(t, err, bad)
	}
}

func TestShardRangeCoversEveryClientOnce(t *testing.T) {
	for _, tc := range []struct{ clients, count int }{{200, 4}, {7, 3}, {10, 10}, {9001, 7}} {
		next := 0
		for i := range tc.count {
			first, n := Shard{Index: i, Count: tc.count}.Range(tc.clients)
			require.Equal(t, next, first)
			require.Positive(t, n)
			next += n
		}
		require.Equal(t, tc.clients, next)
	}
	first, n := Shard{}.Range(50)
	require.Equal(t, []int{0, 50}, []int{first, n})
}

func TestNormalizeShard(t *testing.T) {
	ok := Options{Clients: 20000, Reconnects: 1, Shard: Shard{Index: 0, Count: 4}}
	_, err := ok.Normalize()
	require.NoError(t, err, "20,000 clients over 4 shards is 5,000 each")
	for _, o := range []Options{
		{Clients: 20000, Reconnects: 1},                                // unsharded: more than one machine
		{Clients: 20000, Reconnects: 1, Shard: Shard{Count: 2}},        // 10,000 per shard
		{Clients: 3, Reconnects: 1, Shard: Shard{Count: 4}},            // a shard without clients
		{Clients: 60000, Reconnects: 1, Shard: Shard{Count: 100}},      // past the identities
		{Clients: 10, Reconnects: 1, Shard: Shard{Index: 4, Count: 4}}, // index out of range
		{Clients: 10, Reconnects: 1, Shard: Shard{Count: 2}, Scenarios: []string{ScenarioFanout}},
		{Clients: 10, Reconnects: 1, Against: "no-port"},
		{Clients: 10, Reconnects: 1, Against: "host:99999"},
	} {
		_, err := o.Normalize()
		require.Error(t, err, "%+v", o)
	}
}

// shardResults splits an unsharded run's observations the way n shards
// would have made them.
func shardResults(t *testing.T, obs *Observations, clients, n int) []*Results {
	t.Helper()
	opts, err := Options{Clients: clients, Reconnects: 1, Scenarios: obs.Scenarios, Proxies: nil}.Normalize()
	require.NoError(t, err)
	var out []*Results
	for i := range n {
		opts.Shard = Shard{Index: i, Count: n}
		r := NewResults("topo.hcl", "abc123", opts)
		first, k := opts.Shard.Range(clients)
		o := *obs
		o.Baseline = slices.Clone(obs.Baseline[first : first+k])
		r.Add(&report.Run{Proxy: "haproxy", Pool: "p", Backends: []*report.Backend{{ID: "a", Clients: k}}}, &o)
		out = append(out, r)
	}
	return out
}

func testObservations(clients int, sticky bool) *Observations {
	o := &Observations{
		Scenarios: []string{ScenarioStickiness, ScenarioSpread}, MinStickiness: 1,
		Servers: []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}},
	}
	for i := range clients {
		b := []string{"a", "b"}[i%2]
		tr := Trace{Client: fmt.Sprintf("client-%04d", i), Backends: []string{b, b}}
		if !sticky && i%5 == 0 {
			tr.Backends[1] = "a"
			tr.Backends[0] = "b"
		}
		o.Baseline = append(o.Baseline, tr)
	}
	return o
}

func TestMergeJudgesLikeTheUnshardedRun(t *testing.T) {
	for _, sticky := range []bool{true, false} {
		obs := testObservations(40, sticky)
		want := Judge(obs)
		sum, err := Merge(shardResults(t, obs, 40, 4))
		require.NoError(t, err)
		require.Len(t, sum.Runs, 1)
		require.Equal(t, want, sum.Runs[0].Scenarios)
		require.Equal(t, sticky, sum.Passed)
		require.Equal(t, 40, sum.Runs[0].Clients)
		require.Equal(t, 40, sum.Runs[0].Backends[0].Clients)
	}
}

func TestMergeRoundTripsThroughTheFile(t *testing.T) {
	obs := testObservations(40, false)
	var shards []*Results
	for i, r := range shardResults(t, obs, 40, 4) {
		var buf bytes.Buffer
		if i == 2 { // a pod's log: other output around the markers
			buf.WriteString("the report\n" + ResultsBegin + "\n")
		}
		require.NoError(t, WriteResults(&buf, r))
		if i == 2 {
			buf.WriteString(ResultsEnd + "\nmore\n")
		}
		got, err := ReadResults(&buf)
		require.NoError(t, err)
		shards = append(shards, got)
	}
	sum, err := Merge(shards)
	require.NoError(t, err)
	require.Equal(t, Judge(obs), sum.Runs[0].Scenarios)
}

func TestMergeKeepsTheImagesEveryShardRan(t *testing.T) {
	proxy := report.Image{Role: "proxy", Ref: "haproxy:2.6", ID: "sha256:aa"}
	node := report.Image{Role: "node", Ref: "wslb-node:0123", ID: "sha256:bb"}
	other := report.Image{Role: "proxy", Ref: "haproxy:2.6", ID: "sha256:cc"} // the tag on another engine
	var shards []*Results
	for i, r := range shardResults(t, testObservations(40, true), 40, 3) {
		r.Runs[0].Images = [][]report.Image{{proxy, node}, {proxy, node}, {other, node}}[i]
		var buf bytes.Buffer
		require.NoError(t, WriteResults(&buf, r))
		got, err := ReadResults(&buf)
		require.NoError(t, err)
		shards = append(shards, got)
	}
	sum, err := Merge(shards)
	require.NoError(t, err)
	require.Equal(t, []report.Image{proxy, node, other}, sum.Runs[0].Images)

	// Shards that ran no containers have none.
	sum, err = Merge(shardResults(t, testObservations(40, true), 40, 2))
	require.NoError(t, err)
	require.Empty(t, sum.Runs[0].Images)
}

func TestMergeRefusesShardsOfAnotherRun(t *testing.T) {
	obs := testObservations(40, true)
	fresh := func() []*Results { return shardResults(t, obs, 40, 4) }
	for name, tc := range map[string]struct {
		shards func() []*Results
		want   string
	}{
		"missing": {func() []*Results { return fresh()[:3] }, "shard 3/4 missing"},
		"duplicate": {func() []*Results {
			s := fresh()
			return append(s, s[1])
		}, "shard 1/4 given more than once"},
		"topology": {func() []*Results {
			s := fresh()
			s[2].SourceSHA256 = "fff"
			return s
		}, "ran another topology or config"},
		"count": {func() []*Results {
			s := fresh()
			s[3].Shard.Count = 5
			return s
		}, "split the clients differently (5 and 4 shards)"},
		"version": {func() []*Results {
			s := fresh()
			s[1].Version = 2
			return s
		}, "results format version 2"},
		"settings": {func() []*Results {
			s := fresh()
			s[1].Params.Reconnects = 7
			return s
		}, "reconnects 7 and 1"},
		"pool": {func() []*Results {
			s := fresh()
			s[1].Runs[0].Pool = "other"
			return s
		}, "pool other in shard 1/4"},
		"client twice": {func() []*Results {
			s := fresh()
			s[1].Runs[0].Observations.Baseline[0].Client = "client-0000"
			return s
		}, "client client-0000 ran in shard 0 and in shard 1"},
		"failover in some": {func() []*Results {
			s := fresh()
			s[1].Runs[0].Observations.Failover = &FailoverObs{NoVictim: true}
			return s
		}, "1 of 4 shards observed the failover scenario"},
		"none": {func() []*Results { return nil }, "no results"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Merge(tc.shards())
			require.ErrorContains(t, err, tc.want)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
		})
	}
}

func TestReadResultsRefusesWhatIsNotResults(t *testing.T) {
	good := func() string {
		var buf bytes.Buffer
		require.NoError(t, WriteResults(&buf, shardResults(t, testObservations(8, true), 8, 2)[1]))
		return buf.String()
	}()
	for name, tc := range map[string]struct{ in, want string }{
		"empty":      {"", "not a wslb results file"},
		"syntax":     {"{\n  \"format\": x}", "2:13"},
		"format":     {`{"format": "other", "version": 1}`, `format "other"`},
		"version":    {`{"format": "wslb-verify-results", "version": 9}`, "version 9"},
		"cut short":  {ResultsBegin + "\n" + good, "the output was cut short"},
		"shard":      {strings.Replace(good, `"index":1`, `"index":2`, 1), "index must be between 0 and 1"},
		"clients":    {strings.Replace(good, `"first_client":4`, `"first_client":3`, 1), "shard 1/2 of 8 clients runs 4..7"},
		"no obs":     {strings.Replace(good, `"observations":{`, `"observations":null,"x":{`, 1), "no observations"},
		"bad client": {strings.Replace(good, `"client":"client-0005"`, `"client":"client-0004"`, 1), "listed twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadResults(strings.NewReader(tc.in))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzReadResults(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteResults(&buf, shardResults(&testing.T{}, testObservations(8, false), 8, 2)[0]); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.String())
	f.Add(ResultsBegin + "\n" + buf.String() + ResultsEnd)
	f.Add(`{"format":"wslb-verify-results","version":1,"shard":{"index":0,"count":1},"params":{"clients":1},"runs":[{"clients":1,"observations":{"baseline":[{"client":"c"}]}}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ReadResults(strings.NewReader(in))
		if err != nil {
			return
		}
		// What the reader accepts, merge and the judge must handle
		// without panicking.
		sum, err := Merge([]*Results{r})
		if err == nil {
			_ = report.WriteText(&bytes.Buffer{}, sum, report.TextOptions{})
		}
	})
}
