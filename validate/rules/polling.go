package rules

import "time"

// Engine.IO's defaults: the server answers a held long-poll after at most
// pingInterval (25s) and waits pingTimeout (20s) for the pong. A proxy
// that gives up on a silent response sooner than the hold cuts every
// idle poll, and the client reconnects in a loop.
const (
	engineIOPingInterval = 25 * time.Second
	// minPollTimeout leaves a few seconds over the hold.
	minPollTimeout = 30 * time.Second
)
