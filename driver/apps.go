package driver

import "context"

// Command is the user's server (--backend-cmd) as a driver that runs it
// from an image of its own (a container) needs it, once per backend.
type Command struct {
	// Script is the sh script that runs backend id listening on
	// host:port, in its directory, its environment set.
	Script func(host string, port int, id string) string
	// Dir is the directory the script runs in (the application's): a
	// driver that runs it in a container mounts it there, read-only.
	Dir string
}

// Outputs is implemented by Backends whose servers' output the driver
// keeps (a container's log): the last n lines server id printed.
type Outputs interface {
	Output(id string, n int) []string
}

// Broker is a message broker a driver runs for a run's servers.
type Broker interface {
	// URL is the broker's address as the run's servers reach it.
	URL() string
	// Stop stops it, keeping its address for Start; Start starts it
	// again there and waits until it is ready (a broker restart).
	Stop() error
	Start(ctx context.Context) error
	// Close stops it for good. Idempotent.
	Close() error
}

// BrokerRunner is implemented by an Env that runs the run's brokers
// itself, from images of its own (containers), where its servers reach
// them; kind is redis, nats, rabbitmq or kafka. Envs without it, and
// kinds it answers with an error that errors.Is ErrNotSupported, have
// wslb start the broker (on loopback, or on a ServiceHost).
type BrokerRunner interface {
	StartBroker(ctx context.Context, kind string) (Broker, error)
}
