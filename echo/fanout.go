package echo

import (
	"bytes"
	"strconv"
	"time"
)

// Fan-out messages. Besides echoing, the backend keeps rooms: a client joins
// a room, a client publishes into a room, and every client of that room on
// every node receives the published message. Nodes share publications
// through a Bus (a message broker); without one, a node delivers to its own
// clients only. The messages have a fixed layout, like the envelope, so that
// both ends handle them without reflection or allocation:
//
//	client → node  {"join":"ROOM"}
//	node → client  {"joined":"ROOM","backend":"ws1"}
//	client → node  {"publish":"ROOM","from":"client-0001","seq":3,"sent":1764540000123456789}
//	node → client  the publish message as the publisher sent it, byte for byte
//	node → client  {"refused":<the publish message>,"error":"why"}
//
// A node reads only the start of a publish message, up to the room's closing
// quote; everything after it is the publisher's and is delivered unchanged.
// wslb's clients put there who published ("from"), the publisher's sequence
// number ("seq", from 1) and the send time in Unix nanoseconds ("sent"), and
// judge delivery by them. "refused" answers a publish the node could not
// hand to the broker (the publisher learns its message went nowhere).
// A room name is 1 to 128 letters, digits or "_:-" (what every broker kind
// takes in a subject, routing key, channel or record key); a message that starts
// like a join or publish but names no valid room is echoed like any other.
// A client also joins rooms with the handshake: ws://HOST/PATH?room=a&room=b.
const (
	joinPrefix    = `{"join":"`
	joinedPrefix  = `{"joined":"`
	joinedBackend = `","backend":"`
	publishPrefix = `{"publish":"`
	fromField     = `","from":"`
	seqField      = `","seq":`
	sentField     = `,"sent":`
	refusedPrefix = `{"refused":`
	errorField    = `,"error":"`
	objEnd        = `"}`
)

// MaxRoomName is the longest room name.
const MaxRoomName = 128

// ValidRoom reports whether name can name a room.
func ValidRoom(name []byte) bool {
	if len(name) == 0 || len(name) > MaxRoomName {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// roomOf returns the room a message starting with prefix names, if the
// message is such a message with a valid room.
func roomOf(msg []byte, prefix string) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(prefix))
	if !ok {
		return nil, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 || !ValidRoom(rest[:i]) {
		return nil, false
	}
	return rest[:i], true
}

// JoinRoom returns the room of a join message.
func JoinRoom(msg []byte) ([]byte, bool) {
	room, ok := roomOf(msg, joinPrefix)
	if !ok || len(msg) != len(joinPrefix)+len(room)+len(objEnd) || !bytes.HasSuffix(msg, []byte(objEnd)) {
		return nil, false
	}
	return room, true
}

// PublishRoom returns the room of a publish message.
func PublishRoom(msg []byte) ([]byte, bool) { return roomOf(msg, publishPrefix) }

// AppendJoin appends a join message for room.
func AppendJoin(dst []byte, room string) []byte {
	dst = append(dst, joinPrefix...)
	dst = append(dst, room...)
	return append(dst, objEnd...)
}

// AppendJoined appends the node's answer to a join.
func AppendJoined(dst, room []byte, backend string) []byte {
	dst = append(dst, joinedPrefix...)
	dst = append(dst, room...)
	dst = append(dst, joinedBackend...)
	dst = append(dst, backend...)
	return append(dst, objEnd...)
}

// JoinedRoom reads a node's answer to a join: the room and the backend.
func JoinedRoom(msg []byte) (room, backend []byte, ok bool) {
	room, ok = roomOf(msg, joinedPrefix)
	if !ok {
		return nil, nil, false
	}
	rest := msg[len(joinedPrefix)+len(room):]
	rest, ok = bytes.CutPrefix(rest, []byte(joinedBackend))
	if !ok {
		return nil, nil, false
	}
	backend, ok = bytes.CutSuffix(rest, []byte(objEnd))
	if !ok || bytes.IndexByte(backend, '"') >= 0 {
		return nil, nil, false
	}
	return room, backend, true
}

// Publication is what wslb's clients put in a publish message.
type Publication struct {
	Room []byte
	From []byte    // the publisher
	Seq  uint64    // the publisher's sequence number, from 1
	Sent time.Time // when it was sent
}

// AppendPublish appends a publish message in wslb's client layout.
func AppendPublish(dst []byte, room, from string, seq uint64, sent time.Time) []byte {
	dst = append(dst, publishPrefix...)
	dst = append(dst, room...)
	dst = append(dst, fromField...)
	dst = append(dst, from...)
	dst = append(dst, seqField...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, sentField...)
	dst = strconv.AppendInt(dst, sent.UnixNano(), 10)
	return append(dst, '}')
}

// ParsePublish reads a publish message in wslb's client layout without
// copying it (Room and From point into msg).
func ParsePublish(msg []byte) (Publication, bool) {
	var p Publication
	room, ok := PublishRoom(msg)
	if !ok {
		return p, false
	}
	rest, ok := bytes.CutPrefix(msg[len(publishPrefix)+len(room):], []byte(fromField))
	if !ok {
		return p, false
	}
	i := bytes.IndexByte(rest, '"')
	if i <= 0 {
		return p, false
	}
	from := rest[:i]
	rest, ok = bytes.CutPrefix(rest[i:], []byte(seqField))
	if !ok {
		return p, false
	}
	seq, rest, ok := cutUint(rest)
	if !ok {
		return p, false
	}
	rest, ok = bytes.CutPrefix(rest, []byte(sentField))
	if !ok {
		return p, false
	}
	sent, rest, ok := cutUint(rest)
	if !ok || len(rest) != 1 || rest[0] != '}' || sent > 1<<63-1 {
		return p, false
	}
	return Publication{Room: room, From: from, Seq: seq, Sent: time.Unix(0, int64(sent))}, true
}

// cutUint reads the decimal number b starts with.
func cutUint(b []byte) (uint64, []byte, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i >= 19 {
			return 0, nil, false
		}
		n = n*10 + uint64(b[i]-'0')
	}
	return n, b[i:], i > 0
}

// AppendRefused appends the node's answer to a publish it could not hand
// to the broker.
func AppendRefused(dst, publish []byte, why string) []byte {
	dst = append(dst, refusedPrefix...)
	dst = append(dst, publish...)
	dst = append(dst, errorField...)
	dst = appendJSONString(dst, []byte(why))
	return append(dst, objEnd...)
}

// Refused reads a node's refusal: the publish message it refused.
func Refused(msg []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(refusedPrefix))
	if !ok {
		return nil, false
	}
	i := bytes.Index(rest, []byte(`}`+errorField))
	if i < 0 {
		return nil, false
	}
	return rest[:i+1], true
}
