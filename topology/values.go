package topology

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Durations are bounded by HAProxy, which keeps timeouts as 32-bit
// milliseconds (about 24.8 days).
const maxDuration = 24 * 24 * time.Hour

// decoder turns HCL bodies into model values, collecting diagnostics.
type decoder struct {
	filename string
	src      []byte
	diags    hcl.Diagnostics
	// steps counts the inner-loop work of the cross-block checks (a block
	// visited, an index looked up), so a test can tell linear from
	// quadratic without timing anything.
	steps int
}

func (d *decoder) errorf(subject hcl.Range, summary, detailFormat string, args ...any) {
	d.add(hcl.DiagError, subject, summary, fmt.Sprintf(detailFormat, args...))
}

func (d *decoder) warnf(subject hcl.Range, summary, detailFormat string, args ...any) {
	d.add(hcl.DiagWarning, subject, summary, fmt.Sprintf(detailFormat, args...))
}

func (d *decoder) add(sev hcl.DiagnosticSeverity, subject hcl.Range, summary, detail string) {
	s := subject
	d.diags = append(d.diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: &s})
}

// fileStart is the subject of diagnostics about the file as a whole.
func (d *decoder) fileStart() hcl.Range {
	p := hcl.Pos{Line: 1, Column: 1}
	return hcl.Range{Filename: d.filename, Start: p, End: p}
}

// content applies schema to body and reports unknown attributes and blocks
// (HCL adds "Did you mean …?" suggestions).
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return c
}

// value reads an attribute that must be a literal of type ty (no
// conversion: "5" is not a number, "true" not a bool). ok is false (and a
// diagnostic recorded) on any problem.
func (d *decoder) value(a *hcl.Attribute, ty cty.Type, what string) (cty.Value, bool) {
	if !d.literal(a.Expr) {
		return cty.NilVal, false
	}
	v, diags := a.Expr.Value(nil)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(a.Expr.Range(), "Missing value", "The argument %q must be %s, not null. Remove the argument to use its default.", a.Name, what)
		return cty.NilVal, false
	}
	if !sameType(v.Type(), ty) {
		d.errorf(a.Expr.Range(), "Incorrect value type", "The argument %q must be %s, not %s.%s", a.Name, what, typeName(v.Type()), typeHint(v, ty))
		return cty.NilVal, false
	}
	// sameType checked the type, and every element of a list: the value is
	// used as written, a list as the tuple it is. (cty's tuple-to-list
	// conversion sorts the element types and takes quadratic time: 20,000
	// origins took minutes.)
	return v, true
}

// sameType reports whether a literal of type got is a ty without
// conversion; a list is written as a tuple whose elements are all of the
// list's element type (null elements are reported later).
func sameType(got, ty cty.Type) bool {
	if !ty.IsListType() {
		return got.Equals(ty)
	}
	if !got.IsTupleType() {
		return false
	}
	for _, et := range got.TupleElementTypes() {
		if et != cty.DynamicPseudoType && !et.Equals(ty.ElementType()) {
			return false
		}
	}
	return true
}

func typeName(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsTupleType() || t.IsListType():
		return "a list with other than string elements"
	default:
		return t.FriendlyName()
	}
}

// typeHint suggests dropping or adding quotes when that is the fix.
func typeHint(v cty.Value, ty cty.Type) string {
	switch {
	case v.Type() == cty.String && ty == cty.Number:
		if _, err := strconv.ParseFloat(v.AsString(), 64); err == nil && len(v.AsString()) < 20 {
			return fmt.Sprintf(" Values are not converted: write %s without quotes.", v.AsString())
		}
	case v.Type() == cty.String && ty == cty.Bool:
		if s := v.AsString(); s == "true" || s == "false" {
			return fmt.Sprintf(" Values are not converted: write %s without quotes.", s)
		}
	case (v.Type() == cty.Number || v.Type() == cty.Bool) && ty == cty.String:
		return " Values are not converted: put the value in quotes."
	case ty.IsListType() && v.Type() == cty.String:
		return " Write a list, e.g. [\"value\"]."
	}
	return " Values are not converted."
}

// attrs wraps the attributes of one block with typed accessors. Each
// accessor leaves dst untouched when the attribute is absent or invalid and
// records the value's range for later semantic checks.
type attrs struct {
	d      *decoder
	m      hcl.Attributes
	def    hcl.Range // the block's definition, used when an attribute is absent
	ranges map[string]hcl.Range
	bad    map[string]bool // attributes whose value was rejected
}

func (d *decoder) attrs(c *hcl.BodyContent, def hcl.Range) *attrs {
	return &attrs{d: d, m: c.Attributes, def: def, ranges: map[string]hcl.Range{}, bad: map[string]bool{}}
}

// valid reports whether none of the named attributes had a rejected value.
func (a *attrs) valid(names ...string) bool {
	for _, n := range names {
		if a.bad[n] {
			return false
		}
	}
	return true
}

// reject marks an attribute's value as rejected (its diagnostic is already
// recorded) and returns false for the accessor to return.
func (a *attrs) reject(name string) bool {
	a.bad[name] = true
	return false
}

// has reports whether the attribute is present in the source.
func (a *attrs) has(name string) bool { return a.m[name] != nil }

// at is the range of the attribute's value, or of the block if absent.
func (a *attrs) at(name string) hcl.Range {
	if r, ok := a.ranges[name]; ok {
		return r
	}
	if at := a.m[name]; at != nil {
		return at.Expr.Range()
	}
	return a.def
}

