package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strconv"
	"time"
)

// WriteJSON writes s as one JSON document with stable keys. Durations are
// milliseconds as numbers (keys ending in _ms); fractions are 0..1;
// numbers that are not finite (a p-value that could not be computed) are
// null.
//
// A Summary with exactly one run is written as that run's object:
//
//	{
//	  "passed": true,               // the whole verification passed
//	  "source": "examples/chat.hcl",
//	  "proxy": "haproxy", "proxy_version": "2.6.12", "pool": "chat",
//	  "affinity": {"mode": "cookie", "key": "SERVERID"},
//	  "driver": "netns",            // what ran the nodes, and where:
//	  "hosts": {"proxy": "198.18.0.2:41234", "backends": {"ws1": "198.18.1.1:20100"},
//	            "clients": "198.19.X.Y on 4 client hosts"},
//	  "started": "2026-01-02T15:04:05Z", "duration_ms": 12400,
//	  "clients": 200, "reconnects": 3, "messages": 10,
//	  "scenarios": [{"name": "stickiness", "passed": true, "skipped": false,
//	                 "summary": "...", "elapsed_ms": 800,
//	                 "metrics": [{"name": "...", "value": 1, "unit": "%"}],
//	                 "details": ["client-0042 (127.1.0.43) hit ws1, ws2"]}],
//	  "stickiness": 1,              // fraction of clients on one backend
//	  "backends": {"ws1": 312},     // connections per backend id
//	  "backend_details": [{"id": "ws1", "weight": 1, "backup": false,
//	                       "clients": 80, "connections": 312}],
//	  "rtt_ms": {"p50": 0.14, "p90": 0.31, "p99": 1.2, "max": 4.8,  // probe through the proxy
//	             "samples": 300, "histogram": [{"le": 0.1, "count": 120}]},
//	  "direct_rtt_ms": {"p50": 0.06, ...},  // the same probe straight to a backend
//	  "proxy_added_ms": 0.08,               // p50 difference, null without both
//	  "load": {"messages": 8000, "elapsed_ms": 900, "messages_per_s": 8900,
//	           "in_flight": 256, "queueing_ms": {"p50": 12, ...}},
//	  "errors": {"handshake": 0, "message": 0, "dropped": 0,
//	             "sent": 8000, "echoed": 8000, "samples": []},
//	  "timeline": [{"at_ms": 3000, "kind": "backend-down", "detail": "ws2",
//	                "connections": {"ws1": 100}},
//	               {"at_ms": 3250, "kind": "sample", "detail": "",
//	                "connections": {"ws1": 2},      // open at that instant
//	                "served": {"ws1": 96},          // open during the interval
//	                "interval_ms": 250}]
//	}
//
// A Summary with several runs (--proxy all), or none, is written as
//
//	{"passed": false, "source": "...", "runs": [<run object>, ...]}
//
// where each run object has the keys above and "passed" is that run's
// verdict. Arrays are never null, so consumers can iterate without checks.
func WriteJSON(w io.Writer, s *Summary) error {
	if s == nil {
		return errors.New("write json report: nil summary")
	}
	var doc any
	if len(s.Runs) == 1 && s.Runs[0] != nil {
		run := newJSONRun(s.Runs[0], s.Source)
		run.Passed = s.Passed && s.Runs[0].Passed
		doc = run
	} else {
		all := jsonSummary{Passed: s.Passed, Source: s.Source, Runs: []jsonRun{}}
		for _, r := range s.Runs {
			if r != nil {
				all.Runs = append(all.Runs, newJSONRun(r, s.Source))
			}
		}
		doc = all
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "<" and "&" readable; this is not embedded in HTML
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// The json* types are the JSON document's schema. They are kept apart
// from the model so the model can change without breaking consumers, and
// so durations can be written in milliseconds.

type jsonSummary struct {
	Passed bool      `json:"passed"`
	Source string    `json:"source"`
	Runs   []jsonRun `json:"runs"`
}

type jsonRun struct {
	Passed         bool           `json:"passed"`
	Source         string         `json:"source"`
	Proxy          string         `json:"proxy"`
	ProxyVersion   string         `json:"proxy_version"`
	Pool           string         `json:"pool"`
	Affinity       jsonAffinity   `json:"affinity"`
	Driver         string         `json:"driver"`
	DriverWhy      string         `json:"driver_why"`
	Hosts          jsonHosts      `json:"hosts"`
	Images         []Image        `json:"images,omitempty"`
	Broker         string         `json:"broker,omitempty"`
	Started        *string        `json:"started"` // RFC 3339, null when unknown
	DurationMS     jsonFloat      `json:"duration_ms"`
	Clients        int            `json:"clients"`
	Reconnects     int            `json:"reconnects"`
	Messages       int            `json:"messages"`
	Scenarios      []jsonScenario `json:"scenarios"`
	Stickiness     jsonFloat      `json:"stickiness"`
	Backends       map[string]int `json:"backends"`
	BackendDetails []jsonBackend  `json:"backend_details"`
	RTT            jsonLatency    `json:"rtt_ms"`
	DirectRTT      jsonLatency    `json:"direct_rtt_ms"`
	ProxyAddedMS   *jsonFloat     `json:"proxy_added_ms"`
	Load           jsonLoad       `json:"load"`
	Errors         jsonErrors     `json:"errors"`
	Timeline       []jsonEvent    `json:"timeline"`
}

type jsonHosts struct {
	Proxy    string            `json:"proxy"`
	Backends map[string]string `json:"backends"`
	Clients  string            `json:"clients"`
}

type jsonAffinity struct {
	Mode string `json:"mode"`
	Key  string `json:"key"`
}

type jsonScenario struct {
	Name      string       `json:"name"`
	Passed    bool         `json:"passed"`
	Skipped   bool         `json:"skipped"`
	Summary   string       `json:"summary"`
	ElapsedMS jsonFloat    `json:"elapsed_ms"`
	Metrics   []jsonMetric `json:"metrics"`
	Details   []string     `json:"details"`
}

type jsonMetric struct {
	Name  string    `json:"name"`
	Value jsonFloat `json:"value"`
	Unit  string    `json:"unit"`
}

type jsonBackend struct {
	ID          string `json:"id"`
	Weight      int    `json:"weight"`
	Backup      bool   `json:"backup"`
	Clients     int    `json:"clients"`
	Connections int    `json:"connections"`
}

type jsonLatency struct {
	P50       jsonFloat    `json:"p50"`
	P90       jsonFloat    `json:"p90"`
	P99       jsonFloat    `json:"p99"`
	Max       jsonFloat    `json:"max"`
	Samples   int64        `json:"samples"`
	Histogram []jsonBucket `json:"histogram"`
}

type jsonLoad struct {
	Messages     int64       `json:"messages"`
	ElapsedMS    jsonFloat   `json:"elapsed_ms"`
	MessagesPerS jsonFloat   `json:"messages_per_s"`
	InFlight     int         `json:"in_flight"`
	QueueingMS   jsonLatency `json:"queueing_ms"`
}

func newJSONLatency(l Latency) jsonLatency {
	out := jsonLatency{
		P50: msFloat(l.P50), P90: msFloat(l.P90), P99: msFloat(l.P99), Max: msFloat(l.Max),
		Samples: l.Samples, Histogram: []jsonBucket{},
	}
	for _, b := range l.Histogram {
		out.Histogram = append(out.Histogram, jsonBucket{LE: msFloat(b.UpperBound), Count: b.Count})
	}
	return out
}

type jsonBucket struct {
	LE    jsonFloat `json:"le"` // upper bound in ms, inclusive
	Count int64     `json:"count"`
}

type jsonErrors struct {
	Handshake int      `json:"handshake"`
	Message   int      `json:"message"`
	Dropped   int      `json:"dropped"`
	Sent      int64    `json:"sent"`
	Echoed    int64    `json:"echoed"`
	Samples   []string `json:"samples"`
}

type jsonEvent struct {
	AtMS        jsonFloat      `json:"at_ms"`
	Kind        string         `json:"kind"`
	Detail      string         `json:"detail"`
	Connections map[string]int `json:"connections"`
	// Served and IntervalMS are set on samples only.
	Served     map[string]int `json:"served,omitempty"`
	IntervalMS jsonFloat      `json:"interval_ms,omitempty"`
}

func newJSONRun(r *Run, source string) jsonRun {
	out := jsonRun{
		Passed:         r.Passed,
		Source:         source,
		Proxy:          r.Proxy,
		ProxyVersion:   r.ProxyVersion,
		Pool:           r.Pool,
		Affinity:       jsonAffinity{Mode: r.Affinity.Mode, Key: r.Affinity.Key},
		Driver:         r.Driver,
		DriverWhy:      r.DriverWhy,
		Hosts:          jsonHosts{Proxy: r.Hosts.Proxy, Backends: map[string]string{}, Clients: r.Hosts.Clients},
		Images:         r.Images,
		Broker:         r.Broker,
		DurationMS:     msFloat(r.Duration),
		Clients:        r.Clients,
		Reconnects:     r.Reconnects,
		Messages:       r.Messages,
		Scenarios:      []jsonScenario{},
		Stickiness:     jsonFloat(r.Stickiness),
		Backends:       map[string]int{},
		BackendDetails: []jsonBackend{},
		RTT:            newJSONLatency(r.RTT),
		DirectRTT:      newJSONLatency(r.DirectRTT),
		Load: jsonLoad{
			Messages: r.Load.Messages, ElapsedMS: msFloat(r.Load.Elapsed), MessagesPerS: jsonFloat(r.Load.Throughput()),
			InFlight: r.Load.InFlight, QueueingMS: newJSONLatency(r.Load.Queueing),
		},
		Errors: jsonErrors{
			Handshake: r.Errors.Handshake,
			Message:   r.Errors.Message,
			Dropped:   r.Errors.Dropped,
			Sent:      r.Errors.Sent,
			Echoed:    r.Errors.Echoed,
			Samples:   nonNil(r.Errors.Samples),
		},
		Timeline: []jsonEvent{},
	}
	if out.Affinity.Mode == "" {
		out.Affinity.Mode = "none"
	}
	if !r.Started.IsZero() {
		started := r.Started.UTC().Format(time.RFC3339Nano)
		out.Started = &started
	}
	for _, sc := range r.Scenarios {
		if sc == nil {
			continue
		}
		js := jsonScenario{
			Name:      sc.Name,
			Passed:    sc.Passed,
			Skipped:   sc.Skipped,
			Summary:   sc.Summary,
			ElapsedMS: msFloat(sc.Elapsed),
			Metrics:   []jsonMetric{},
			Details:   nonNil(sc.Details),
		}
		for _, m := range sc.Metrics {
			js.Metrics = append(js.Metrics, jsonMetric{Name: m.Name, Value: jsonFloat(m.Value), Unit: m.Unit})
		}
		out.Scenarios = append(out.Scenarios, js)
	}
	for _, b := range r.Backends {
		if b == nil {
			continue
		}
		out.Backends[b.ID] = b.Connections
		out.BackendDetails = append(out.BackendDetails, jsonBackend{
			ID: b.ID, Weight: b.Weight, Backup: b.Backup, Clients: b.Clients, Connections: b.Connections,
		})
	}
	if d, ok := r.ProxyAdded(); ok {
		added := msFloat(d)
		out.ProxyAddedMS = &added
	}
	for _, ev := range r.Timeline {
		je := jsonEvent{AtMS: msFloat(ev.At), Kind: ev.Kind, Detail: ev.Detail, Connections: ev.Connections,
			Served: ev.Served, IntervalMS: msFloat(ev.Interval)}
		if je.Connections == nil {
			je.Connections = map[string]int{}
		}
		out.Timeline = append(out.Timeline, je)
	}
	maps.Copy(out.Hosts.Backends, r.Hosts.Backends)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func msFloat(d time.Duration) jsonFloat { return jsonFloat(ms(d)) }

// jsonFloat is a float written in its shortest form, and as null when it
// is NaN or infinite (which encoding/json refuses).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'f', -1, 64), nil
}
