package profiles

import (
	"context"
	"time"
)

// ServicePrincipal is the principal OpenProfiles acts as towards key
// managers and queues, as Customer Profiles does on AWS.
const ServicePrincipal = "profile.amazonaws.com"

// KeyMetadata describes a KMS key.
type KeyMetadata struct {
	KeyID       string
	ARN         string
	State       string // Enabled, Disabled, PendingDeletion, …
	Description string
	Aliases     []string // alias names (alias/…), when the key manager lists them
	CreatedAt   time.Time
}

// KeyManager is the SPI of key management: the built-in localkms or an
// external AWS-KMS-compatible service (awskms). Every implementation passes
// the conformance suite in package keytest. A key is named by key id, key
// ARN, alias name (alias/…) or alias ARN.
//
// Errors: ENOTFOUND for a key that does not exist; EFORBIDDEN when the key
// exists but may not be used (disabled, pending deletion, or its policy
// does not allow the caller); EINVALID for a ciphertext that does not
// decrypt under the key and context.
type KeyManager interface {
	// DescribeKey returns a key's metadata.
	DescribeKey(ctx context.Context, keyID string) (*KeyMetadata, error)

	// GenerateDataKey returns a new 256-bit data key, in plaintext and
	// encrypted under the key, bound to the encryption context.
	GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) (plaintext, ciphertext []byte, err error)

	// Decrypt returns the plaintext of a ciphertext made by GenerateDataKey
	// under the same key and encryption context.
	Decrypt(ctx context.Context, keyID string, ciphertext []byte, encryptionContext map[string]string) ([]byte, error)

	// CheckServiceAccess returns nil when the key's policy lets
	// ServicePrincipal use the key (kms:GenerateDataKey, kms:Decrypt,
	// kms:CreateGrant) for the resource sourceARN of account sourceAccount
	// (the aws:SourceArn and aws:SourceAccount condition keys), and an
	// EFORBIDDEN error saying what is missing otherwise. A key manager that
	// cannot read policies tries the operations instead.
	CheckServiceAccess(ctx context.Context, keyID, sourceAccount, sourceARN string) error
}

// RootARN returns the ARN of an account's root user.
func RootARN(accountID string) string { return "arn:aws:iam::" + accountID + ":root" }
