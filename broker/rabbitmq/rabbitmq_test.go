package rabbitmq_test

import (
	"testing"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/broker/brokertest"
	_ "github.com/wslb/wslb/broker/rabbitmq"
)

func TestRabbitMQ(t *testing.T) {
	if testing.Short() {
		t.Skip("RabbitMQ takes seconds to start; skipped with -short")
	}
	brokertest.Run(t, brokertest.Server(t, broker.RabbitMQ))
}
