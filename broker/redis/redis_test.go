package redis_test

import (
	"testing"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/broker/brokertest"
	_ "github.com/wslb/wslb/broker/redis"
)

func TestRedis(t *testing.T) {
	brokertest.Run(t, brokertest.Server(t, broker.Redis))
}
