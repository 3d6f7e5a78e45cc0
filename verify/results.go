package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/report"
)

// A results file holds what a (sharded) run observed, before any verdict:
// `wslb verify --shard i/N --results FILE` writes one, `wslb report merge`
// reads N of them and judges them together.
const (
	// ResultsFormat names the file's content.
	ResultsFormat = "wslb-verify-results"
	// ResultsVersion is the layout's version; merge reads only its own.
	ResultsVersion = 1
	// ResultsBegin and ResultsEnd enclose a results file printed among
	// other output (a pod's log): ReadResults reads what lies between.
	ResultsBegin = "-----BEGIN WSLB RESULTS-----"
	ResultsEnd   = "-----END WSLB RESULTS-----"
	// maxResultsBytes bounds a results file: 9,000 clients with a few
	// connections each take a few MB.
	maxResultsBytes = 256 << 20
	// maxResultRuns bounds the runs of one file (proxies × pools).
	maxResultRuns = 256
)

// Results is one results file: the run's input and settings, which every
// shard must share, and per run (proxy and pool) what this shard saw.
type Results struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Source is the topology or config verified; SourceSHA256 the hash of
	// its bytes, which the shards of one run must share.
	Source       string  `json:"source"`
	SourceSHA256 string  `json:"source_sha256"`
	Shard        Shard   `json:"shard"`
	Params       Params  `json:"params"`
	Runs         []*Part `json:"runs"`
}

// Params are the settings that shape what a run observes and how it is
// judged; the shards of one run must have the same.
type Params struct {
	Clients          int           `json:"clients"` // of all shards together
	Reconnects       int           `json:"reconnects"`
	Messages         int           `json:"messages"`
	Scenarios        []string      `json:"scenarios"`
	MinStickiness    float64       `json:"min_stickiness"`
	Idle             time.Duration `json:"idle_ns"`
	Key              string        `json:"key"`
	Pools            []string      `json:"pools"`
	Proxies          []string      `json:"proxies"`
	Against          string        `json:"against"`
	Client           string        `json:"client"`
	ProductionTimers bool          `json:"production_timers"`
}

// ParamsOf are the Params of opts (normalized).
func ParamsOf(opts Options) Params {
	p := Params{
		Clients: opts.Clients, Reconnects: opts.Reconnects, Messages: opts.Messages,
		Scenarios: slices.Clone(opts.Scenarios), MinStickiness: opts.MinStickiness, Idle: opts.Idle,
		Pools: slices.Clone(opts.Pools), Against: opts.Against, Client: opts.Client, ProductionTimers: opts.ProductionTimers,
	}
	if opts.Key != nil {
		p.Key = opts.Key.String()
	}
	for _, k := range opts.Proxies {
		p.Proxies = append(p.Proxies, string(k))
	}
	return p
}

// Part is one run (proxy and pool) as one shard saw it: the run's facts
// and measurements, and the observations its verdicts are judged from.
type Part struct {
	Proxy        string          `json:"proxy"`
	ProxyVersion string          `json:"proxy_version"`
	Pool         string          `json:"pool"`
	Affinity     report.Affinity `json:"affinity"`
	Started      time.Time       `json:"started"`
	Duration     time.Duration   `json:"duration_ns"`
	// FirstClient and Clients are this shard's slice of the clients.
	FirstClient int              `json:"first_client"`
	Clients     int              `json:"clients"`
	Backends    []report.Backend `json:"backends"`
	RTT         report.Latency   `json:"rtt"`
	DirectRTT   report.Latency   `json:"direct_rtt"`
	Load        report.Load      `json:"load"`
	Errors      report.Errors    `json:"errors"`
	// Images are the container images this shard's nodes ran from.
	Images       []report.Image `json:"images,omitempty"`
	Observations *Observations  `json:"observations"`
}

// NewResults starts the results file of a run of opts (normalized) on
// source, whose bytes hash to sum.
func NewResults(source, sum string, opts Options) *Results {
	shard := opts.Shard
	if shard == (Shard{}) {
		shard = Shard{Index: 0, Count: 1}
	}
	return &Results{Format: ResultsFormat, Version: ResultsVersion, Source: source, SourceSHA256: sum, Shard: shard, Params: ParamsOf(opts), Runs: []*Part{}}
}

