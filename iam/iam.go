// Package iam is the IAM-style policy language of OpenProfiles: the parser
// and evaluator behind identity policies, KMS key policies and SQS queue
// policies.
//
// The package is pure: it reads no clock, no environment and no files, and
// depends on the standard library only. Whatever time-dependent or
// request-dependent fact a condition tests (aws:CurrentTime, aws:SourceIp,
// aws:SecureTransport, aws:SourceAccount, ...) is passed in Request.Context by
// the caller.
//
// # Documents
//
// Parse accepts the AWS policy grammar: Version ("2012-10-17" or
// "2008-10-17"; absent means 2008-10-17, as in AWS), Id, and Statement as one
// object or a list of at most MaxStatements objects. Each statement has Sid,
// Effect, Principal or NotPrincipal, Action or NotAction (exactly one),
// Resource or NotResource (exactly one) and Condition. Unknown elements,
// duplicate JSON keys and values of the wrong type are rejected with a
// *SyntaxError naming the element and its line and column.
//
// Size: a document may be at most MaxPolicySize (10,240) bytes in its
// compact form (as MarshalJSON writes it), so that, as in AWS, whitespace
// does not count; the raw input may be at most MaxDocumentBytes. For
// comparison AWS allows 6,144 characters for a managed policy, 10,240 for
// the inline policies of a role and 32 KB for a KMS key policy: 10,240
// holds the key and queue policies OpenProfiles writes with room to spare,
// and keeps parsing and evaluation cheap. The compact form also bounds what
// MarshalJSON writes, so a policy that parsed always parses again.
//
// Parse accepts both kinds of policy; ParseIdentityPolicy also rejects
// Principal and NotPrincipal, ParseResourcePolicy requires one of them in
// every statement.
//
// # Evaluation
//
// Policy.Evaluate gives the decision of one policy; Authorize combines
// identity and resource policies: an explicit Deny anywhere wins, then an
// Allow from any policy, else the request is denied by default. The reasons
// Authorize returns are for logs only. A parsed Policy is not modified by
// evaluation and may be used by many goroutines at once.
package iam

import "fmt"

// Limits on policy documents.
const (
	// MaxPolicySize is the largest policy, in bytes, in its compact form
	// (the form MarshalJSON writes: no whitespace, minimal escapes).
	MaxPolicySize = 10240

	// MaxDocumentBytes is the largest raw document Parse reads, whitespace
	// included.
	MaxDocumentBytes = 65536

	// MaxStatements is the largest number of statements in one policy.
	MaxStatements = 100
)

// Policy versions.
const (
	Version2012 = "2012-10-17" // current; policy variables are expanded
	Version2008 = "2008-10-17" // legacy; "${...}" is literal text
)

// Statement effects.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Policy is a parsed policy document.
type Policy struct {
	Version    string // "2012-10-17", "2008-10-17" or "" (absent)
	ID         string // the Id element
	Statements []Statement
}

// Statement is one statement of a policy. Lists are nil when the element is
// absent and never empty when it is present.
type Statement struct {
	Sid    string
	Effect string // EffectAllow or EffectDeny

	// Principal and NotPrincipal are for resource policies; both are nil in
	// identity policies.
	Principal    *Principals
	NotPrincipal *Principals

	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string

	// Conditions are ANDed, in document order.
	Conditions []Condition
}

// Principals is the value of a Principal or NotPrincipal element.
type Principals struct {
	All     bool     // "Principal": "*"
	AWS     []string // "*", account ids ("123456789012") or ARNs, as written
	Service []string // service principals, e.g. "profile.amazonaws.com"
}

// Condition is one key of one condition operator block, for example
// {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["team*", "env"]}}.
type Condition struct {
	Operator     string // base name, e.g. "StringLike" (no prefix, no IfExists)
	IfExists     bool
	ForAllValues bool
	ForAnyValue  bool
	Key          string
	Values       []string // numbers and booleans as written: 10, true → "10", "true"
}

// OperatorName returns the name of c's operator as written in a policy, for
// example "ForAnyValue:StringLikeIfExists".
func (c *Condition) OperatorName() string {
	name := c.Operator
	if c.IfExists {
		name += "IfExists"
	}
	switch {
	case c.ForAllValues:
		name = "ForAllValues:" + name
	case c.ForAnyValue:
		name = "ForAnyValue:" + name
	}
	return name
}

// Request is what is being authorised.
type Request struct {
	// Principal is the ARN of the caller (arn:aws:iam::000000000000:user/alice)
	// or a service principal (profile.amazonaws.com).
	Principal string

	// Action is the action requested, e.g. "profile:SearchProfiles",
	// "kms:Decrypt", "sqs:SendMessage". Actions match case-insensitively.
	Action string

	// Resource is the ARN of the resource, or "*" for actions that have none.
	Resource string

	// Context holds the condition keys of the request (aws:SourceIp,
	// aws:CurrentTime, aws:SecureTransport, aws:SourceAccount, aws:SourceArn,
	// aws:RequestTag/<k>, aws:ResourceTag/<k>, ...). Key names match
	// case-insensitively. A key with no values is treated as absent.
	//
	// When absent from Context, aws:PrincipalArn, aws:PrincipalAccount and
	// aws:username (for IAM user ARNs) are derived from Principal, and
	// aws:PrincipalServiceName from a service principal.
	Context map[string][]string
}

// Decision is the outcome of evaluating one policy.
type Decision int

// Decisions.
const (
	NotApplicable Decision = iota // no statement matches
	Allow                         // an Allow statement matches and no Deny does
	Deny                          // a Deny statement matches (explicit deny)
)

// String returns "NotApplicable", "Allow" or "Deny".
func (d Decision) String() string {
	switch d {
	case NotApplicable:
		return "NotApplicable"
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// SyntaxError is an error in a policy document. Line and Column are 1-based;
// Column counts characters (Unicode code points), not bytes.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

// Error returns "line L column C: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Msg)
}
