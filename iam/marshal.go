package iam

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MarshalJSON writes p as a compact policy document that Parse reads back
// into the same Policy: elements in the canonical order, Statement always a
// list, one-element lists as a plain string, condition values as strings
// (numbers and booleans are kept as written: 10 becomes "10"), conditions
// grouped by operator in order of first appearance. Its length is the size
// Parse checks against MaxPolicySize.
func (p *Policy) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	return p.appendJSON(make([]byte, 0, 256), nil)
}

// appendJSON appends the compact document; when ends is not nil it records
// the length of the output after each statement.
func (p *Policy) appendJSON(b []byte, ends *[]int) ([]byte, error) {
	o := object{b: b}
	if p.Version != "" {
		o.key("Version")
		o.b = appendString(o.b, p.Version)
	}
	if p.ID != "" {
		o.key("Id")
		o.b = appendString(o.b, p.ID)
	}
	o.key("Statement")
	o.b = append(o.b, '[')
	for i := range p.Statements {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		var err error
		if o.b, err = appendStatement(o.b, &p.Statements[i]); err != nil {
			return nil, fmt.Errorf("iam: marshal Statement[%d]: %w", i, err)
		}
		if ends != nil {
			*ends = append(*ends, len(o.b))
		}
	}
	o.b = append(o.b, ']')
	return o.close(), nil
}

// object writes the members of one JSON object.
type object struct {
	b []byte
	n int
}

func (o *object) key(k string) {
	if o.n == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *object) list(k string, values []string) {
	if len(values) == 0 {
		return
	}
	o.key(k)
	o.b = appendList(o.b, values)
}

func (o *object) close() []byte {
	if o.n == 0 {
		o.b = append(o.b, '{')
	}
	return append(o.b, '}')
}

func appendStatement(b []byte, s *Statement) ([]byte, error) {
	o := object{b: b}
	if s.Sid != "" {
		o.key("Sid")
		o.b = appendString(o.b, s.Sid)
	}
	o.key("Effect")
	o.b = appendString(o.b, s.Effect)
	for _, pr := range [...]struct {
		name string
		ps   *Principals
	}{{"Principal", s.Principal}, {"NotPrincipal", s.NotPrincipal}} {
		if pr.ps == nil {
			continue
		}
		o.key(pr.name)
		var err error
		if o.b, err = appendPrincipals(o.b, pr.ps); err != nil {
			return nil, fmt.Errorf("%s: %w", pr.name, err)
		}
	}
	o.list("Action", s.Actions)
	o.list("NotAction", s.NotActions)
	o.list("Resource", s.Resources)
	o.list("NotResource", s.NotResources)
	if len(s.Conditions) > 0 {
		o.key("Condition")
		var err error
		if o.b, err = appendConditions(o.b, s.Conditions); err != nil {
			return nil, err
		}
	}
	return o.close(), nil
}

func appendPrincipals(b []byte, ps *Principals) ([]byte, error) {
	if ps.All {
		if len(ps.AWS) > 0 || len(ps.Service) > 0 {
			return nil, errors.New(`"*" cannot be combined with AWS or Service principals`)
		}
		return appendString(b, "*"), nil
	}
	if len(ps.AWS) == 0 && len(ps.Service) == 0 {
		return nil, errors.New("names no principal")
	}
	o := object{b: b}
	o.list("AWS", ps.AWS)
	o.list("Service", ps.Service)
	return o.close(), nil
}

// appendConditions groups conditions by operator, keeping the order of
// first appearance of each operator and of the keys within it.
func appendConditions(b []byte, conds []Condition) ([]byte, error) {
	ops := make([]string, 0, len(conds))
	groups := make(map[string][]*Condition, len(conds))
	for i := range conds {
		c := &conds[i]
		name := c.OperatorName()
		if c.ForAllValues && c.ForAnyValue {
			return nil, fmt.Errorf("condition %s on %q is both ForAllValues and ForAnyValue", c.Operator, c.Key)
		}
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("condition %s on %q has no values", name, c.Key)
		}
		if _, seen := groups[name]; !seen {
			ops = append(ops, name)
		}
		for _, other := range groups[name] {
			if other.Key == c.Key {
				return nil, fmt.Errorf("condition %s on %q appears twice", name, c.Key)
			}
		}
		groups[name] = append(groups[name], c)
	}
	o := object{b: b}
	for _, name := range ops {
		o.key(name)
		keys := object{b: o.b}
		for _, c := range groups[name] {
			keys.list(c.Key, c.Values)
		}
		o.b = keys.close()
	}
	return o.close(), nil
}

// appendList appends one value as a string, several as a list.
func appendList(b []byte, values []string) []byte {
	if len(values) == 1 {
		return appendString(b, values[0])
	}
	b = append(b, '[')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string with the fewest escapes: quote,
// backslash and control characters. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
				break
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+w]...)
			}
			i += w
			continue
		}
		i++
	}
	return append(b, '"')
}
