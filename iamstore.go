package profiles

import (
	"context"
	"time"
)

// Principal types.
const (
	PrincipalUser = "user"
	PrincipalRole = "role"
)

// Access key statuses.
const (
	AccessKeyActive   = "Active"
	AccessKeyInactive = "Inactive"
)

// MaxActiveAccessKeys is how many active access keys a principal may have.
const MaxActiveAccessKeys = 2

// Principal is an IAM user or role of the account.
type Principal struct {
	Name      string // unique among users and roles: ^[\w+=,.@-]{1,64}$
	Type      string // PrincipalUser or PrincipalRole
	ID        string // AWS-style unique id (AIDA… for users, AROA… for roles)
	ARN       string // arn:aws:iam::{account}:user/{name} or …:role/{name}
	CreatedAt time.Time
}

// AccessKey is a SigV4 access key of a principal. SealedSecret is the
// secret access key encrypted by the service; stores keep it as it is.
type AccessKey struct {
	ID            string // AKIA… 20 characters
	PrincipalName string
	SealedSecret  []byte
	Status        string // AccessKeyActive or AccessKeyInactive
	CreatedAt     time.Time
	LastUsedAt    time.Time
}

// PrincipalPolicy is an inline identity policy of a principal.
type PrincipalPolicy struct {
	PrincipalName string
	PolicyName    string // ^[\w+=,.@-]{1,128}$
	Document      string // IAM policy JSON
	UpdatedAt     time.Time
}

// RevocationGrace is how long a revoked console session stays recorded
// after it expired: nodes whose clocks run behind the store's still refuse
// it.
const RevocationGrace = 10 * time.Minute

// IAMStore persists principals, access keys and identity policies. Every
// store implements it and passes its cases in storetest. A zero CreatedAt or
// UpdatedAt becomes the store's now, written back into the argument; an
// unknown principal type or key status is EINVALID.
type IAMStore interface {
	// CreatePrincipal inserts a principal. Returns ECONFLICT when a user or
	// role of that name exists.
	CreatePrincipal(ctx context.Context, p *Principal) error
	// FindPrincipal returns a principal by name. Returns ENOTFOUND.
	FindPrincipal(ctx context.Context, name string) (*Principal, error)
	// ListPrincipals returns principals of a type ("" for all) named after
	// after, in byte order, up to limit (<= 0: all).
	ListPrincipals(ctx context.Context, typ, after string, limit int) ([]*Principal, error)
	// DeletePrincipal deletes a principal with its access keys and
	// policies, in one transaction. Returns ENOTFOUND.
	DeletePrincipal(ctx context.Context, name string) error

	// CreateAccessKey inserts an access key. Returns ENOTFOUND for a missing
	// principal, ECONFLICT for a duplicate id and EQUOTA when the principal
	// has MaxActiveAccessKeys active keys already (checked atomically).
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	// FindAccessKey returns an access key by id. Returns ENOTFOUND.
	FindAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// ListAccessKeys returns the access keys of a principal, oldest first.
	// Returns ENOTFOUND for a missing principal.
	ListAccessKeys(ctx context.Context, principal string) ([]*AccessKey, error)
	// UpdateAccessKeyStatus sets the status of a principal's access key.
	// Returns ENOTFOUND, and EQUOTA when activating would exceed
	// MaxActiveAccessKeys.
	UpdateAccessKeyStatus(ctx context.Context, principal, id, status string) error
	// TouchAccessKey records that the key was used at t (zero: now); it
	// never goes backwards, and a missing key is not an error.
	TouchAccessKey(ctx context.Context, id string, t time.Time) error
	// DeleteAccessKey deletes a principal's access key. Returns ENOTFOUND.
	DeleteAccessKey(ctx context.Context, principal, id string) error

	// RevokeSession records that the console session of this id (its
	// nonce) was ended before it expires; revoking it again changes
	// nothing. Revocations whose expiry passed RevocationGrace ago (by the
	// store's clock) may be dropped, here or later, never sooner.
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	// SessionRevoked reports whether the session of this id was revoked.
	SessionRevoked(ctx context.Context, id string) (bool, error)

	// PutPrincipalPolicy inserts or replaces an inline policy. Returns
	// ENOTFOUND for a missing principal.
	PutPrincipalPolicy(ctx context.Context, p *PrincipalPolicy) error
	// FindPrincipalPolicy returns one inline policy. Returns ENOTFOUND.
	FindPrincipalPolicy(ctx context.Context, principal, name string) (*PrincipalPolicy, error)
	// ListPrincipalPolicies returns a principal's inline policies in name
	// order. Returns ENOTFOUND for a missing principal.
	ListPrincipalPolicies(ctx context.Context, principal string) ([]*PrincipalPolicy, error)
	// DeletePrincipalPolicy deletes an inline policy. Returns ENOTFOUND.
	DeletePrincipalPolicy(ctx context.Context, principal, name string) error
}
