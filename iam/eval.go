package iam

import (
	"strconv"
	"strings"
)

// match is how a statement matches a request.
type match int

const (
	noMatch match = iota
	// matched: the statement applies to the request.
	matched
	// viaAccount: the statement applies only because it names the caller's
	// account (an account id or arn:aws:iam::<account>:root). In a resource
	// policy, such an Allow delegates to the account's identity policies
	// instead of granting by itself, as in AWS.
	viaAccount
)

// evaluator evaluates the statements of one policy for one request.
type evaluator struct {
	r    *Request
	vars bool // expand policy variables (Version 2012-10-17)
}

// Evaluate returns the decision of p for r: Deny if a Deny statement
// matches, else Allow if an Allow statement matches, else NotApplicable.
//
// A statement matches when its Action (or NotAction), Resource (or
// NotResource), Principal (or NotPrincipal) and all its Conditions match. A
// statement without Principal and NotPrincipal matches every principal, as
// in identity policies; Authorize is stricter for resource policies.
func (p *Policy) Evaluate(r *Request) Decision {
	if p == nil || r == nil {
		return NotApplicable
	}
	e := evaluator{r: r, vars: p.Version == Version2012}
	d := NotApplicable
	for i := range p.Statements {
		s := &p.Statements[i]
		if e.statement(s, false) == noMatch {
			continue
		}
		if s.Effect == EffectDeny {
			return Deny
		}
		d = Allow
	}
	return d
}

// Authorize decides r given the identity policies of the caller and the
// resource policies of the resource (either may be empty): an explicit Deny
// in any policy wins; otherwise an Allow in any policy allows; otherwise the
// request is denied by default.
//
// Two rules follow AWS for resource policies. An Allow statement that names
// the caller only through its account (an account id or
// arn:aws:iam::<account>:root) delegates to the account's identity
// policies and does not allow by itself, unless the caller is that account's
// root. A resource-policy statement without Principal or NotPrincipal (which
// ParseResourcePolicy rejects) never allows and, if it is a Deny, denies
// everyone.
//
// The reason is for logs, never for callers: "explicitly denied by
// statement <Sid or index> (<identity|resource> policy <n>)", "allowed by
// statement <Sid or index> (...)" or "no policy allows".
func Authorize(r *Request, identity []*Policy, resource []*Policy) (bool, string) {
	d, reason := Decide(r, identity, resource)
	return d == Allow, reason
}

// Decide is Authorize, telling an explicit Deny (Deny) from a request no
// policy allows (NotApplicable).
func Decide(r *Request, identity []*Policy, resource []*Policy) (Decision, string) {
	if r == nil {
		return NotApplicable, "no request"
	}
	for i, p := range identity {
		if j, _ := scan(p, r, EffectDeny, false); j >= 0 {
			return Deny, "explicitly denied by " + stmtName(p, j, "identity", i)
		}
	}
	for i, p := range resource {
		if j, _ := scan(p, r, EffectDeny, true); j >= 0 {
			return Deny, "explicitly denied by " + stmtName(p, j, "resource", i)
		}
	}
	for i, p := range identity {
		if j, _ := scan(p, r, EffectAllow, false); j >= 0 {
			return Allow, "allowed by " + stmtName(p, j, "identity", i)
		}
	}
	reason := "no policy allows"
	delegated := false
	for i, p := range resource {
		j, m := scan(p, r, EffectAllow, true)
		switch {
		case m == matched:
			return Allow, "allowed by " + stmtName(p, j, "resource", i)
		case m == viaAccount && !delegated:
			delegated = true
			reason += " (" + stmtName(p, j, "resource", i) + " names the caller's account, which delegates to identity policies)"
		}
	}
	return NotApplicable, reason
}

// EvaluateResource returns the decision of p as a resource policy for r,
// read as Authorize reads resource policies: Deny if a Deny statement
// matches; Allow if an Allow statement matches, with byAccount set when
// every Allow that matches names the caller only through its account (an
// account id or arn:aws:iam::<account>:root, the caller not being that
// root), which lets the account's identity policies decide rather than
// allowing by itself; else NotApplicable. An Allow statement without
// Principal or NotPrincipal matches no one. The reason names the statement,
// for logs.
func (p *Policy) EvaluateResource(r *Request) (d Decision, byAccount bool, reason string) {
	if p == nil || r == nil {
		return NotApplicable, false, "no policy"
	}
	if j, _ := scan(p, r, EffectDeny, true); j >= 0 {
		return Deny, false, "explicitly denied by " + stmtName(p, j, "resource", 0)
	}
	switch j, m := scan(p, r, EffectAllow, true); m {
	case matched:
		return Allow, false, "allowed by " + stmtName(p, j, "resource", 0)
	case viaAccount:
		return Allow, true, stmtName(p, j, "resource", 0) + " names the caller's account, which delegates to identity policies"
	}
	return NotApplicable, false, "no statement allows"
}

// scan returns the index of the first statement of p with the given effect
// that matches r, preferring a full match over a match via the account.
func scan(p *Policy, r *Request, effect string, resourcePolicy bool) (int, match) {
	if p == nil {
		return -1, noMatch
	}
	e := evaluator{r: r, vars: p.Version == Version2012}
	first := -1
	for i := range p.Statements {
		s := &p.Statements[i]
		if s.Effect != effect {
			continue
		}
		switch e.statement(s, resourcePolicy) {
		case matched:
			return i, matched
		case viaAccount:
			if first < 0 {
				first = i
			}
		}
	}
	if first >= 0 {
		return first, viaAccount
	}
	return -1, noMatch
}

