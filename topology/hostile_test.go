package topology_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
)

// render loads src and returns the diagnostics as printed.
func render(t *testing.T, src []byte) (hcl.Diagnostics, string) {
	t.Helper()
	l := topology.NewLoader()
	topo, diags := l.Load("hostile.hcl", src)
	require.True(t, diags.HasErrors(), "hostile input must be an error")
	require.Nil(t, topo)
	var buf bytes.Buffer
	require.NoError(t, l.WriteDiagnostics(&buf, diags, 0, false))
	return diags, buf.String()
}

// Nesting that would overflow the parser's stack is refused before
// parsing, at the position where it gets too deep.
func TestDeepNestingIsRefused(t *testing.T) {
	for name, src := range map[string]string{
		"brackets":  "a = " + strings.Repeat("[", 80000),
		"parens":    "a = " + strings.Repeat("(", 80000),
		"blocks":    strings.Repeat("b {\n", 80000),
		"templates": "a = " + strings.Repeat(`"${`, 30000),
		"negation":  "a = " + strings.Repeat("-", 80000) + "1\n",
		"not":       "a = " + strings.Repeat("! ", 80000) + "true\n",
	} {
		t.Run(name, func(t *testing.T) {
			diags, out := render(t, []byte(src))
			require.Len(t, diags, 1)
			require.Equal(t, "Nesting too deep", diags[0].Summary)
			require.NotNil(t, diags[0].Subject)
			require.LessOrEqual(t, diags[0].Subject.Start.Line, topology.MaxNesting+1)
			require.Less(t, len(out), 2000)
		})
	}
	// Brackets inside comments and strings do not count.
	for _, comment := range []string{
		"# " + strings.Repeat("[", 1000) + "\n",
		"// " + strings.Repeat("{", 1000) + "\n",
		"/* " + strings.Repeat("(", 1000) + " */\n",
	} {
		mustLoad(t, minimal+comment)
	}
	_, diags := load(t, minimal+"security {\n  allowed_origins = [\"https://a.example/"+strings.Repeat("[", 1000)+"\"]\n}\n")
	require.NotEmpty(t, diags, "the origin is refused by its grammar")
	for _, d := range diags {
		require.NotEqual(t, "Nesting too deep", d.Summary)
	}
}

// Whatever the input, the printed diagnostics stay bounded, and beyond
// MaxPrintedDiagnostics end with a count of the rest.
func TestDiagnosticOutputIsBounded(t *testing.T) {
	// Random bytes: the nesting check stops at the first run of brackets,
	// and the one snippet of binary garbage is escaped and cut.
	src := make([]byte, topology.MaxFileSize)
	rand.New(rand.NewSource(1)).Read(src)
	diags, out := render(t, src)
	require.NotEmpty(t, diags)
	require.Less(t, len(out), 64<<10, "output of %d diagnostics", len(diags))

	// Many separate errors.
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.WriteString("x = 1\n")
	}
	diags, out = render(t, []byte(b.String()))
	require.Greater(t, len(diags), topology.MaxPrintedDiagnostics)
	require.Contains(t, out, "… and ")
	require.Less(t, len(out), 16<<10)
}

// A long line is cut around the offending range; control characters and
// bidirectional overrides never reach the terminal.
func TestSnippetsAreCutAndEscaped(t *testing.T) {
	long := "listener \"l\" { address = \"" + strings.Repeat("a", 100000) + ";\" }\n"
	_, out := render(t, []byte(long))
	for _, line := range strings.Split(out, "\n") {
		require.Less(t, len(line), 1200, "line %.80q…", line)
	}
	require.Contains(t, out, "…")

	hostile := "listener \"l\" {\n  address = \"0.0.0.0:80\x1b[2J\u202e\" # \u202ecomment\x07\n}\n"
	_, out = render(t, []byte(hostile))
	require.NotContains(t, out, "\x1b")
	require.NotContains(t, out, "\u202e")
	require.NotContains(t, out, "\x07")
	require.Contains(t, out, `\u202e`)
	require.Contains(t, out, `\x1b`)
}

