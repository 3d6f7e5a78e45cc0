package socketio

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestEIOPacketRoundTrip(t *testing.T) {
	for _, p := range []EIOPacket{
		{Type: EIOOpen, Data: []byte(`{"sid":"abc"}`)},
		{Type: EIOClose},
		{Type: EIOPing, Data: []byte("probe")},
		{Type: EIOPong},
		{Type: EIOMessage, Data: []byte(`42["chat","hi"]`)},
		{Type: EIOUpgrade},
		{Type: EIONoop},
		{Type: EIOMessage, Data: []byte{0, 1, 2, 0xff}, Binary: true},
	} {
		got, err := DecodeEIO(p.Encode())
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if got.Type != p.Type || got.Binary != p.Binary || !bytes.Equal(got.Data, p.Data) {
			t.Errorf("round trip of %q: got %+v, want %+v", p.Encode(), got, p)
		}
	}
}

func TestDecodePayloadSpecExample(t *testing.T) {
	// The specification's example: "hello", binary 1 2 3 4, "€".
	ps, err := DecodePayload([]byte("4hello\x1ebAQIDBA==\x1e4€"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || string(ps[0].Data) != "hello" || !ps[1].Binary || !bytes.Equal(ps[1].Data, []byte{1, 2, 3, 4}) || string(ps[2].Data) != "€" {
		t.Fatalf("got %+v", ps)
	}
	if got := EncodePayload(ps...); string(got) != "4hello\x1ebAQIDBA==\x1e4€" {
		t.Errorf("EncodePayload = %q", got)
	}
}

func TestDecodeEIORejects(t *testing.T) {
	for _, in := range []string{"", "7", "x", "b!!!", "4hello\x1e"} {
		if _, err := DecodePayload([]byte(in)); err == nil {
			t.Errorf("DecodePayload(%q) accepted", in)
		}
	}
	if _, err := DecodeEIO(bytes.Repeat([]byte("4"), MaxPayload+1)); err == nil {
		t.Error("oversized packet accepted")
	}
}

func TestDecodeHandshake(t *testing.T) {
	h, err := DecodeHandshake([]byte(`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	if err != nil || h.SID != "lv_VI97HAXpY6yYWAAAC" || h.PingInterval != 25000 || h.Upgrades[0] != "websocket" {
		t.Fatalf("got %+v, %v", h, err)
	}
	for _, in := range []string{`{}`, `[]`, `{"sid":""}`, `{"sid":"a","pingInterval":-1}`, `{"sid":"` + strings.Repeat("a", 300) + `"}`} {
		if _, err := DecodeHandshake([]byte(in)); err == nil {
			t.Errorf("DecodeHandshake(%s) accepted", in)
		}
	}
}

func TestSIOPacketSpecExamples(t *testing.T) {
	for _, c := range []struct {
		in   string
		want SIOPacket
	}{
		{"0", SIOPacket{Type: SIOConnect, ID: -1}},
		{`0/admin,{"token":"123"}`, SIOPacket{Type: SIOConnect, Namespace: "/admin", ID: -1, Data: json.RawMessage(`{"token":"123"}`)}},
		{`40`[1:], SIOPacket{Type: SIOConnect, ID: -1}},
		{"1/admin,", SIOPacket{Type: SIODisconnect, Namespace: "/admin", ID: -1}},
		{`2["foo"]`, SIOPacket{Type: SIOEvent, ID: -1, Data: json.RawMessage(`["foo"]`)}},
		{`2/admin,["bar"]`, SIOPacket{Type: SIOEvent, Namespace: "/admin", ID: -1, Data: json.RawMessage(`["bar"]`)}},
		{`212["foo"]`, SIOPacket{Type: SIOEvent, ID: 12, Data: json.RawMessage(`["foo"]`)}},
		{`3/admin,13["bar"]`, SIOPacket{Type: SIOAck, Namespace: "/admin", ID: 13, Data: json.RawMessage(`["bar"]`)}},
		{`4{"message":"Not authorized"}`, SIOPacket{Type: SIOConnectError, ID: -1, Data: json.RawMessage(`{"message":"Not authorized"}`)}},
		{`51-["baz",{"_placeholder":true,"num":0}]`, SIOPacket{Type: SIOBinaryEvent, Attachments: 1, ID: -1, Data: json.RawMessage(`["baz",{"_placeholder":true,"num":0}]`)}},
		{`61-/admin,15[{"_placeholder":true,"num":0}]`, SIOPacket{Type: SIOBinaryAck, Attachments: 1, Namespace: "/admin", ID: 15, Data: json.RawMessage(`[{"_placeholder":true,"num":0}]`)}},
	} {
		got, err := DecodeSIO([]byte(c.in))
		if err != nil {
			t.Errorf("DecodeSIO(%q): %v", c.in, err)
			continue
		}
		if got.Type != c.want.Type || got.Namespace != c.want.Namespace || got.ID != c.want.ID || got.Attachments != c.want.Attachments || !bytes.Equal(got.Data, c.want.Data) {
			t.Errorf("DecodeSIO(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if enc := got.Encode(); string(enc) != c.in {
			t.Errorf("Encode(DecodeSIO(%q)) = %q", c.in, enc)
		}
	}
}

func TestSIORejects(t *testing.T) {
	for _, in := range []string{
		"", "9", "2", `2[]`, `2{}`, `2["a"`, `0[]`, `1{}`, `3["a"]`, `4[1]`,
		"5-[\"a\"]", "5x-[\"a\"]", "51[\"a\"]", "59999-[\"a\"]", `299999999999999999999["a"]`,
	} {
		if p, err := DecodeSIO([]byte(in)); err == nil {
			t.Errorf("DecodeSIO(%q) accepted: %+v", in, p)
		}
	}
}

func TestEvent(t *testing.T) {
	p, err := NewEvent("broadcast", map[string]any{"id": "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Encode()) != `2["broadcast",{"id":"m1"}]` {
		t.Fatalf("Encode = %s", p.Encode())
	}
	name, args, err := p.Event()
	if err != nil || name != "broadcast" || len(args) != 1 || string(args[0]) != `{"id":"m1"}` {
		t.Fatalf("Event = %q %s %v", name, args, err)
	}
	if _, _, err := (SIOPacket{Type: SIOEvent, Data: json.RawMessage(`[1]`)}).Event(); err == nil {
		t.Error("a numeric event name was accepted")
	}
}

// FuzzDecode feeds server input to every decoder: none may panic, and what
// decodes must encode back to something that decodes the same.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"0{\"sid\":\"a\"}", "4hello\x1ebAQIDBA==\x1e4€", "2probe", "40", `42["a",1]`,
		`421["a"]`, `43/x,1[]`, `51-["a",{"_placeholder":true,"num":0}]`, `44"no"`, "b", "6",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if ps, err := DecodePayload(b); err == nil {
			again, err := DecodePayload(EncodePayload(ps...))
			if err != nil || len(again) != len(ps) {
				t.Fatalf("payload %q: re-decoding failed: %v", b, err)
			}
		}
		_, _ = DecodeHandshake(b)
		if p, err := DecodeSIO(b); err == nil {
			q, err := DecodeSIO(p.Encode())
			if err != nil {
				t.Fatalf("%q decoded to %+v, whose encoding %q does not decode: %v", b, p, p.Encode(), err)
			}
			if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || q.Attachments != p.Attachments || !bytes.Equal(q.Data, p.Data) {
				t.Fatalf("%q: %+v re-decoded as %+v", b, p, q)
			}
			_, _, _ = p.Event()
		}
	})
}
