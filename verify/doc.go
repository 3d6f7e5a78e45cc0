// Package verify runs a topology (or an existing HAProxy/NGINX config) for
// real — the proxy binary, local echo backends and many clients — and judges
// the scenarios that matter for WebSocket load balancing: stickiness,
// spread, failover, reload survival and idle survival.
//
// The scenario judgements (EvalStickiness, EvalSpread, EvalFailover,
// EvalReload, EvalIdle) are pure functions over client traces, so they are
// tested without any process; Run composes them with the runtime and the
// harness.
package verify
