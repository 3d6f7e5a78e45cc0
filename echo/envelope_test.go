package echo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var envelopePayloads = []string{
	"", "hello", "client-0001 c1 m1 xxxxxxxxxxxxxx", `{"quoted":"json"}`, `back\slash`,
	"tab\tnew\nline\rcr\x00nul\x1f", "héllo wörld ✓ 🎉", "bad \xff utf8 \xc3", "line\u2028para\u2029",
	"<script>&amp;</script>", strings.Repeat("x", 5000),
}

func TestEnvelopeFormatDecodesAsJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.FixedZone("X", 3600))
	for _, p := range envelopePayloads {
		data := AppendEnvelope(nil, "ws1", 12, 3, at, []byte(p))
		var env Envelope
		require.NoError(t, json.Unmarshal(data, &env), "%q", data)
		// The same as encoding/json makes of the payload as a string.
		want := Envelope{Backend: "ws1", Conn: 12, Seq: 3, Time: at.UnixNano(), Echo: strings.ToValidUTF8(p, "\uFFFD")}
		if utf8.ValidString(p) {
			want.Echo = p
		}
		require.Equal(t, want, env)

		v, err := ParseEnvelope(data)
		require.NoError(t, err)
		require.Equal(t, "ws1", string(v.Backend))
		require.Equal(t, env.Echo, v.Echo())
		require.Equal(t, utf8.ValidString(p), v.EchoIs([]byte(p)), "%q", p)
		require.False(t, v.EchoIs([]byte(p+"!")))
	}
	require.Equal(t, `{"backend":"ws1","conn":1,"seq":2,"time":1773476813123456789,"echo":"a\"b"}`,
		string(AppendEnvelope(nil, "ws1", 1, 2, at, []byte(`a"b`))), "the documented layout")
}

func TestParseEnvelopeOtherLayoutsAndGarbage(t *testing.T) {
	t.Parallel()
	// Valid JSON in another order still works, the slow way.
	v, err := ParseEnvelope([]byte(`{"echo": "hi", "backend": "b2", "seq": 1}`))
	require.NoError(t, err)
	require.Equal(t, "b2", string(v.Backend))
	require.True(t, v.EchoIs([]byte("hi")))
	// A field after an escaped echo: the echo is what a JSON decoder reads,
	// not the rest of the object.
	v, err = ParseEnvelope([]byte(`{"backend":"b3","conn":1,"seq":1,"time":"t","echo":"a\"b","x":"y"}`))
	require.NoError(t, err)
	require.Equal(t, `a"b`, v.Echo())
	require.True(t, v.EchoIs([]byte(`a"b`)))
	for _, bad := range []string{"", "hello", `{"backend":""}`, `{"backend":"x","conn":1`, `{"backend":"x`, `[1,2]`, `{"echo":"x"}`} {
		_, err := ParseEnvelope([]byte(bad))
		require.ErrorIs(t, err, ErrNotEnvelope, "%q", bad)
	}
}

func TestEnvelopeHotPathAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 256)
	payload := []byte("client-0001 c1 m1 xxxxxxxxxxxxxx")
	now := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		buf = AppendEnvelope(buf[:0], "ws1", 7, 9, now, payload)
		v, err := ParseEnvelope(buf)
		if err != nil || !v.EchoIs(payload) || string(v.Backend) != "ws1" {
			t.Fatal("round trip failed")
		}
	})
	require.Zero(t, allocs)

	in := make([]byte, 0, 64)
	allocs = testing.AllocsPerRun(1000, func() {
		var err error
		in, err = ReadAll(in[:0], bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 1.0, "only the bytes.Reader of the test")
}

func FuzzParseEnvelope(f *testing.F) {
	for _, p := range envelopePayloads {
		f.Add(AppendEnvelope(nil, "ws1", 1, 1, time.Unix(0, 0), []byte(p)))
	}
	f.Add([]byte(`{"backend":"a","conn":1,"seq":1,"time":"x","echo":"\u0041"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		// Whatever parses names a backend and echoes what encoding/json reads.
		var env Envelope
		if json.Unmarshal(data, &env) == nil && env.Backend != "" && env.Echo != v.Echo() {
			t.Fatalf("echo %q, encoding/json reads %q", v.Echo(), env.Echo)
		}
	})
}

func BenchmarkAppendEnvelope(b *testing.B) {
	buf := make([]byte, 0, 256)
	payload := []byte("client-0001 c1 m1 xxxxxxxxxxxxxx")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEnvelope(buf[:0], "ws1", 7, 9, now, payload)
	}
}

func BenchmarkParseEnvelope(b *testing.B) {
	data := AppendEnvelope(nil, "ws1", 7, 9, time.Now(), []byte("client-0001 c1 m1 xxxxxxxxxxxxxx"))
	payload := []byte("client-0001 c1 m1 xxxxxxxxxxxxxx")
	b.ReportAllocs()
	for b.Loop() {
		v, err := ParseEnvelope(data)
		if err != nil || !v.EchoIs(payload) {
			b.Fatal("parse failed")
		}
	}
}

// BenchmarkEnvelopeJSONReflection is what the envelope cost before the
// fixed format: encoding/json both ways.
func BenchmarkEnvelopeJSONReflection(b *testing.B) {
	payload := "client-0001 c1 m1 xxxxxxxxxxxxxx"
	b.ReportAllocs()
	for b.Loop() {
		data, _ := json.Marshal(Envelope{Backend: "ws1", Conn: 7, Seq: 9, Time: time.Now().UnixNano(), Echo: payload})
		var env Envelope
		if json.Unmarshal(data, &env) != nil || env.Echo != payload {
			b.Fatal("round trip failed")
		}
	}
}
