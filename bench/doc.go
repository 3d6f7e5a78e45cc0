// Package bench holds the side-by-side benchmarks that compare wslb's echo
// backend and harness with what users would write instead: a minimal
// gorilla/websocket server and client, each in its own process, measured
// in one run (CPU per message from the processes' rusage, resident memory
// per connection from /proc). `make bench` runs them with the rest; the
// bench/peers script runs them alone. See docs/benchmarks.md.
package bench
