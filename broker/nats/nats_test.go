package nats_test

import (
	"testing"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/broker/brokertest"
	_ "github.com/wslb/wslb/broker/nats"
)

func TestNATS(t *testing.T) {
	brokertest.Run(t, brokertest.Server(t, broker.NATS))
}
