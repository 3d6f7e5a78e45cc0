// Package socketio is a Socket.IO client for the harness: the Engine.IO v4
// transport (the long-polling handshake, polling GET/POST, the upgrade to
// WebSocket with its probe, ping/pong) and Socket.IO v5 packets on top,
// written from the protocol specifications
// (https://socket.io/docs/v4/engine-io-protocol/ and
// https://socket.io/docs/v4/socket-io-protocol/). Every HTTP request of a
// session reports the backend that answered it, so that a proxy sending a
// session's requests to two servers is seen request by request.
//
// Everything a server sends is untrusted input: the decoders return errors,
// never panic, and bound what they accept.
package socketio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// EIOType is an Engine.IO packet type.
type EIOType byte

// Engine.IO v4 packet types, sent as their digit.
const (
	EIOOpen    EIOType = 0
	EIOClose   EIOType = 1
	EIOPing    EIOType = 2
	EIOPong    EIOType = 3
	EIOMessage EIOType = 4
	EIOUpgrade EIOType = 5
	EIONoop    EIOType = 6
)

var eioNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

func (t EIOType) String() string { return typeName(eioNames[:], byte(t)) }

// typeName is a packet type's name in names, or its number when unknown.
func typeName(names []string, t byte) string {
	if int(t) < len(names) {
		return names[t]
	}
	return "type " + strconv.Itoa(int(t))
}

// typeDigit reads a packet's leading type digit; both protocols have
// types 0 to 6.
func typeDigit(protocol string, c byte) (byte, error) {
	if c < '0' || c > '6' {
		return 0, fmt.Errorf("%s: unknown packet type %q", protocol, c)
	}
	return c - '0', nil
}

// recordSeparator joins the packets of a long-polling payload.
const recordSeparator = 0x1e

// MaxPayload bounds a decoded payload (the Engine.IO default maxPayload is
// 1e6 bytes); a larger one is refused, not read.
const MaxPayload = 1 << 20

// EIOPacket is one Engine.IO packet. Binary is set for a binary message
// (base64 with a "b" prefix in a polling payload, a binary frame on a
// WebSocket).
type EIOPacket struct {
	Type   EIOType
	Data   []byte
	Binary bool
}

// Encode is the packet's text form (a WebSocket text frame, or one record
// of a polling payload). A binary packet becomes "b" + base64.
func (p EIOPacket) Encode() []byte {
	if p.Binary {
		out := make([]byte, 1+base64.StdEncoding.EncodedLen(len(p.Data)))
		out[0] = 'b'
		base64.StdEncoding.Encode(out[1:], p.Data)
		return out
	}
	return append([]byte{'0' + byte(p.Type)}, p.Data...)
}

// DecodeEIO reads one packet in text form.
func DecodeEIO(b []byte) (EIOPacket, error) {
	if len(b) == 0 {
		return EIOPacket{}, errors.New("engine.io: empty packet")
	}
	if len(b) > MaxPayload {
		return EIOPacket{}, fmt.Errorf("engine.io: packet of %d bytes exceeds %d", len(b), MaxPayload)
	}
	if b[0] == 'b' {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-1))
		n, err := base64.StdEncoding.Decode(data, b[1:])
		if err != nil {
			return EIOPacket{}, fmt.Errorf("engine.io: binary packet: %w", err)
		}
		return EIOPacket{Type: EIOMessage, Data: data[:n], Binary: true}, nil
	}
	t, err := typeDigit("engine.io", b[0])
	if err != nil {
		return EIOPacket{}, err
	}
	return EIOPacket{Type: EIOType(t), Data: append([]byte(nil), b[1:]...)}, nil
}

// EncodePayload joins packets into a long-polling payload.
func EncodePayload(ps ...EIOPacket) []byte {
	var out []byte
	for i, p := range ps {
		if i > 0 {
			out = append(out, recordSeparator)
		}
		out = append(out, p.Encode()...)
	}
	return out
}

// DecodePayload splits a long-polling payload into packets.
func DecodePayload(b []byte) ([]EIOPacket, error) {
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("engine.io: payload of %d bytes exceeds %d", len(b), MaxPayload)
	}
	var out []EIOPacket
	for i, rec := range bytes.Split(b, []byte{recordSeparator}) {
		p, err := DecodeEIO(rec)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Handshake is the open packet's data.
type Handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"` // milliseconds
	PingTimeout  int      `json:"pingTimeout"`  // milliseconds
	MaxPayload   int      `json:"maxPayload"`
}

// DecodeHandshake reads an open packet's JSON data.
func DecodeHandshake(data []byte) (Handshake, error) {
	var h Handshake
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("engine.io: open packet: %w", err)
	}
	switch {
	case h.SID == "":
		return h, errors.New("engine.io: open packet without sid")
	case len(h.SID) > 256:
		return h, errors.New("engine.io: open packet sid longer than 256 bytes")
	case h.PingInterval < 0 || h.PingTimeout < 0 || h.MaxPayload < 0:
		return h, errors.New("engine.io: open packet with a negative interval or size")
	}
	return h, nil
}

// SIOType is a Socket.IO packet type.
type SIOType byte

// Socket.IO v5 packet types.
const (
	SIOConnect      SIOType = 0
	SIODisconnect   SIOType = 1
	SIOEvent        SIOType = 2
	SIOAck          SIOType = 3
	SIOConnectError SIOType = 4
	SIOBinaryEvent  SIOType = 5
	SIOBinaryAck    SIOType = 6
)

var sioNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

func (t SIOType) String() string { return typeName(sioNames[:], byte(t)) }

// maxAttachments and maxAckID bound the numbers a packet may carry.
const (
	maxAttachments = 1000
	maxAckID       = 1<<53 - 1 // JavaScript's largest safe integer
)

// SIOPacket is one Socket.IO packet, carried as the data of an Engine.IO
// message. Namespace "" means the main namespace "/". ID is the ack id, or
// -1 when the packet asks for no ack. Data is the raw JSON payload (nil
// when there is none).
type SIOPacket struct {
	Type        SIOType
	Namespace   string
	ID          int64
	Attachments int
	Data        json.RawMessage
}

// Encode is the packet's text form: <type>[<attachments>-][<nsp>,][<id>][<json>].
func (p SIOPacket) Encode() []byte {
	out := []byte{'0' + byte(p.Type)}
	if p.Type == SIOBinaryEvent || p.Type == SIOBinaryAck {
		out = strconv.AppendInt(out, int64(p.Attachments), 10)
		out = append(out, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		out = append(out, p.Namespace...)
		out = append(out, ',')
	}
	if p.ID >= 0 {
		out = strconv.AppendInt(out, p.ID, 10)
	}
	return append(out, p.Data...)
}

// DecodeSIO reads a Socket.IO packet and checks its payload fits its type.
func DecodeSIO(b []byte) (SIOPacket, error) {
	p := SIOPacket{ID: -1}
	if len(b) == 0 {
		return p, errors.New("socket.io: empty packet")
	}
	if len(b) > MaxPayload {
		return p, fmt.Errorf("socket.io: packet of %d bytes exceeds %d", len(b), MaxPayload)
	}
	t, err := typeDigit("socket.io", b[0])
	if err != nil {
		return p, err
	}
	p.Type = SIOType(t)
	i := 1
	if p.Type == SIOBinaryEvent || p.Type == SIOBinaryAck {
		j := bytes.IndexByte(b[i:], '-')
		if j <= 0 {
			return p, errors.New("socket.io: binary packet without attachment count")
		}
		n, err := strconv.Atoi(string(b[i : i+j]))
		if err != nil || n < 0 || n > maxAttachments {
			return p, fmt.Errorf("socket.io: bad attachment count %.20q", b[i:i+j])
		}
		p.Attachments = n
		i += j + 1
	}
	if i < len(b) && b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 {
			j = len(b) - i
		}
		if p.Namespace = string(b[i : i+j]); p.Namespace == "/" {
			p.Namespace = "" // the main namespace, written without
		}
		i += j
		if i < len(b) {
			i++ // the comma
		}
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > start {
		id, err := strconv.ParseInt(string(b[start:i]), 10, 64)
		if err != nil || id > maxAckID {
			return p, fmt.Errorf("socket.io: bad ack id %.24q", b[start:i])
		}
		p.ID = id
	}
	if i < len(b) {
		p.Data = json.RawMessage(append([]byte(nil), b[i:]...))
		if !json.Valid(p.Data) {
			return p, fmt.Errorf("socket.io: %s payload is not JSON: %.40q", p.Type, p.Data)
		}
	}
	return p, p.checkPayload()
}

// checkPayload applies the specification's payload rules per type.
func (p SIOPacket) checkPayload() error {
	first := byte(0)
	if d := bytes.TrimLeft(p.Data, " \t\r\n"); len(d) > 0 {
		first = d[0]
	}
	switch p.Type {
	case SIOConnect:
		if first != 0 && first != '{' {
			return errors.New("socket.io: CONNECT payload must be an object")
		}
	case SIODisconnect:
		if first != 0 {
			return errors.New("socket.io: DISCONNECT carries no payload")
		}
	case SIOConnectError:
		if first != '{' && first != '"' {
			return errors.New("socket.io: CONNECT_ERROR payload must be an object or a string")
		}
	case SIOEvent, SIOBinaryEvent:
		var args []json.RawMessage
		if first != '[' || json.Unmarshal(p.Data, &args) != nil || len(args) == 0 {
			return fmt.Errorf("socket.io: %s payload must be a non-empty array", p.Type)
		}
	case SIOAck, SIOBinaryAck:
		if first != '[' {
			return fmt.Errorf("socket.io: %s payload must be an array", p.Type)
		}
		if p.ID < 0 {
			return fmt.Errorf("socket.io: %s without an ack id", p.Type)
		}
	}
	return nil
}

// Event returns an EVENT's name and arguments.
func (p SIOPacket) Event() (name string, args []json.RawMessage, err error) {
	if p.Type != SIOEvent && p.Type != SIOBinaryEvent {
		return "", nil, fmt.Errorf("socket.io: %s is not an event", p.Type)
	}
	if err := json.Unmarshal(p.Data, &args); err != nil || len(args) == 0 {
		return "", nil, errors.New("socket.io: event payload is not a non-empty array")
	}
	if err := json.Unmarshal(args[0], &name); err != nil {
		return "", nil, errors.New("socket.io: event name is not a string")
	}
	return name, args[1:], nil
}

// NewEvent builds an EVENT packet for the main namespace, without ack.
func NewEvent(name string, args ...any) (SIOPacket, error) {
	data, err := json.Marshal(append([]any{name}, args...))
	if err != nil {
		return SIOPacket{}, fmt.Errorf("socket.io: event %q: %w", name, err)
	}
	return SIOPacket{Type: SIOEvent, ID: -1, Data: data}, nil
}
