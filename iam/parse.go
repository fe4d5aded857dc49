package iam

import (
	"fmt"
	"strings"
)

// usage says which statement shapes a document may have.
type usage int

const (
	anyPolicy      usage = iota // Parse: both shapes
	identityPolicy              // no Principal or NotPrincipal
	resourcePolicy              // Principal or NotPrincipal in every statement
)

// Parse parses a JSON policy document, identity or resource. Errors are
// *SyntaxError values naming the element at fault and its position.
func Parse(doc []byte) (*Policy, error) { return parse(doc, anyPolicy) }

// ParseIdentityPolicy is Parse for a policy attached to a principal: it
// also rejects Principal and NotPrincipal.
func ParseIdentityPolicy(doc []byte) (*Policy, error) { return parse(doc, identityPolicy) }

// ParseResourcePolicy is Parse for a policy attached to a resource (a KMS key
// policy, an SQS queue policy): it also requires Principal or NotPrincipal in
// every statement.
func ParseResourcePolicy(doc []byte) (*Policy, error) { return parse(doc, resourcePolicy) }

type parser struct {
	doc   []byte
	usage usage
	vars  bool // Version 2012-10-17: values may hold policy variables
}

func (p *parser) errorf(off int, format string, args ...any) *SyntaxError {
	line, col := position(p.doc, off)
	return &SyntaxError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func parse(doc []byte, u usage) (*Policy, error) {
	p := &parser{doc: doc, usage: u}
	if len(doc) > MaxDocumentBytes {
		return nil, p.errorf(MaxDocumentBytes, "document is larger than %d bytes", MaxDocumentBytes)
	}
	root, perr := readJSON(doc)
	if perr != nil {
		return nil, p.errorf(perr.off, "%s", perr.msg)
	}
	if root.kind != kindObject {
		return nil, p.errorf(root.off, "policy document must be a JSON object, not %s", root.kindName())
	}

	pol := &Policy{}
	if m, ok := root.get("Version"); ok {
		if m.val.kind != kindString {
			return nil, p.errorf(m.val.off, "Version must be a string, not %s", m.val.kindName())
		}
		if v := m.val.text; v != Version2012 && v != Version2008 {
			return nil, p.errorf(m.val.off, "Version must be %q or %q, not %q", Version2012, Version2008, v)
		}
		pol.Version = m.val.text
		p.vars = pol.Version == Version2012
	}
	var stmts *member
	for i := range root.members {
		m := &root.members[i]
		switch m.key {
		case "Version":
		case "Id":
			if m.val.kind != kindString {
				return nil, p.errorf(m.val.off, "Id must be a string, not %s", m.val.kindName())
			}
			pol.ID = m.val.text
		case "Statement":
			stmts = m
		default:
			return nil, p.unknown(m, "top-level element", "", "Version", "Id", "Statement")
		}
	}
	if stmts == nil {
		return nil, p.errorf(root.off, "missing Statement")
	}
	if err := p.statements(pol, &stmts.val); err != nil {
		return nil, err
	}
	if err := p.checkSize(pol, &stmts.val); err != nil {
		return nil, err
	}
	return pol, nil
}

// unknown reports an unknown element, suggesting the spelling it differs
// from only by case.
func (p *parser) unknown(m *member, what, where string, known ...string) *SyntaxError {
	msg := fmt.Sprintf("unknown %s %q", what, m.key)
	if where != "" {
		msg += " in " + where
	}
	for _, k := range known {
		if strings.EqualFold(k, m.key) {
			return p.errorf(m.keyOff, "%s (did you mean %q?)", msg, k)
		}
	}
	return p.errorf(m.keyOff, "%s; expecting one of %s", msg, strings.Join(known, ", "))
}

func (p *parser) statements(pol *Policy, n *node) error {
	var list []node
	switch n.kind {
	case kindObject:
		list = []node{*n}
	case kindArray:
		list = n.elems
	default:
		return p.errorf(n.off, "Statement must be an object or a list of objects, not %s", n.kindName())
	}
	if len(list) == 0 {
		return p.errorf(n.off, "Statement must not be empty")
	}
	if len(list) > MaxStatements {
		return p.errorf(list[MaxStatements].off, "too many statements: %d; the limit is %d", len(list), MaxStatements)
	}
	pol.Statements = make([]Statement, len(list))
	sids := make(map[string]int)
	for i := range list {
		if err := p.statement(&pol.Statements[i], &list[i], i); err != nil {
			return err
		}
		if sid := pol.Statements[i].Sid; sid != "" {
			if j, dup := sids[sid]; dup {
				m, _ := list[i].get("Sid")
				return p.errorf(m.val.off, "Statement[%d].Sid %q is already the Sid of Statement[%d]", i, sid, j)
			}
			sids[sid] = i
		}
	}
	return nil
}

func (p *parser) statement(s *Statement, n *node, i int) error {
	path := fmt.Sprintf("Statement[%d]", i)
	if n.kind != kindObject {
		return p.errorf(n.off, "%s must be an object, not %s", path, n.kindName())
	}
	var effect, principal, notPrincipal, action, notAction, resource, notResource *member
	for j := range n.members {
		m := &n.members[j]
		var err error
		switch m.key {
		case "Sid":
			if m.val.kind != kindString {
				return p.errorf(m.val.off, "%s.Sid must be a string, not %s", path, m.val.kindName())
			}
			s.Sid = m.val.text
		case "Effect":
			effect = m
			if m.val.kind != kindString || (m.val.text != EffectAllow && m.val.text != EffectDeny) {
				return p.errorf(m.val.off, "%s.Effect must be Allow or Deny", path)
			}
			s.Effect = m.val.text
		case "Principal":
			principal = m
			s.Principal, err = p.principals(m, path)
		case "NotPrincipal":
			notPrincipal = m
			s.NotPrincipal, err = p.principals(m, path)
		case "Action":
			action = m
			s.Actions, err = p.actions(m, path)
		case "NotAction":
			notAction = m
			s.NotActions, err = p.actions(m, path)
		case "Resource":
			resource = m
			s.Resources, err = p.resources(m, path)
		case "NotResource":
			notResource = m
			s.NotResources, err = p.resources(m, path)
		case "Condition":
			s.Conditions, err = p.conditions(m, path)
		default:
			return p.unknown(m, "element", path, "Sid", "Effect", "Principal", "NotPrincipal",
				"Action", "NotAction", "Resource", "NotResource", "Condition")
		}
		if err != nil {
			return err
		}
	}

	switch {
	case effect == nil:
		return p.errorf(n.off, "%s is missing Effect", path)
	case action != nil && notAction != nil:
		return p.errorf(later(action, notAction).keyOff, "%s has both Action and NotAction", path)
	case action == nil && notAction == nil:
		return p.errorf(n.off, "%s is missing Action or NotAction", path)
	case resource != nil && notResource != nil:
		return p.errorf(later(resource, notResource).keyOff, "%s has both Resource and NotResource", path)
	case resource == nil && notResource == nil:
		return p.errorf(n.off, "%s is missing Resource or NotResource", path)
	case principal != nil && notPrincipal != nil:
		return p.errorf(later(principal, notPrincipal).keyOff, "%s has both Principal and NotPrincipal", path)
	}
	switch p.usage {
	case identityPolicy:
		if m := either(principal, notPrincipal); m != nil {
			return p.errorf(m.keyOff, "%s.%s is not allowed in an identity policy", path, m.key)
		}
	case resourcePolicy:
		if principal == nil && notPrincipal == nil {
			return p.errorf(n.off, "%s is missing Principal or NotPrincipal (a resource policy must name who it applies to)", path)
		}
	}
	return nil
}

func later(a, b *member) *member {
	if a.keyOff > b.keyOff {
		return a
	}
	return b
}

func either(a, b *member) *member {
	if a != nil {
		return a
	}
	return b
}

// stringList reads a string or a non-empty list of strings.
func (p *parser) stringList(n *node, path string) ([]string, []int, error) {
	switch n.kind {
	case kindString:
		return []string{n.text}, []int{n.off}, nil
	case kindArray:
		if len(n.elems) == 0 {
			return nil, nil, p.errorf(n.off, "%s must not be an empty list", path)
		}
		list := make([]string, len(n.elems))
		offs := make([]int, len(n.elems))
		for i, e := range n.elems {
			if e.kind != kindString {
				return nil, nil, p.errorf(e.off, "%s[%d] must be a string, not %s", path, i, e.kindName())
			}
			list[i], offs[i] = e.text, e.off
		}
		return list, offs, nil
	}
	return nil, nil, p.errorf(n.off, "%s must be a string or a list of strings, not %s", path, n.kindName())
}

func (p *parser) actions(m *member, path string) ([]string, error) {
	path += "." + m.key
	list, offs, err := p.stringList(&m.val, path)
	if err != nil {
		return nil, err
	}
	for i, a := range list {
		if !validAction(a) {
			return nil, p.errorf(offs[i], `%s: %q is not an action; want "*" or service:action, e.g. "profile:SearchProfiles"`, path, a)
		}
	}
	return list, nil
}

// validAction reports whether a is "*" or service:action where service is
// letters, digits and '-' and action is not empty.
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return false
	}
	for _, c := range svc {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (p *parser) resources(m *member, path string) ([]string, error) {
	path += "." + m.key
	list, offs, err := p.stringList(&m.val, path)
	if err != nil {
		return nil, err
	}
	for i, r := range list {
		if r != "*" && !isARN(r) {
			return nil, p.errorf(offs[i], `%s: %q is not a resource; want "*" or an ARN (arn:partition:service:region:account:resource)`, path, r)
		}
	}
	return list, nil
}

// isARN reports whether s has the six colon-separated parts of an ARN, the
// first being "arn". Parts may hold wildcards.
func isARN(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Count(s, ":") >= 5
}

func (p *parser) principals(m *member, path string) (*Principals, error) {
	path += "." + m.key
	switch m.val.kind {
	case kindString:
		if m.val.text != "*" {
			return nil, p.errorf(m.val.off, `%s must be "*" or an object such as {"AWS": "123456789012"}, not %q`, path, m.val.text)
		}
		return &Principals{All: true}, nil
	case kindObject:
	default:
		return nil, p.errorf(m.val.off, `%s must be "*" or an object such as {"AWS": "123456789012"}, not %s`, path, m.val.kindName())
	}
	if len(m.val.members) == 0 {
		return nil, p.errorf(m.val.off, "%s must name at least one principal", path)
	}
	ps := &Principals{}
	for i := range m.val.members {
		pm := &m.val.members[i]
		sub := path + "." + pm.key
		switch pm.key {
		case "AWS":
			list, offs, err := p.stringList(&pm.val, sub)
			if err != nil {
				return nil, err
			}
			for j, v := range list {
				if v != "*" && !isAccountID(v) && !(isARN(v) && !strings.ContainsAny(v, "*?")) {
					return nil, p.errorf(offs[j], `%s: %q must be "*", a 12-digit account id or an ARN without wildcards (use a condition on aws:PrincipalArn to match patterns)`, sub, v)
				}
			}
			ps.AWS = list
		case "Service":
			list, offs, err := p.stringList(&pm.val, sub)
			if err != nil {
				return nil, err
			}
			for j, v := range list {
				if v == "" || strings.ContainsAny(v, "*? ") {
					return nil, p.errorf(offs[j], "%s: %q must be a service principal such as profile.amazonaws.com", sub, v)
				}
			}
			ps.Service = list
		default:
			return nil, p.unknown(pm, "principal type", path, "AWS", "Service")
		}
	}
	return ps, nil
}

// isAccountID reports whether s is a 12-digit AWS account id.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkSize rejects a policy whose compact form is over MaxPolicySize,
// pointing at the first statement that does not fit.
func (p *parser) checkSize(pol *Policy, stmts *node) error {
	var ends []int
	b, err := pol.appendJSON(nil, &ends)
	if err != nil {
		return p.errorf(stmts.off, "%v", err)
	}
	if len(b) <= MaxPolicySize {
		return nil
	}
	off := stmts.off
	if stmts.kind == kindArray {
		for i, end := range ends {
			if end > MaxPolicySize || i == len(ends)-1 {
				off = stmts.elems[i].off
				break
			}
		}
	}
	return p.errorf(off, "policy is %d bytes without whitespace; the limit is %d", len(b), MaxPolicySize)
}
