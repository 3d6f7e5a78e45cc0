package topology

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ManyBlocks is a valid topology of n pools with one route each. The route
// paths /p1, /p10, /p100... are prefixes of one another, so the route order
// check finds unreachable routes too.
func ManyBlocks(n int) []byte {
	var b strings.Builder
	b.WriteString("listener \"public\" {\n  address = \"0.0.0.0:8080\"\n}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "pool \"p%d\" {\n  server \"s\" {\n    address = \"10.0.%d.%d:80\"\n  }\n}\n", i, i/250, i%250+1)
		fmt.Fprintf(&b, "route \"r%d\" {\n  path = \"/p%d\"\n  pool = \"p%d\"\n}\n", i, i, i)
	}
	return []byte(b.String())
}

// Checks that compared blocks pairwise made a 1 MiB topology of routes and
// pools take many seconds. The work the cross-block checks do must grow
// with the number of blocks, not its square: four times the blocks, about
// four times the steps (a pairwise scan would be sixteen). Counting steps
// instead of timing keeps a busy machine from deciding; the wall time is
// BenchmarkLoadManyBlocks.
func TestChecksScaleLinearly(t *testing.T) {
	steps := func(n int) int {
		src := ManyBlocks(n)
		file, diags := hclsyntax.ParseConfig(src, "many.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		d := &decoder{filename: "many.hcl", src: src}
		if d.decode(file.Body); d.diags.HasErrors() {
			t.Fatal(d.diags)
		}
		if d.steps < n {
			t.Fatalf("%d blocks took %d steps: the checks no longer count their work", n, d.steps)
		}
		return d.steps
	}
	small, large := steps(400), steps(1600)
	t.Logf("400 pools and routes: %d steps, 1600: %d", small, large)
	if ratio := float64(large) / float64(small); ratio > 5 {
		t.Fatalf("4x the blocks took %.1fx the steps (400: %d, 1600: %d): a check is quadratic again", ratio, small, large)
	}
}

// cty's tuple-to-list conversion sorts the element types pairwise: a list
// of 20,000 allowed origins took minutes to load. A list is read as the
// literal tuple it is, so its length costs no conversion; checking that
// instead of a load's wall time keeps a busy machine from deciding (the
// wall time is BenchmarkLoadLongList).
func TestListsAreReadWithoutConversion(t *testing.T) {
	file, diags := hclsyntax.ParseConfig([]byte(`origins = ["https://a.example", "https://b.example"]`), "l.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	attrs, _ := file.Body.JustAttributes()
	d := &decoder{filename: "l.hcl"}
	v, ok := d.value(attrs["origins"], cty.List(cty.String), "a list of strings")
	if !ok {
		t.Fatal(d.diags)
	}
	if !v.Type().IsTupleType() || v.LengthInt() != 2 {
		t.Fatalf("a list literal was read as %s: converted instead of read as the tuple it is", v.Type().FriendlyName())
	}
}
