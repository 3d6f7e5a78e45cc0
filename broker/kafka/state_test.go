package kafka

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wslb/wslb/broker"
)

// A node is back only once it can both read and publish: the consumer's
// fetch answered is not enough while the producer has not been answered
// since it lost the broker.
func TestStateIsUpOnlyWhenConsumerAndProducerAreBack(t *testing.T) {
	var got []broker.State
	h := &stateHook{report: func(s broker.State, _ error) { got = append(got, s) }}
	cons, prod := &sideHook{state: h, side: consumerSide}, &sideHook{state: h, side: producerSide}
	refused := errors.New("connection refused")
	cons.OnBrokerConnect(kgo.BrokerMetadata{}, 0, nil, refused)
	prod.OnBrokerConnect(kgo.BrokerMetadata{}, 0, nil, refused)
	cons.OnBrokerRead(kgo.BrokerMetadata{}, fetchKey, 0, 0, 0, nil)
	if !slices.Equal(got, []broker.State{broker.Down}) {
		t.Fatalf("consumer back, producer not: reported %v, want [down]", got)
	}
	prod.OnBrokerRead(kgo.BrokerMetadata{}, 3, 0, 0, 0, nil) // a metadata answer
	if !slices.Equal(got, []broker.State{broker.Down, broker.Up}) {
		t.Fatalf("both back: reported %v, want [down up]", got)
	}
	// An idle producer's connection that the broker closed is no loss.
	prod.OnBrokerRead(kgo.BrokerMetadata{}, 0, 0, 0, 0, errors.New("EOF"))
	if len(got) != 2 {
		t.Fatalf("a producer read error reported %v", got)
	}
}

// Retries stay within Kafka's own client backoff: a node whose broker is
// back retries within about a second, however long the broker was away.
func TestRetryBackoffIsAtMostASecond(t *testing.T) {
	for fails := 0; fails < 40; fails++ {
		if d := retryBackoff(fails); d < 80*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("retryBackoff(%d) = %v, want 80ms..1.2s", fails, d)
		}
	}
	if d := retryBackoff(1); d > 120*time.Millisecond {
		t.Errorf("first retry after %v, want about 100ms", d)
	}
}