// whole is the range of the whole attribute (name = value), or of the block.
func (a *attrs) whole(name string) hcl.Range {
	if at := a.m[name]; at != nil {
		return at.Range
	}
	return a.def
}

func (a *attrs) get(name string, ty cty.Type, what string) (cty.Value, bool) {
	at := a.m[name]
	if at == nil {
		return cty.NilVal, false
	}
	a.ranges[name] = at.Expr.Range()
	v, ok := a.d.value(at, ty, what)
	if !ok {
		a.reject(name)
	}
	return v, ok
}

// str reads a string attribute and checks it against its grammar; a nil
// check is only for callers that parse the string further themselves.
// Returns whether dst was set.
func (a *attrs) str(name string, dst *string, check func(string) error) bool {
	v, ok := a.get(name, cty.String, "a string")
	if !ok {
		return false
	}
	s := v.AsString()
	if check != nil {
		if err := check(s); err != nil {
			a.d.grammarError(a.at(name), err)
			return a.reject(name)
		}
	}
	*dst = s
	return true
}

func (a *attrs) boolean(name string, dst *bool) bool {
	v, ok := a.get(name, cty.Bool, "true or false")
	if !ok {
		return false
	}
	*dst = v.True()
	return true
}

// integer reads a whole number within [lo, hi]; summary names the problem
// when it is out of range.
func (a *attrs) integer(name string, dst *int, lo, hi int, summary string) bool {
	v, ok := a.get(name, cty.Number, "a whole number")
	if !ok {
		return false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		a.d.errorf(a.at(name), "Incorrect value type", "The argument %q must be a whole number, not %s.", name, bf.Text('g', -1))
		return a.reject(name)
	}
	if bf.Cmp(big.NewFloat(float64(lo))) < 0 || bf.Cmp(big.NewFloat(float64(hi))) > 0 {
		a.d.errorf(a.at(name), summary, "The argument %q is %s; it must be between %d and %d.", name, bf.Text('g', -1), lo, hi)
		return a.reject(name)
	}
	n, _ := bf.Int64()
	*dst = int(n)
	return true
}

// duration reads a Go duration string ("5s", "1h30m"), positive (or zero
// when allowZero), whole milliseconds, at most maxDuration.
func (a *attrs) duration(name string, dst *time.Duration, allowZero bool) bool {
	var s string
	if !a.str(name, &s, nil) {
		return false
	}
	r := a.at(name)
	dur, err := time.ParseDuration(s)
	switch {
	case err != nil:
		a.d.errorf(r, "Invalid duration", "%q is not a duration. Write a number with a unit, e.g. \"500ms\", \"5s\", \"1m30s\" or \"1h\".", s)
	case dur < 0 || dur == 0 && !allowZero:
		a.d.errorf(r, "Invalid duration", "The argument %q is %q; it must be positive.", name, s)
	case dur%time.Millisecond != 0:
		a.d.errorf(r, "Invalid duration", "The argument %q is %q; the proxies count in whole milliseconds.", name, s)
	case dur > maxDuration:
		a.d.errorf(r, "Invalid duration", "The argument %q is %q; HAProxy accepts at most %s (24 days).", name, s, maxDuration)
	default:
		*dst = dur
		return true
	}
	return a.reject(name)
}

// strings reads a list of strings, checking each element with check, which
// may also canonicalize it.
func (a *attrs) strings(name string, dst *[]string, check func(string) (string, error)) bool {
	v, ok := a.get(name, cty.List(cty.String), "a list of strings")
	if !ok {
		return false
	}
	at := a.m[name]
	var elems []hclsyntax.Expression
	if tup, ok := at.Expr.(*hclsyntax.TupleConsExpr); ok {
		elems = tup.Exprs
	}
	out := []string{}
	good := true
	for i, ev := range v.AsValueSlice() {
		r := at.Expr.Range()
		if i < len(elems) {
			r = elems[i].Range()
		}
		if ev.IsNull() {
			a.d.errorf(r, "Missing value", "The elements of %q must be strings, not null.", name)
			good = false
			continue
		}
		s, err := check(ev.AsString())
		if err != nil {
			a.d.grammarError(r, err)
			good = false
			continue
		}
		out = append(out, s)
	}
	if !good {
		return a.reject(name)
	}
	*dst = out
	return true
}

// oneOf reads a string that must be one of allowed; summary names the
// problem, e.g. "Unknown balance algorithm".
func (a *attrs) oneOf(name string, dst *string, summary string, allowed ...string) bool {
	var s string
	if !a.str(name, &s, nil) {
		return false
	}
	for _, v := range allowed {
		if s == v {
			*dst = s
			return true
		}
	}
	a.d.errorf(a.at(name), summary, "%q is not one of %s.%s", s, quoteList(allowed), suggest(s, allowed))
	return a.reject(name)
}

// grammarError reports a value that failed an allowlist grammar.
func (d *decoder) grammarError(r hcl.Range, err error) {
	g, ok := err.(*GrammarError)
	if !ok {
		d.errorf(r, "Invalid value", "%s.", err)
		return
	}
	d.errorf(r, "Invalid "+g.What, "%q is not a valid %s: %s. %s", g.Value, g.What, g.Reason, g.Allowed)
}

// suggest returns ` Did you mean "x"?` for the closest of candidates, or "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := levenshtein.Distance(strings.ToLower(given), strings.ToLower(c), nil); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// quoteList renders ["a" "b"] as `"a", "b"` in sorted order.
func quoteList(items []string) string {
	s := append([]string(nil), items...)
	sort.Strings(s)
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