// Add records a finished run and what it observed (an Options.Observe).
func (r *Results) Add(run *report.Run, obs *Observations) {
	first, n := r.Shard.Range(r.Params.Clients)
	p := &Part{
		Proxy: run.Proxy, ProxyVersion: run.ProxyVersion, Pool: run.Pool, Affinity: run.Affinity,
		Started: run.Started, Duration: run.Duration, FirstClient: first, Clients: n,
		RTT: run.RTT, DirectRTT: run.DirectRTT, Load: run.Load, Errors: run.Errors, Images: run.Images, Observations: obs,
	}
	for _, b := range run.Backends {
		p.Backends = append(p.Backends, *b)
	}
	r.Runs = append(r.Runs, p)
}

// WriteResults writes r as JSON.
func WriteResults(w io.Writer, r *Results) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// ReadResults reads a results file (user input: it is checked, never
// trusted): the JSON document, or the one between ResultsBegin and
// ResultsEnd lines of a longer text such as a pod's log.
func ReadResults(r io.Reader) (*Results, error) {
	data, err := safefile.ReadAtMost(r, maxResultsBytes)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, fmt.Errorf("larger than %d MiB: not a results file", maxResultsBytes>>20)
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.Index(data, []byte(ResultsBegin)); i >= 0 {
		data = data[i+len(ResultsBegin):]
		j := bytes.Index(data, []byte(ResultsEnd))
		if j < 0 {
			return nil, fmt.Errorf("%s without %s: the output was cut short", ResultsBegin, ResultsEnd)
		}
		data = data[:j]
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a wslb results file: %w", jsonError(data, err))
	}
	if head.Format != ResultsFormat {
		return nil, fmt.Errorf("not a wslb results file (format %q, want %q)", head.Format, ResultsFormat)
	}
	if head.Version != ResultsVersion {
		return nil, fmt.Errorf("results format version %d; this wslb reads version %d: merge results written by the same wslb version", head.Version, ResultsVersion)
	}
	var res Results
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, jsonError(data, err)
	}
	if err := res.check(); err != nil {
		return nil, err
	}
	return &res, nil
}

// jsonError places a syntax or type error at line:col of data.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	// The offset is just past the byte that broke the parse.
	off = max(off-1, 0)
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

// check refuses a results file whose parts do not fit together.
func (r *Results) check() error {
	if err := r.Shard.check(); err != nil {
		return err
	}
	if r.Params.Clients < r.Shard.Count || r.Params.Clients > MaxShardedClients {
		return fmt.Errorf("clients %d: want between %d and %d", r.Params.Clients, r.Shard.Count, MaxShardedClients)
	}
	if len(r.Runs) == 0 || len(r.Runs) > maxResultRuns {
		return fmt.Errorf("%d runs: want between 1 and %d", len(r.Runs), maxResultRuns)
	}
	first, n := r.Shard.Range(r.Params.Clients)
	for i, p := range r.Runs {
		if p == nil || p.Observations == nil {
			return fmt.Errorf("run %d has no observations", i+1)
		}
		if p.FirstClient != first || p.Clients != n {
			return fmt.Errorf("run %d: clients %d..%d, but shard %s of %d clients runs %d..%d", i+1, p.FirstClient, p.FirstClient+p.Clients-1, r.Shard, r.Params.Clients, first, first+n-1)
		}
		if len(p.Observations.Baseline) > n {
			return fmt.Errorf("run %d: %d clients in the baseline, more than the shard's %d", i+1, len(p.Observations.Baseline), n)
		}
		seen := map[string]bool{}
		for _, t := range p.Observations.Baseline {
			if t.Client == "" || seen[t.Client] {
				return fmt.Errorf("run %d: client %q is empty or listed twice", i+1, t.Client)
			}
			seen[t.Client] = true
		}
	}
	return nil
}
