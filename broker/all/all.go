// Package all registers every broker kind wslb knows with package broker.
package all

import (
	_ "github.com/wslb/wslb/broker/kafka"
	_ "github.com/wslb/wslb/broker/nats"
	_ "github.com/wslb/wslb/broker/rabbitmq"
	_ "github.com/wslb/wslb/broker/redis"
)
