package broker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Name limits.
const (
	MaxRoom    = 128
	maxChannel = 200
)

// CheckRoom reports whether room can name a room on every kind: 1 to
// MaxRoom letters, digits, '_', '-' and ':'. The kinds put it into a
// subject token (NATS), a routing key (RabbitMQ), a channel name (Redis)
// or a record key (Kafka), so it holds no separator or wildcard of any.
func CheckRoom(room string) error {
	if room == "" || len(room) > MaxRoom {
		return fmt.Errorf("room %q: must be 1 to %d characters", clip(room), MaxRoom)
	}
	for _, r := range room {
		if !roomRune(r) {
			return fmt.Errorf("room %q: %q is not allowed (letters, digits, '_', '-' and ':')", clip(room), r)
		}
	}
	return nil
}

func roomRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == ':'
}

// ChannelRule says, for the kind, what Channel may hold (for diagnostics).
func ChannelRule(kind Kind) string {
	switch kind {
	case Redis:
		return "a Redis channel prefix: 1 to 200 letters, digits, '_', '-', ':' and '.' (no glob characters: nodes subscribe to the pattern PREFIX.*)"
	case NATS:
		return "a NATS subject prefix: 1 to 200 characters, '.'-separated tokens of letters, digits, '_', '-' and ':' (no wildcard, no empty token)"
	case RabbitMQ:
		return "a RabbitMQ exchange name: 1 to 200 letters, digits, '_', '-', ':' and '.', not starting with \"amq.\" (reserved)"
	case Kafka:
		return "a Kafka topic: 1 to 200 letters, digits, '_', '-' and '.', not \".\" or \"..\""
	}
	return "a name"
}

// channelNoun is what Channel is for each kind.
var channelNoun = map[Kind]string{
	Redis: "redis channel prefix", NATS: "nats subject prefix", RabbitMQ: "rabbitmq exchange", Kafka: "kafka topic",
}

// CheckChannel reports whether name is a valid Channel for kind.
func CheckChannel(kind Kind, name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%s %q %s; it must be %s", channelNoun[kind], clip(name), why, ChannelRule(kind))
	}
	if _, err := ParseKind(string(kind)); err != nil {
		return err
	}
	if name == "" || len(name) > maxChannel {
		return bad("has a bad length")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if r == ':' && kind != Kafka {
			ok = true
		}
		if !ok {
			return bad(fmt.Sprintf("holds %q", r))
		}
	}
	switch kind {
	case NATS:
		for tok := range strings.SplitSeq(name, ".") {
			if tok == "" {
				return bad("has an empty token")
			}
		}
	case RabbitMQ:
		if strings.HasPrefix(name, "amq.") {
			return bad("starts with the reserved \"amq.\"")
		}
	case Kafka:
		if name == "." || name == ".." {
			return bad("is reserved")
		}
	}
	return nil
}

// schemes are the URL schemes each kind accepts.
var schemes = map[Kind][]string{
	Redis:    {"redis", "rediss"},
	NATS:     {"nats", "tls"},
	RabbitMQ: {"amqp", "amqps"},
	Kafka:    {"kafka"},
}

// URLForm says, for the kind, what its URL looks like (for diagnostics).
func URLForm(kind Kind) string {
	switch kind {
	case Redis:
		return "redis://[user:password@]host:port[/db]"
	case NATS:
		return "nats://[user:password@]host:port"
	case RabbitMQ:
		return "amqp://user:password@host:port[/vhost]"
	case Kafka:
		return "kafka://host:port[,host:port...]"
	}
	return "scheme://host:port"
}

// CheckURL reports whether raw is a URL the kind can dial: its scheme,
// a host and a port, and nothing the kind would ignore.
func CheckURL(kind Kind, raw string) error {
	if _, err := ParseKind(string(kind)); err != nil {
		return err
	}
	bad := func(why string) error {
		return fmt.Errorf("%s URL %q %s; write %s", kind, Redact(raw), why, URLForm(kind))
	}
	if raw == "" {
		return bad("is empty")
	}
	if len(raw) > 1024 || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("is too long or holds spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("does not parse")
	}
	okScheme := false
	for _, s := range schemes[kind] {
		okScheme = okScheme || u.Scheme == s
	}
	if !okScheme {
		return bad(fmt.Sprintf("has scheme %q, not %s", u.Scheme, strings.Join(schemes[kind], " or ")))
	}
	if u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		return bad("has a query, fragment or no //")
	}
	hosts := []string{u.Host}
	if kind == Kafka {
		if u.User != nil {
			return bad("carries credentials (not supported for kafka)")
		}
		hosts = strings.Split(u.Host, ",")
	}
	for _, h := range hosts {
		if err := checkHostPort(h); err != nil {
			return bad(err.Error())
		}
	}
	switch kind {
	case Redis:
		if p := strings.TrimPrefix(u.Path, "/"); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 15 {
				return bad("has a path that is not a database number 0 to 15")
			}
		}
	case NATS, Kafka:
		if u.Path != "" && u.Path != "/" {
			return bad("has a path")
		}
	case RabbitMQ:
		if strings.Count(u.Path, "/") > 1 {
			return bad("has a path that is not one vhost")
		}
	}
	return nil
}

func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" {
		return errors.New("needs host:port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("has port %q, not 1 to 65535", port)
	}
	return nil
}

// Redact returns raw with any password replaced by "xxxxx", for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return clip(raw)
	}
	return clip(u.Redacted())
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
