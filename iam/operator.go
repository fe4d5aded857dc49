package iam

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// opKind is the family of a condition operator: how its values are read and
// compared.
type opKind int

const (
	opString opKind = iota + 1
	opStringFold
	opStringLike
	opNumeric
	opDate
	opBool
	opBinary
	opIP
	opARN
	opNull
)

// cmpOp is the comparison of numeric and date operators.
type cmpOp int

const (
	cmpEq cmpOp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// operator describes a base condition operator.
type operator struct {
	kind    opKind
	cmp     cmpOp
	negated bool // true for the Not forms: the condition is "matches none"
}

// lookupOperator returns the operator with the given base name.
func lookupOperator(name string) (operator, bool) {
	switch name {
	case "StringEquals":
		return operator{kind: opString}, true
	case "StringNotEquals":
		return operator{kind: opString, negated: true}, true
	case "StringEqualsIgnoreCase":
		return operator{kind: opStringFold}, true
	case "StringNotEqualsIgnoreCase":
		return operator{kind: opStringFold, negated: true}, true
	case "StringLike":
		return operator{kind: opStringLike}, true
	case "StringNotLike":
		return operator{kind: opStringLike, negated: true}, true
	case "NumericEquals":
		return operator{kind: opNumeric, cmp: cmpEq}, true
	case "NumericNotEquals":
		return operator{kind: opNumeric, cmp: cmpEq, negated: true}, true
	case "NumericLessThan":
		return operator{kind: opNumeric, cmp: cmpLt}, true
	case "NumericLessThanEquals":
		return operator{kind: opNumeric, cmp: cmpLe}, true
	case "NumericGreaterThan":
		return operator{kind: opNumeric, cmp: cmpGt}, true
	case "NumericGreaterThanEquals":
		return operator{kind: opNumeric, cmp: cmpGe}, true
	case "DateEquals":
		return operator{kind: opDate, cmp: cmpEq}, true
	case "DateNotEquals":
		return operator{kind: opDate, cmp: cmpEq, negated: true}, true
	case "DateLessThan":
		return operator{kind: opDate, cmp: cmpLt}, true
	case "DateLessThanEquals":
		return operator{kind: opDate, cmp: cmpLe}, true
	case "DateGreaterThan":
		return operator{kind: opDate, cmp: cmpGt}, true
	case "DateGreaterThanEquals":
		return operator{kind: opDate, cmp: cmpGe}, true
	case "Bool":
		return operator{kind: opBool}, true
	case "BinaryEquals":
		return operator{kind: opBinary}, true
	case "IpAddress":
		return operator{kind: opIP}, true
	case "NotIpAddress":
		return operator{kind: opIP, negated: true}, true
	case "ArnEquals", "ArnLike":
		return operator{kind: opARN}, true
	case "ArnNotEquals", "ArnNotLike":
		return operator{kind: opARN, negated: true}, true
	case "Null":
		return operator{kind: opNull}, true
	}
	return operator{}, false
}

// operatorNames lists the base operators, for suggestions.
func operatorNames() []string {
	return []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
		"StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
		"ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Null",
	}
}

// splitOperator splits a written operator name such as
// "ForAnyValue:StringLikeIfExists" into a Condition's operator fields. The
// message is empty when the name is valid.
func splitOperator(name string) (c Condition, msg string) {
	base := name
	if rest, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		c.ForAllValues, base = true, rest
	} else if rest, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		c.ForAnyValue, base = true, rest
	}
	if _, ok := lookupOperator(base); !ok {
		if rest, ok := strings.CutSuffix(base, "IfExists"); ok {
			c.IfExists, base = true, rest
		}
	}
	c.Operator = base
	if _, ok := lookupOperator(base); !ok {
		msg = fmt.Sprintf("unknown condition operator %q", name)
		for _, known := range operatorNames() {
			if strings.EqualFold(known, base) {
				return c, fmt.Sprintf("%s (did you mean %q?)", msg, (&Condition{Operator: known,
					IfExists: c.IfExists, ForAllValues: c.ForAllValues, ForAnyValue: c.ForAnyValue}).OperatorName())
			}
		}
		if i := strings.IndexByte(name, ':'); i >= 0 && !c.ForAllValues && !c.ForAnyValue {
			return c, fmt.Sprintf("%s: the only prefixes are ForAllValues: and ForAnyValue:", msg)
		}
		return c, msg
	}
	if base == "Null" && (c.IfExists || c.ForAllValues || c.ForAnyValue) {
		return c, fmt.Sprintf("condition operator %q: Null takes neither IfExists nor a ForAllValues:/ForAnyValue: prefix", name)
	}
	return c, ""
}

