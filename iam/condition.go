package iam

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// condition evaluates one condition (one key of one operator block).
//
// Semantics, as in AWS:
//   - A key is absent when the request has no value for it. Then Null
//     "true" holds and Null "false" does not; ...IfExists forms hold;
//     ForAllValues holds (vacuously) and ForAnyValue does not; positive
//     operators do not hold and negated ones (StringNotEquals, NotIpAddress,
//     ArnNotLike, ...) do.
//   - Several policy values are ORed for positive operators; for a negated
//     operator the request value must match none of them (NOR).
//   - Several request values (a multi-valued key) without a set prefix: a
//     positive operator holds if any request value matches; a negated one if
//     none does. ForAllValues holds if every request value satisfies the
//     operator, ForAnyValue if at least one does; for a negated operator
//     "satisfies" means "matches none of the policy values".
//   - A request value that cannot be read as the operator's type (a number,
//     a date, an IP address, an ARN) matches no policy value.
func (e *evaluator) condition(c *Condition) bool {
	op, ok := lookupOperator(c.Operator)
	if !ok {
		return false
	}
	values, present := e.lookup(c.Key)
	if op.kind == opNull {
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.IfExists, c.ForAllValues:
			return true
		case c.ForAnyValue:
			return false
		}
		return op.negated
	}
	switch {
	case c.ForAllValues:
		for _, v := range values {
			if e.anyMatches(op, c.Values, v) == op.negated {
				return false
			}
		}
		return true
	case c.ForAnyValue:
		for _, v := range values {
			if e.anyMatches(op, c.Values, v) != op.negated {
				return true
			}
		}
		return false
	}
	for _, v := range values {
		if e.anyMatches(op, c.Values, v) {
			return !op.negated
		}
	}
	return op.negated
}

// anyMatches reports whether the request value v matches at least one of
// the policy values under the positive form of op.
func (e *evaluator) anyMatches(op operator, policyValues []string, v string) bool {
	switch op.kind {
	case opNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		for _, pv := range policyValues {
			if x, _, ok := e.expand(pv, false); ok {
				if m, ok := parseNumber(x); ok && compared(n.compare(m), op.cmp) {
					return true
				}
			}
		}
		return false
	case opDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, pv := range policyValues {
			if x, _, ok := e.expand(pv, false); ok {
				if u, ok := parseDate(x); ok && compared(t.Compare(u), op.cmp) {
					return true
				}
			}
		}
		return false
	case opIP:
		a, ok := parseAddr(v)
		if !ok {
			return false
		}
		for _, pv := range policyValues {
			if x, _, ok := e.expand(pv, false); ok {
				if p, ok := parseCIDR(x); ok && p.Contains(a) {
					return true
				}
			}
		}
		return false
	case opBinary:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return false
		}
		for _, pv := range policyValues {
			if x, _, ok := e.expand(pv, false); ok {
				if pb, err := base64.StdEncoding.DecodeString(x); err == nil && bytes.Equal(b, pb) {
					return true
				}
			}
		}
		return false
	}
	for _, pv := range policyValues {
		if e.valueMatches(op.kind, pv, v) {
			return true
		}
	}
	return false
}

// valueMatches compares one policy value with one request value for the
// string, boolean and ARN operators.
func (e *evaluator) valueMatches(kind opKind, pv, v string) bool {
	switch kind {
	case opString:
		x, _, ok := e.expand(pv, false)
		return ok && x == v
	case opStringFold, opBool:
		x, _, ok := e.expand(pv, false)
		return ok && strings.EqualFold(x, v)
	case opStringLike:
		pat, esc, ok := e.expand(pv, true)
		return ok && globMatch(pat, v, esc, false)
	case opARN:
		pat, esc, ok := e.expand(pv, true)
		return ok && matchARN(pat, v, esc)
	}
	return false
}

// compared applies a comparison to the result of a compare function.
func compared(c int, op cmpOp) bool {
	switch op {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	}
	return false
}
