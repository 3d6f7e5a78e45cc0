package brokerproc

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wslb/wslb/broker"
)

// startOrSkip starts a broker of kind, skipping when it is not installed.
func startOrSkip(t *testing.T, kind broker.Kind) Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Start(ctx, kind, t.TempDir())
	if errors.Is(err, ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// testLifecycle: the broker answers at Addr, Stop frees the address,
// Start brings it back on the same one, and Close leaves nothing.
func testLifecycle(t *testing.T, kind broker.Kind) { lifecycle(t, startOrSkip(t, kind)) }

func lifecycle(t *testing.T, s Server) {
	kind := s.Kind()
	dir := s.(interface{ Dir() string }).Dir()
	if !accepts(s.Addr()) || !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("%s at %s does not accept", kind, s.Addr())
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if accepts(s.Addr()) {
		t.Fatalf("%s still accepts on %s after Stop", kind, s.Addr())
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !accepts(s.Addr()) {
		t.Fatalf("%s does not accept on %s after Start", kind, s.Addr())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if accepts(s.Addr()) {
		t.Errorf("%s still accepts on %s after Close", kind, s.Addr())
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left after Close (%v)", dir, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestRedisLifecycle(t *testing.T) { testLifecycle(t, broker.Redis) }
func TestNATSLifecycle(t *testing.T)  { testLifecycle(t, broker.NATS) }
func TestKafkaLifecycle(t *testing.T) { testLifecycle(t, broker.Kafka) }

func TestRabbitMQLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("RabbitMQ takes seconds to start; skipped with -short")
	}
	start := time.Now()
	s := startOrSkip(t, broker.RabbitMQ)
	t.Logf("RabbitMQ ready in %s", time.Since(start).Round(time.Millisecond))
	lifecycle(t, s)
}

func TestStartUnknownKind(t *testing.T) {
	if _, err := Start(context.Background(), "mqtt", t.TempDir()); err == nil {
		t.Fatal("started an unknown kind")
	}
}
