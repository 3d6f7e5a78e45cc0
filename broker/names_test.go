package broker

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheckRoom(t *testing.T) {
	for _, ok := range []string{"lobby", "room:2", "A_b-c", strings.Repeat("r", MaxRoom)} {
		if err := CheckRoom(ok); err != nil {
			t.Errorf("CheckRoom(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a.b", "a b", "x*", "x>", "a\nb", "é", strings.Repeat("r", MaxRoom+1)} {
		if err := CheckRoom(bad); err == nil {
			t.Errorf("CheckRoom(%q) accepted it", bad)
		}
	}
}

func TestCheckChannel(t *testing.T) {
	cases := []struct {
		kind Kind
		name string
		ok   bool
	}{
		{Redis, "chat", true}, {Redis, "app:chat.v1", true}, {Redis, "chat*", false}, {Redis, "a[b]", false},
		{NATS, "chat.rooms", true}, {NATS, "chat..rooms", false}, {NATS, ".chat", false}, {NATS, "chat.>", false}, {NATS, "chat.*", false},
		{RabbitMQ, "chat", true}, {RabbitMQ, "amq.topic", false}, {RabbitMQ, "a b", false},
		{Kafka, "chat.v1", true}, {Kafka, "a:b", false}, {Kafka, "..", false},
		{Redis, "", false}, {NATS, strings.Repeat("a", 201), false}, {Redis, "x\ny", false}, {Redis, "x;y", false},
		{"mqtt", "chat", false},
	}
	for _, c := range cases {
		err := CheckChannel(c.kind, c.name)
		if (err == nil) != c.ok {
			t.Errorf("CheckChannel(%s, %q) = %v, want ok=%v", c.kind, c.name, err, c.ok)
		}
	}
}

func TestCheckURL(t *testing.T) {
	cases := []struct {
		kind Kind
		url  string
		ok   bool
	}{
		{Redis, "redis://127.0.0.1:6379", true}, {Redis, "redis://:pw@h:6379/2", true}, {Redis, "redis://h:6379/16", false},
		{Redis, "nats://h:4222", false}, {Redis, "redis://h", false}, {Redis, "redis://h:0", false}, {Redis, "redis://h:6379?x=1", false},
		{NATS, "nats://127.0.0.1:4222", true}, {NATS, "nats://h:4222/x", false},
		{RabbitMQ, "amqp://guest:guest@127.0.0.1:5672/", true}, {RabbitMQ, "amqp://u:p@h:5672/vh", true}, {RabbitMQ, "amqp://h:5672/a/b", false},
		{Kafka, "kafka://127.0.0.1:9092,127.0.0.1:9093", true}, {Kafka, "kafka://u:p@h:9092", false}, {Kafka, "kafka://h:9092,", false},
		{Redis, "", false}, {Redis, "redis://h:1 ", false}, {Redis, "redis://h:1\n", false}, {Redis, "redis:h:1", false},
	}
	for _, c := range cases {
		err := CheckURL(c.kind, c.url)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%s, %q) = %v, want ok=%v", c.kind, c.url, err, c.ok)
		}
	}
}

func TestRedactHidesPassword(t *testing.T) {
	err := CheckURL(RabbitMQ, "amqp://u:s3cret@h:5672/a/b")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

func TestDialUnknownKind(t *testing.T) {
	_, err := Dial(context.Background(), Config{Kind: "mqtt", URL: "mqtt://h:1"})
	if !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("err = %v", err)
	}
}
