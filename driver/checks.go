package driver

import "time"

// FastCheckInterval is the health check interval of the local copy verify
// runs (unless the user asks for production timers), for generated
// topologies and rewritten configs alike: a failover then takes a fraction
// of a second instead of the production interval × fall.
const FastCheckInterval = 50 * time.Millisecond

// FastCheckTimeout is the least time a check may take in the local copy:
// HAProxy bounds a check by its interval unless `timeout check` is set, and
// on a loaded machine an echo backend can take longer than the 50 ms
// interval to answer. A stopped backend refuses at once, so this does not
// slow the failover.
const FastCheckTimeout = time.Second