// Only regular files of bounded size are read; a FIFO or a device fails
// at once instead of blocking or exhausting memory.
func TestLoadFileRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.hcl")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.hcl")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("# x\n"), topology.MaxFileSize/4+1), 0o600))
	for path, want := range map[string]string{
		fifo:        "not a regular file (a FIFO)",
		"/dev/zero": "not a regular file (a character device)",
		dir:         "directory",
		big:         "limited to",
	} {
		topo, diags := topology.NewLoader().LoadFile(path)
		require.Nil(t, topo)
		require.Len(t, diags, 1, path)
		require.Equal(t, "Cannot read topology file", diags[0].Summary)
		require.Contains(t, diags[0].Detail, want)
	}
}

func TestLoadIsInterruptible(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	topo, diags := topology.NewLoader().LoadContext(ctx, "t.hcl", []byte(minimal))
	require.Nil(t, topo)
	require.Equal(t, "Interrupted", diags[0].Summary)
	topo, diags = topology.NewLoader().LoadFileContext(ctx, "/dev/zero")
	require.Nil(t, topo)
	require.Equal(t, "Interrupted", diags[0].Summary)
}

// BenchmarkLoadManyBlocks is the wall time of loading thousands of pools
// and routes; TestChecksScaleLinearly guards the growth without timing.
// Linear checks make 6000 cost about 4x 1500 (see docs/benchmarks.md).
func BenchmarkLoadManyBlocks(b *testing.B) {
	for _, n := range []int{1500, 6000} {
		src := topology.ManyBlocks(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				if topo, diags := topology.NewLoader().Load("many.hcl", src); topo == nil {
					b.Fatal(diags)
				}
			}
		})
	}
}

// A list of allowed origins as long as a topology file can hold loads.
// (How long it takes is BenchmarkLoadLongList; what made it take minutes,
// cty's tuple-to-list conversion, TestListsAreReadWithoutConversion.)
func TestLongListLoads(t *testing.T) {
	src := longList(topology.MaxFileSize - 4096)
	topo, diags := topology.NewLoader().Load("origins.hcl", src)
	require.False(t, diags.HasErrors(), "%v", diags)
	require.NotNil(t, topo)
	require.Greater(t, len(topo.Security.AllowedOrigins), 20000)
}

func BenchmarkLoadLongList(b *testing.B) {
	src := longList(topology.MaxFileSize - 4096)
	for i := 0; i < b.N; i++ {
		topology.NewLoader().Load("origins.hcl", src)
	}
}

// longList is a valid topology whose allowed_origins fill about size bytes.
func longList(size int) []byte {
	var b strings.Builder
	b.WriteString(minimal)
	b.WriteString("security {\n  allowed_origins = [\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "    \"https://app%d.example.test\",\n", i)
	}
	b.WriteString("  ]\n}\n")
	return []byte(b.String())
}

// A broker block's strings end up in the servers' connections, never in a
// proxy config, but they are still checked by grammar at load time: a
// newline, a directive or an HCL template in them is an error at its
// line and column, and a password in a URL is not repeated in the detail.
func TestHostileBrokerValues(t *testing.T) {
	for name, c := range map[string]struct{ attr, value, summary string }{
		"newline in channel":  {"channel", `"chat\nserver evil 1.2.3.4:80"`, "Invalid broker channel"},
		"directive in url":    {"url", `"redis://h:6379/0; lua-load /x"`, "Invalid broker URL"},
		"template in channel": {"channel", `"${file(\"/etc/passwd\")}"`, ""},
		"password in bad url": {"url", `"redis://u:s3cr3t@h:99999"`, "Invalid broker URL"},
		"nul in room_key":     {"room_key", `"ro\u0000om"`, "Invalid query parameter name"},
	} {
		t.Run(name, func(t *testing.T) {
			attrs := map[string]string{"kind": `"redis"`, "url": `"redis://127.0.0.1:6379"`}
			attrs[c.attr] = c.value
			src := minimal + "pool \"b\" {\n  broker {\n"
			for _, k := range []string{"kind", "url", "channel", "room_key"} {
				if v, ok := attrs[k]; ok {
					src += "    " + k + " = " + v + "\n"
				}
			}
			src += "  }\n  server \"s\" {\n    address = \"10.0.0.9:80\"\n  }\n}\n"
			diags, out := render(t, []byte(src))
			require.NotNil(t, diags[0].Subject)
			require.Contains(t, out, "hostile.hcl:")
			if c.summary != "" {
				require.Contains(t, out, c.summary)
			}
			require.NotContains(t, diags[0].Detail, "s3cr3t")
		})
	}
}