// stmtName names statement j of p for reasons: its Sid, else its index.
func stmtName(p *Policy, j int, kind string, i int) string {
	name := p.Statements[j].Sid
	if name == "" {
		name = strconv.Itoa(j)
	}
	return "statement " + name + " (" + kind + " policy " + strconv.Itoa(i) + ")"
}

// statement reports how s matches the request. For Evaluate, deny and allow
// statements match the same way; the viaAccount distinction matters only
// to Authorize.
func (e *evaluator) statement(s *Statement, resourcePolicy bool) match {
	if s.Effect != EffectAllow && s.Effect != EffectDeny {
		return noMatch
	}
	if !e.action(s) || !e.resource(s) {
		return noMatch
	}
	m := e.principal(s, resourcePolicy)
	if m == noMatch {
		return noMatch
	}
	for i := range s.Conditions {
		if !e.condition(&s.Conditions[i]) {
			return noMatch
		}
	}
	if s.Effect == EffectDeny {
		return matched // a Deny naming the account applies to all its principals
	}
	return m
}

func (e *evaluator) action(s *Statement) bool {
	switch {
	case s.Actions != nil:
		for _, a := range s.Actions {
			if matchAction(a, e.r.Action) {
				return true
			}
		}
		return false
	case s.NotActions != nil:
		for _, a := range s.NotActions {
			if matchAction(a, e.r.Action) {
				return false
			}
		}
		return true
	}
	return false
}

func (e *evaluator) resource(s *Statement) bool {
	switch {
	case s.Resources != nil:
		for _, pat := range s.Resources {
			if e.resourceMatches(pat) {
				return true
			}
		}
		return false
	case s.NotResources != nil:
		for _, pat := range s.NotResources {
			if e.resourceMatches(pat) {
				return false
			}
		}
		return true
	}
	return false
}

// resourceMatches matches the request's resource against a Resource
// pattern: case-sensitive, with '*' and '?' and policy variables.
func (e *evaluator) resourceMatches(pattern string) bool {
	pat, esc, ok := e.expand(pattern, true)
	return ok && globMatch(pat, e.r.Resource, esc, false)
}

func (e *evaluator) principal(s *Statement, resourcePolicy bool) match {
	switch {
	case s.Principal != nil:
		return principalMatch(s.Principal, e.r.Principal)
	case s.NotPrincipal != nil:
		if principalMatch(s.NotPrincipal, e.r.Principal) != noMatch {
			return noMatch
		}
		return matched
	case resourcePolicy && s.Effect == EffectAllow:
		return noMatch
	}
	return matched
}

// principalMatch matches a request principal against a Principal element.
// "*" (or an AWS "*") matches everyone, an ARN matches itself, a service
// name matches the service principal (ignoring case), and an account id or
// account root ARN matches every principal ARN of that account (viaAccount
// unless the caller is the root itself).
func principalMatch(ps *Principals, principal string) match {
	if ps.All {
		return matched
	}
	best := noMatch
	for _, a := range ps.AWS {
		if a == "*" || a == principal {
			return matched
		}
		partition, account, ok := accountPrincipal(a)
		if !ok {
			continue
		}
		pPart, pSvc, pAcct, pRes, ok := arnParts(principal)
		if !ok || pAcct != account || (partition != "" && pPart != partition) {
			continue
		}
		if pSvc == "iam" && pRes == "root" {
			return matched
		}
		best = viaAccount
	}
	for _, svc := range ps.Service {
		if strings.EqualFold(svc, principal) {
			return matched
		}
	}
	return best
}

// accountPrincipal returns the account of an account principal: a 12-digit
// id (any partition) or arn:<partition>:iam::<account>:root.
func accountPrincipal(a string) (partition, account string, ok bool) {
	if isAccountID(a) {
		return "", a, true
	}
	partition, service, account, resource, ok := arnParts(a)
	if !ok || service != "iam" || resource != "root" || account == "" {
		return "", "", false
	}
	return partition, account, true
}

// lookup returns the values of a condition key: from the request context,
// whose keys match case-insensitively (an exact spelling first, then the
// smallest of the spellings that differ only in case), else derived from
// the principal. A key with no values is absent.
func (e *evaluator) lookup(key string) ([]string, bool) {
	ctx := e.r.Context
	if v, ok := ctx[key]; ok {
		return v, len(v) > 0
	}
	var found string
	var values []string
	hit := false
	for k, v := range ctx {
		if strings.EqualFold(k, key) && (!hit || k < found) {
			found, values, hit = k, v, true
		}
	}
	if hit {
		return values, len(values) > 0
	}
	return e.derived(key)
}

// derived returns the keys that follow from the request principal.
func (e *evaluator) derived(key string) ([]string, bool) {
	principal := e.r.Principal
	_, service, account, resource, isARN := arnParts(principal)
	switch {
	case strings.EqualFold(key, "aws:PrincipalArn") && isARN:
		return []string{principal}, true
	case strings.EqualFold(key, "aws:PrincipalAccount") && isARN && account != "":
		return []string{account}, true
	case strings.EqualFold(key, "aws:username") && isARN && service == "iam" && strings.HasPrefix(resource, "user/"):
		return []string{resource[strings.LastIndexByte(resource, '/')+1:]}, true
	case strings.EqualFold(key, "aws:PrincipalServiceName") && !isARN && principal != "":
		return []string{principal}, true
	}
	return nil, false
}