// conditions reads a Condition element.
func (p *parser) conditions(m *member, path string) ([]Condition, error) {
	path += ".Condition"
	if m.val.kind != kindObject {
		return nil, p.errorf(m.val.off, "%s must be an object, not %s", path, m.val.kindName())
	}
	var out []Condition
	for i := range m.val.members {
		om := &m.val.members[i]
		spec, msg := splitOperator(om.key)
		if msg != "" {
			return nil, p.errorf(om.keyOff, "%s: %s", path, msg)
		}
		op, _ := lookupOperator(spec.Operator)
		opPath := path + "." + om.key
		if om.val.kind != kindObject {
			return nil, p.errorf(om.val.off, `%s must be an object of condition keys, such as {"aws:SourceAccount": "111122223333"}, not %s`, opPath, om.val.kindName())
		}
		if len(om.val.members) == 0 {
			return nil, p.errorf(om.val.off, "%s must name at least one condition key", opPath)
		}
		for j := range om.val.members {
			km := &om.val.members[j]
			keyPath := fmt.Sprintf("%s[%q]", opPath, km.key)
			if prefix, name, ok := strings.Cut(km.key, ":"); !ok || prefix == "" || name == "" {
				return nil, p.errorf(km.keyOff, `%s: condition key %q must be of the form prefix:name, such as "aws:SourceAccount"`, opPath, km.key)
			}
			values, err := p.conditionValues(&km.val, keyPath, op)
			if err != nil {
				return nil, err
			}
			c := spec
			c.Key, c.Values = km.key, values
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues reads a scalar or a non-empty list of scalars and checks
// each against the operator's value type.
func (p *parser) conditionValues(n *node, path string, op operator) ([]string, error) {
	elems := []node{*n}
	if n.kind == kindArray {
		if len(n.elems) == 0 {
			return nil, p.errorf(n.off, "%s must not be an empty list", path)
		}
		elems = n.elems
	}
	values := make([]string, len(elems))
	for i := range elems {
		e := &elems[i]
		switch e.kind {
		case kindString, kindNumber, kindBool:
		default:
			return nil, p.errorf(e.off, "%s: a condition value must be a string, number or boolean, not %s", path, e.kindName())
		}
		if msg := checkValue(op, e.text, p.vars); msg != "" {
			return nil, p.errorf(e.off, "%s: %s", path, msg)
		}
		values[i] = e.text
	}
	return values, nil
}

// checkValue checks a policy value against the operator's type. Values with
// policy variables are checked when evaluated, after expansion; Null values
// take no variables.
func checkValue(op operator, v string, vars bool) string {
	if vars && op.kind != opNull && strings.Contains(v, "${") {
		return ""
	}
	switch op.kind {
	case opNumeric:
		if _, ok := parseNumber(v); !ok {
			return fmt.Sprintf("%q is not a number", v)
		}
	case opDate:
		if _, ok := parseDate(v); !ok {
			return fmt.Sprintf("%q is not a date (want ISO 8601, e.g. 2026-01-02T15:04:05Z, or epoch seconds)", v)
		}
	case opBool, opNull:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Sprintf("%q is not true or false", v)
		}
	case opBinary:
		if _, err := base64.StdEncoding.DecodeString(v); err != nil {
			return fmt.Sprintf("%q is not base64", v)
		}
	case opIP:
		if _, ok := parseCIDR(v); !ok {
			return fmt.Sprintf("%q is not an IP address or CIDR block", v)
		}
	case opARN:
		if strings.Count(v, ":") < 5 {
			return fmt.Sprintf("%q is not an ARN (arn:partition:service:region:account:resource)", v)
		}
	}
	return ""
}

// number is a parsed numeric value: exact for integers, float otherwise.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// parseNumber reads a decimal number: optional sign, digits, optional
// fraction and exponent. Hexadecimal, Inf and NaN are not numbers.
func parseNumber(s string) (number, bool) {
	if !isDecimal(s) {
		return number{}, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return number{isInt: true, i: i, f: float64(i)}, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return number{}, false
	}
	return number{f: f}, true
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// compare returns -1, 0 or +1.
func (a number) compare(b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}

// dateLayouts are the ISO 8601 forms accepted for dates; a form without a
// zone is UTC.
func dateLayouts() [8]string {
	return [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02",
		"20060102T150405Z0700",
		"20060102T150405Z",
	}
}

// parseDate reads an ISO 8601 date-time or epoch seconds (optionally with a
// fraction).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if isDecimal(s) && !strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f > 1e12 || f < -1e12 {
			return time.Time{}, false
		}
		sec, frac := int64(f), f-float64(int64(f))
		return time.Unix(sec, int64(frac*1e9)).UTC(), true
	}
	for _, layout := range dateLayouts() {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseCIDR reads a CIDR block or a single address (a /32 or /128 block).
// IPv4-mapped IPv6 addresses are treated as IPv4.
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, ok := parseAddr(s)
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
