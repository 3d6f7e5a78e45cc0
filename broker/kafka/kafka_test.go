package kafka_test

import (
	"testing"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/broker/brokertest"
	_ "github.com/wslb/wslb/broker/kafka"
)

// TestKafka runs against kfake, franz-go's in-process Kafka-protocol
// cluster (no Kafka broker can be installed here): a real client talking
// the real protocol over TCP.
func TestKafka(t *testing.T) {
	brokertest.Run(t, brokertest.Server(t, broker.Kafka))
}
