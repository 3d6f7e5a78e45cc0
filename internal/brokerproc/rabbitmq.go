package brokerproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/sandbox"
)

// rabbitScript is Debian's real start script: /usr/sbin/rabbitmq-server is
// a wrapper that switches to the rabbitmq user and the system's dirs.
const rabbitScript = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// RabbitReadyTimeout bounds a RabbitMQ start (Erlang boots in seconds,
// tens of seconds on a loaded machine).
const RabbitReadyTimeout = 3 * time.Minute

// FindRabbitMQ locates RabbitMQ's start script and epmd.
func FindRabbitMQ() (script, epmd string, err error) {
	if st, err := os.Stat(rabbitScript); err != nil || !st.Mode().IsRegular() {
		return "", "", errNotFound("rabbitmq-server", "rabbitmq-server")
	}
	epmd, err = find("epmd", "erlang-base", "/usr/lib/erlang/bin")
	if err != nil {
		return "", "", err
	}
	return rabbitScript, epmd, nil
}

// rabbitStart runs the node's own epmd on its port in the box, waits until
// it answers, and becomes RabbitMQ: the Erlang VM is told not to start an
// epmd of its own (-start_epmd false), which would daemonize out of the
// process group. Everything it needs comes from the environment.
const rabbitStart = `"$WSLB_EPMD" -port "$ERL_EPMD_PORT" -address 127.0.0.1 &
i=0
until "$WSLB_EPMD" -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do
	i=$((i+1)); [ "$i" -gt 400 ] && { echo "epmd did not start"; exit 98; }
	sleep 0.05
done
exec "$WSLB_RABBIT"
`

// StartRabbitMQ starts a RabbitMQ node of its own: node name
// wslb-PORT@localhost, its config, database (RABBITMQ_MNESIA_BASE), logs
// and Erlang cookie (HOME) in its directory, no plugins, AMQP, the Erlang
// distribution and epmd (ERL_EPMD_PORT: the machine's shared epmd on 4369
// is not used, so parallel runs do not meet) on free loopback ports. It
// waits until a client can log in over AMQP as guest (allowed from
// loopback only).
func StartRabbitMQ(ctx context.Context, parent string) (Server, error) {
	return startRabbitMQ(ctx, parent, Place{})
}

func startRabbitMQ(ctx context.Context, parent string, place Place) (Server, error) {
	script, epmd, err := FindRabbitMQ()
	if err != nil {
		return nil, err
	}
	return startFresh(ctx, broker.RabbitMQ, parent, 3, func(dir string, ports []int) *proc {
		addr := net.JoinHostPort(place.host(), strconv.Itoa(ports[0]))
		url := "amqp://guest:guest@" + addr + "/"
		return &proc{
			kind: broker.RabbitMQ, place: place, dir: dir, addr: addr, url: url, log: filepath.Join(dir, "output.log"),
			readyTimeout: RabbitReadyTimeout, grace: 15 * time.Second,
			spec: func() (sandbox.Spec, error) { return rabbitSpec(dir, script, epmd, ports, place) },
			ready: func(ctx context.Context) error {
				c, err := amqp.DialConfig(url, amqp.Config{Dial: func(network, addr string) (net.Conn, error) {
					dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					defer cancel()
					return place.dial(dctx, network, addr)
				}})
				if err != nil {
					return err
				}
				return c.Close()
			},
		}
	})
}

// rabbitSpec writes the node's config files (again on every start: they
// are cheap) and returns how to run it.
func rabbitSpec(dir, script, epmd string, ports []int, place Place) (sandbox.Spec, error) {
	amqpPort, distPort, epmdPort := ports[0], ports[1], ports[2]
	// On a host of its own, the nodes connect from their hosts: guest
	// must be let in from off loopback (the host is reached from the
	// run's network only).
	guest := "loopback_users.guest = true"
	if !place.loopback() {
		guest = "loopback_users = none"
	}
	files := map[string]string{
		"rabbitmq-env.conf": "# empty: keeps /etc/rabbitmq/rabbitmq-env.conf out\n",
		"rabbitmq.conf":     fmt.Sprintf("listeners.tcp.1 = %s\n%s\nlog.file.level = info\n", net.JoinHostPort(place.host(), strconv.Itoa(amqpPort)), guest),
		"enabled_plugins":   "[].\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return sandbox.Spec{}, err
		}
	}
	env := []string{
		"HOME=" + dir, // the Erlang cookie
		"WSLB_EPMD=" + epmd,
		"WSLB_RABBIT=" + script,
		"ERL_EPMD_PORT=" + strconv.Itoa(epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_NODENAME=wslb-" + strconv.Itoa(amqpPort) + "@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=" + place.host(),
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(amqpPort),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(distPort),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbitmq.pid"),
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false",
	}
	args := append(env, "/bin/sh", "-c", rabbitStart)
	return sandbox.Spec{Binary: "/usr/bin/env", Args: args}, nil
}
