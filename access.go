package profiles

import "context"

// AuthRequest is a call to authorise: who does what to which resource, with
// the condition keys of the request (aws:SourceIp, aws:CurrentTime, …).
type AuthRequest struct {
	Principal string // ARN of the caller
	Action    string // e.g. "profile:SearchProfiles", "kms:Decrypt", "iam:CreateUser"
	Resource  string // ARN, or "*"
	Context   map[string][]string
	RequestID string // for the audit trail
	// Tags, when set, returns the condition keys that cost work to find
	// (aws:RequestTag/…, aws:TagKeys and aws:ResourceTag/…: a read of the
	// request body and of the resource's tags). The Authorizer adds them to
	// Context before it evaluates any policy, and does not call it for the
	// account root, which no policy restricts. An error (the tags could
	// not be read) refuses the request rather than evaluate without them.
	Tags func(ctx context.Context) (map[string][]string, error)
}

// Authorizer decides whether a caller may act, from the caller's identity
// policies and, for a key of a key manager that reads its own key policies
// (KeyPolicyChecker), the key's policy and grants, as AWS KMS decides. The
// account's root principal may do everything.
type Authorizer interface {
	// Authorize returns nil when the request is allowed and an EFORBIDDEN
	// error naming the action and the resource (never the policy) when not.
	Authorize(ctx context.Context, r *AuthRequest) error
}

// KeyDecision is a key manager's decision on a request on one of its keys.
type KeyDecision struct {
	Allowed bool
	// ByGrant: a grant of the key allowed the request, and no statement of
	// its policy did (CreateGrant through a grant may give no more than
	// that grant).
	ByGrant bool
	Reason  string // for logs, never for callers
}

// KeyPolicyChecker is implemented by key managers that can evaluate a key's
// own policy and grants (the built-in KMS); an external key manager
// cannot, and then the identity policies alone decide.
type KeyPolicyChecker interface {
	// DecideKey decides, as AWS KMS does, whether the principal may
	// perform the action on the key, for a principal whose identity
	// policies do not deny it explicitly (the caller checks that first,
	// and refuses on such a Deny): an explicit Deny of the key policy
	// refuses; else a statement naming the principal itself (its ARN, or
	// "*") allows, with no identity policy; else a statement naming the
	// principal's account (arn:aws:iam::ACCOUNT:root, or the account id)
	// allows when identityAllows (the principal's identity policies allow
	// the action: the key policy lets them count); else a grant to the
	// principal for the operation, whose constraints the encryption
	// context of cond (kms:EncryptionContext:…) meets, allows; else the
	// request is refused, whatever the identity policies say. cond holds
	// the request's condition keys. Returns ENOTFOUND.
	DecideKey(ctx context.Context, keyID, principal, action string, cond map[string][]string, identityAllows bool) (KeyDecision, error)
}

// IAMService manages the account's principals, their access keys and their
// inline identity policies.
type IAMService interface {
	// CreatePrincipal creates a user or a role. Returns EINVALID for a bad
	// name and ECONFLICT when the name is taken.
	CreatePrincipal(ctx context.Context, typ, name string) (*Principal, error)
	// GetPrincipal returns a principal of the type. Returns ENOTFOUND.
	GetPrincipal(ctx context.Context, typ, name string) (*Principal, error)
	// ListPrincipals returns one page of the principals of the type.
	ListPrincipals(ctx context.Context, typ string, page Page) ([]*Principal, string, error)
	// DeletePrincipal deletes a principal with its keys and policies. Returns ENOTFOUND.
	DeletePrincipal(ctx context.Context, typ, name string) error

	// CreateAccessKey makes a new active access key for a principal and
	// returns it with its secret (shown this once). Returns ENOTFOUND and
	// EQUOTA (two active keys already).
	CreateAccessKey(ctx context.Context, principal string) (*AccessKey, string, error)
	// ListAccessKeys returns a principal's access keys. Returns ENOTFOUND.
	ListAccessKeys(ctx context.Context, principal string) ([]*AccessKey, error)
	// UpdateAccessKey sets a key Active or Inactive. Returns ENOTFOUND,
	// EINVALID, EQUOTA.
	UpdateAccessKey(ctx context.Context, principal, id, status string) error
	// DeleteAccessKey deletes a key. Returns ENOTFOUND.
	DeleteAccessKey(ctx context.Context, principal, id string) error
	// GetAccessKey returns an access key by id (its owner, status and
	// LastUsedAt: the last minute a request signed with it verified, as
	// recorded at most once a minute). Returns ENOTFOUND.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)

	// PutPolicy attaches (or replaces) an inline policy. Returns ENOTFOUND,
	// and EINVALID for a malformed document with the position of the error.
	PutPolicy(ctx context.Context, principal, name, document string) error
	// GetPolicy returns an inline policy. Returns ENOTFOUND.
	GetPolicy(ctx context.Context, principal, name string) (*PrincipalPolicy, error)
	// ListPolicies returns the names of a principal's inline policies.
	ListPolicies(ctx context.Context, principal string) ([]string, error)
	// DeletePolicy detaches an inline policy. Returns ENOTFOUND.
	DeletePolicy(ctx context.Context, principal, name string) error
}
