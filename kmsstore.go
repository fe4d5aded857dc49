package profiles

import (
	"context"
	"time"
)

// States of a key of the built-in key manager, as KeyMetadata.State and the
// KMS API name them.
const (
	KeyStateEnabled         = "Enabled"
	KeyStateDisabled        = "Disabled"
	KeyStatePendingDeletion = "PendingDeletion"
)

// KMSKey is a key of the built-in key manager (localkms) as its store keeps
// it. The store never sees key material in plaintext: WrappedMaterial is the
// material encrypted under the key manager's root key.
type KMSKey struct {
	KeyID           string // a UUID
	ARN             string // arn:aws:kms:{region}:{account}:key/{KeyID}
	Description     string
	State           string // KeyStateEnabled, KeyStateDisabled or KeyStatePendingDeletion
	KeySpec         string // SYMMETRIC_DEFAULT
	KeyUsage        string // ENCRYPT_DECRYPT
	WrappedMaterial []byte // opaque to the store, read back byte for byte
	Policy          string // the key policy, a JSON document
	Tags            map[string]string
	CreatedAt       time.Time
	DeletionDate    time.Time // when a PendingDeletion key goes; zero otherwise
}

// KMSAlias is a friendly name of a key: alias/…, unique in the store.
type KMSAlias struct {
	Name          string // alias/…
	KeyID         string // the key it names
	CreatedAt     time.Time
	LastUpdatedAt time.Time
}

// KMSGrant lets a principal use a key for some operations, as a KMS grant.
type KMSGrant struct {
	GrantID           string
	Token             string // secret; unique in the store
	KeyID             string
	Name              string
	GranteePrincipal  string
	RetiringPrincipal string
	IssuingAccount    string   // arn:aws:iam::{account}:root
	Operations        []string // Decrypt, Encrypt, GenerateDataKey, …
	// Constraints on the encryption context of the operations it allows:
	// exactly these pairs (EncryptionContextEquals) or at least these pairs
	// (EncryptionContextSubset). Nil or empty: none.
	EncryptionContextEquals map[string]string
	EncryptionContextSubset map[string]string
	CreatedAt               time.Time
}

// KMSStore is the persistence SPI of the built-in key manager: keys,
// aliases and grants. Every implementation passes the KMS cases of the
// conformance suite in package storetest. Every method is one transaction.
// Times are kept to the millisecond and read back in UTC; a zero CreatedAt
// (and a zero LastUpdatedAt of an alias) becomes the store's current time,
// written back into the argument. Empty maps and slices may read back as
// nil.
//
// Deleting a key deletes its aliases and grants with it.
type KMSStore interface {
	// CreateKMSKey inserts k. Returns ECONFLICT if a key of that id exists.
	CreateKMSKey(ctx context.Context, k *KMSKey) error

	// FindKMSKey returns the key of the given id (not an ARN or an alias).
	// Returns ENOTFOUND.
	FindKMSKey(ctx context.Context, keyID string) (*KMSKey, error)

	// UpdateKMSKey reads the key, calls fn on it and stores the result, all
	// in one transaction, and returns the key as FindKMSKey would. fn's
	// error aborts the update and is returned as is; fn must be quick and
	// must not call the store. fn may change Description, State, Policy,
	// Tags and DeletionDate; changing KeyID, ARN or WrappedMaterial returns
	// EINVALID and changes nothing. Returns ENOTFOUND.
	UpdateKMSKey(ctx context.Context, keyID string, fn func(*KMSKey) error) (*KMSKey, error)

	// DeleteKMSKey deletes the key with its aliases and grants. Returns
	// ENOTFOUND.
	DeleteKMSKey(ctx context.Context, keyID string) error

	// ListKMSKeys returns up to limit keys (limit <= 0: all) whose ids sort
	// after after ("" for the start), in byte order of their ids.
	ListKMSKeys(ctx context.Context, after string, limit int) ([]*KMSKey, error)

	// CreateKMSAlias inserts a. Returns ECONFLICT if the name is taken and
	// ENOTFOUND if its key does not exist.
	CreateKMSAlias(ctx context.Context, a *KMSAlias) error

	// FindKMSAlias returns the named alias. Returns ENOTFOUND.
	FindKMSAlias(ctx context.Context, name string) (*KMSAlias, error)

	// UpdateKMSAlias points the named alias at the key keyID and sets its
	// LastUpdatedAt to updatedAt (zero: the store's current time). Returns
	// ENOTFOUND, naming what is missing, for the alias or the key.
	UpdateKMSAlias(ctx context.Context, name, keyID string, updatedAt time.Time) (*KMSAlias, error)

	// DeleteKMSAlias deletes the named alias. Returns ENOTFOUND.
	DeleteKMSAlias(ctx context.Context, name string) error

	// ListKMSAliases returns up to limit aliases (limit <= 0: all) whose
	// names sort after after, in byte order of their names: those of the
	// key keyID, or all of them when keyID is "". A missing key has no
	// aliases.
	ListKMSAliases(ctx context.Context, keyID, after string, limit int) ([]*KMSAlias, error)

	// CreateKMSGrant inserts g. Returns ENOTFOUND if its key does not
	// exist and ECONFLICT if its id or token is taken.
	CreateKMSGrant(ctx context.Context, g *KMSGrant) error

	// FindKMSGrant returns the grant of the key keyID with the given id.
	// Returns ENOTFOUND.
	FindKMSGrant(ctx context.Context, keyID, grantID string) (*KMSGrant, error)

	// FindKMSGrantByToken returns the grant of the given token. Returns
	// ENOTFOUND.
	FindKMSGrantByToken(ctx context.Context, token string) (*KMSGrant, error)

	// ListKMSGrants returns up to limit grants (limit <= 0: all) of the key
	// keyID whose ids sort after after, in byte order of their ids. Returns
	// ENOTFOUND if the key does not exist.
	ListKMSGrants(ctx context.Context, keyID, after string, limit int) ([]*KMSGrant, error)

	// DeleteKMSGrant deletes the grant of the key keyID with the given id.
	// Returns ENOTFOUND.
	DeleteKMSGrant(ctx context.Context, keyID, grantID string) error
}
