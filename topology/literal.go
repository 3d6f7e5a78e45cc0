package topology

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// literal reports whether expr is a literal value: a quoted string without
// interpolation or directives, a number (optionally negative), true, false,
// null, or a list of those. Anything else is reported with a diagnostic
// naming the construct: the language evaluates nothing, so what a reviewer
// reads is what the generated configs get.
func (d *decoder) literal(expr hcl.Expression) bool {
	bad, what := nonLiteral(d.src, expr)
	if bad == nil {
		return true
	}
	d.errorf(bad.Range(), "Expression not allowed",
		"This is %s. Topology values are literals: quoted strings, numbers, true or false, and lists of those; nothing is computed or interpolated. Write the value itself, e.g. \"10.0.0.1:8080\" or 5.", what)
	return false
}

const indexAccess = "an index or attribute access ([ ... ] or .name after a value)"

// nonLiteral returns the first part of expr that is not a literal and what
// it is, or nil.
func nonLiteral(src []byte, expr hcl.Expression) (hclsyntax.Expression, string) {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return nil, ""
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if _, ok := p.(*hclsyntax.LiteralValueExpr); !ok {
				return p, templatePart(src, p)
			}
		}
		return nil, ""
	case *hclsyntax.TupleConsExpr:
		for _, el := range e.Exprs {
			if bad, what := nonLiteral(src, el); bad != nil {
				return bad, what
			}
		}
		return nil, ""
	case *hclsyntax.UnaryOpExpr:
		// -5 is a negative number; HCL parses it as negation.
		if lit, ok := e.Val.(*hclsyntax.LiteralValueExpr); ok && e.Op == hclsyntax.OpNegate && lit.Val.Type() == cty.Number {
			return nil, ""
		}
		return e, "an operator expression"
	case *hclsyntax.TemplateWrapExpr:
		return e, "a template interpolation (${ ... })"
	case *hclsyntax.ScopeTraversalExpr:
		return e, fmt.Sprintf("a variable reference (%s); strings need quotes", traversalName(e.Traversal))
	case *hclsyntax.FunctionCallExpr:
		return e, fmt.Sprintf("a function call (%s)", e.Name)
	case *hclsyntax.BinaryOpExpr:
		return e, "an arithmetic, comparison or logical expression"
	case *hclsyntax.ConditionalExpr:
		return e, "a conditional expression (a ? b : c)"
	case *hclsyntax.IndexExpr:
		return e, indexAccess
	case *hclsyntax.RelativeTraversalExpr:
		return e, indexAccess
	case *hclsyntax.ForExpr:
		return e, "a for expression"
	case *hclsyntax.SplatExpr:
		return e, "a splat expression ([*])"
	case *hclsyntax.ObjectConsExpr:
		return e, "an object ({ ... })"
	case *hclsyntax.ParenthesesExpr:
		return e, "an expression in parentheses"
	case hclsyntax.Expression:
		return e, "an expression"
	default:
		return nil, ""
	}
}

// templatePart names a non-literal part of a quoted string or heredoc. A
// directive's range starts at its "%{"; an interpolated expression's starts
// after the "${" (and any "~" and blanks), which tells the two apart when
// both hold a conditional.
func templatePart(src []byte, p hclsyntax.Expression) string {
	i := p.Range().Start.Byte
	for i > 0 && i <= len(src) && (src[i-1] == ' ' || src[i-1] == '\t' || src[i-1] == '~' || src[i-1] == '\n') {
		i--
	}
	if i >= 2 && i <= len(src) && src[i-2] == '$' && src[i-1] == '{' {
		return "a template interpolation (${ ... }) inside a string"
	}
	switch p.(type) {
	case *hclsyntax.TemplateJoinExpr:
		return "a template directive (%{ for ... }) inside a string"
	case *hclsyntax.ConditionalExpr:
		return "a template directive (%{ if ... }) inside a string"
	}
	return "a template sequence inside a string"
}

func traversalName(t hcl.Traversal) string {
	if len(t) == 0 {
		return "?"
	}
	return t.RootName()
}
