// Package localkms is the built-in key manager of OpenProfiles: a
// profiles.KeyManager over a profiles.KMSStore that also serves a subset of
// the AWS KMS JSON API (Handler), so that the AWS CLI and SDKs manage its
// keys as they would AWS KMS keys.
//
// # Keys and the root key
//
// Every key is a symmetric key (key spec SYMMETRIC_DEFAULT, usage
// ENCRYPT_DECRYPT) with 32 random bytes of key material. The store keeps
// the material wrapped: encrypted with AES-256-GCM under the root key (32
// bytes, KMS.RootKey), with the key ARN as authenticated data. The root key
// never goes to the store: LoadOrCreateRootKey reads it from the
// environment (OPENPROFILES_KMS_ROOT_KEY, base64) or from the file
// kms-root.key of the data dir (mode 0600), creating the file on first use.
// Losing the root key loses every key, and with them every piece of data
// encrypted under them; changing the region or account id changes the key
// ARNs, so the material no longer unwraps.
//
// Key ids are UUIDs, key ARNs arn:aws:kms:{region}:{account}:key/{id},
// aliases alias/{name} and alias ARNs arn:aws:kms:{region}:{account}:alias/{name}.
// Everywhere a key is named, any of the four forms is accepted.
//
// # Ciphertexts
//
// GenerateDataKey, Encrypt and ReEncrypt return a ciphertext blob of this
// package's format, version 1:
//
//	0x01 | len(key id) (1 byte) | key id | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// sealed under the key's material with, as authenticated data, the blob's
// header (version, length, key id) followed by the canonical encoding of
// the encryption context (canonicalContext). Decrypt finds the key from
// the blob, as AWS KMS does; a ciphertext that was changed, or that is
// decrypted with another encryption context, fails with
// InvalidCiphertextException (EINVALID). Encryption contexts are bound,
// not stored. Nonces are random, which bounds a key to about 2^32
// ciphertexts; the service caches data keys, so it asks for few.
//
// # States
//
// Enabled keys can be used. Disabled keys answer DisabledException and keys
// pending deletion KMSInvalidStateException (both EFORBIDDEN). A key whose
// deletion date has passed is deleted, with its aliases and grants, the
// next time it is looked up (or by DeleteDueKeys), and is then not found.
//
// # Policies
//
// Every key has a key policy. A key created without one gets the AWS
// default policy (DefaultPolicy): the account (arn:aws:iam::{account}:root)
// may do kms:* — which, as in AWS, gives the service principal
// profile.amazonaws.com nothing. Keys for Customer Profiles domains need
// the statement of ServicePolicy. CheckServiceAccess evaluates the key
// policy for the service principal. The methods of profiles.KeyManager
// (GenerateDataKey, Decrypt, DescribeKey) check the key's state but not
// its policy: they are the service's own calls, which check the policy
// through CheckServiceAccess. Calls through the KMS API (Handler), and the
// server's checks of kms:* actions of its callers (DecideKey), are decided
// as AWS KMS decides them: the key policy is the primary control. A Deny
// statement refuses; a statement naming the caller (its ARN) allows with no
// identity policy; a statement naming the caller's account
// (arn:aws:iam::{account}:root, as in DefaultPolicy) lets the caller's
// identity policies decide; a grant to the caller allows; else the call is
// refused, whatever the identity policies say (they can still refuse, with
// an explicit Deny).
package localkms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.KeyManager = (*KMS)(nil)

// Key spec, usage and the one encryption algorithm of the keys.
const (
	KeySpec             = "SYMMETRIC_DEFAULT"
	KeyUsage            = "ENCRYPT_DECRYPT"
	EncryptionAlgorithm = "SYMMETRIC_DEFAULT"
)

// Limits of the AWS KMS API that this package applies.
const (
	MaxPlaintextBytes  = 4096 // Encrypt
	MaxCiphertextBytes = 6144 // Decrypt, ReEncrypt
	MaxDataKeyBytes    = 1024 // GenerateDataKey NumberOfBytes
)

const (
	blobVersion = 0x01
	nonceSize   = 12
	rootKeySize = 32
	keySize     = 32
)

// KMS is the built-in key manager. Set the fields before use; they are
// read-only once in use, and a KMS is safe for concurrent use.
type KMS struct {
	Store     profiles.KMSStore
	Region    string // of the key ARNs
	AccountID string // of the key ARNs, 12 digits
	RootKey   []byte // 32 bytes; wraps the key material (LoadOrCreateRootKey)
	Now       func() time.Time
}

func (k *KMS) now() time.Time {
	if k.Now == nil {
		return time.Now().UTC()
	}
	return k.Now().UTC()
}

// KeyARN returns the ARN of the key id.
func (k *KMS) KeyARN(keyID string) string {
	return "arn:aws:kms:" + k.Region + ":" + k.AccountID + ":key/" + keyID
}

// AliasARN returns the ARN of the alias name (alias/…).
func (k *KMS) AliasARN(name string) string {
	return "arn:aws:kms:" + k.Region + ":" + k.AccountID + ":" + name
}

// rootARN is the principal of the account: arn:aws:iam::{account}:root.
func (k *KMS) rootARN() string { return "arn:aws:iam::" + k.AccountID + ":root" }

// DescribeKey returns the metadata of a key, in any state. Returns
// ENOTFOUND.
func (k *KMS) DescribeKey(ctx context.Context, keyID string) (*profiles.KeyMetadata, error) {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return nil, err
	}
	return &profiles.KeyMetadata{KeyID: key.KeyID, ARN: key.ARN, State: key.State,
		Description: key.Description, CreatedAt: key.CreatedAt}, nil
}

// GenerateDataKey returns a new 256-bit data key in plaintext and sealed
// under the key, bound to the encryption context. Returns ENOTFOUND, and
// EFORBIDDEN for a key that is not enabled.
func (k *KMS) GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) (plaintext, ciphertext []byte, err error) {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return nil, nil, err
	}
	if err := usable(key); err != nil {
		return nil, nil, err
	}
	plaintext = make([]byte, keySize)
	rand.Read(plaintext)
	ciphertext, err = k.seal(key, plaintext, encryptionContext)
	if err != nil {
		return nil, nil, err
	}
	return plaintext, ciphertext, nil
}

// Decrypt opens a ciphertext sealed under the key with the same encryption
// context. Returns ENOTFOUND, EFORBIDDEN for a key that is not enabled, and
// EINVALID for a ciphertext that does not open (changed, another context)
// or that was sealed under another key.
func (k *KMS) Decrypt(ctx context.Context, keyID string, ciphertext []byte, encryptionContext map[string]string) ([]byte, error) {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if err := usable(key); err != nil {
		return nil, err
	}
	blobKey, err := blobKeyID(ciphertext)
	if err != nil {
		return nil, err
	}
	if blobKey != key.KeyID {
		return nil, kmsErrorf(ExIncorrectKey, profiles.EINVALID,
			"The key ID in the request does not identify a KMS key that can perform this operation.")
	}
	return k.open(key, ciphertext, encryptionContext)
}

// resolve returns the key named by a key id, key ARN, alias name or alias
// ARN. A key whose deletion date has passed does not exist. Returns
// ENOTFOUND (NotFoundException), and EINVALID for an empty name.
func (k *KMS) resolve(ctx context.Context, name string) (*profiles.KMSKey, error) {
	if name == "" {
		return nil, validationf("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	id := name
	if rest, ok := strings.CutPrefix(name, "arn:"); ok {
		parts := strings.SplitN(rest, ":", 5)
		// Only the ARNs this service gives (partition aws): callers are
		// authorised on the ARN they name, which must be the key's.
		if len(parts) != 5 || parts[0] != "aws" || parts[1] != "kms" || parts[2] != k.Region || parts[3] != k.AccountID {
			return nil, notFoundf("Invalid arn %s", name)
		}
		id = parts[4]
		if !strings.HasPrefix(id, "alias/") {
			var ok bool
			if id, ok = strings.CutPrefix(id, "key/"); !ok {
				return nil, notFoundf("Invalid arn %s", name)
			}
		}
	}
	if strings.HasPrefix(id, "alias/") {
		a, err := k.Store.FindKMSAlias(ctx, id)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, notFoundf("Alias %s is not found.", k.AliasARN(id))
		} else if err != nil {
			return nil, storeError("find alias", err)
		}
		id = a.KeyID
	}
	key, err := k.Store.FindKMSKey(ctx, id)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, notFoundf("Key '%s' does not exist", k.KeyARN(id))
	} else if err != nil {
		return nil, storeError("find key", err)
	}
	if k.due(key) {
		// Gone for every caller from its deletion date; DeleteDueKeys
		// removes the row. (Deleting here would write to the store from
		// inside a caller's transaction: a lookup of the sealer within a
		// SQLite Update would wait for the writer it holds.)
		return nil, notFoundf("Key '%s' does not exist", key.ARN)
	}
	return key, nil
}

// due reports whether a key pending deletion has reached its deletion date.
func (k *KMS) due(key *profiles.KMSKey) bool {
	return key.State == profiles.KeyStatePendingDeletion && !key.DeletionDate.IsZero() && !k.now().Before(key.DeletionDate)
}

// DeleteDueKeys deletes the keys whose deletion date has passed, with
// their aliases and grants, and returns how many it deleted. Lookups treat
// such keys as deleted already; the server's sweeper calls this to remove
// them.
func (k *KMS) DeleteDueKeys(ctx context.Context) (int, error) {
	n, after := 0, ""
	for {
		keys, err := k.Store.ListKMSKeys(ctx, after, 100)
		if err != nil {
			return n, storeError("list keys", err)
		}
		for _, key := range keys {
			if !k.due(key) {
				continue
			}
			if err := k.Store.DeleteKMSKey(ctx, key.KeyID); err == nil {
				n++
			} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return n, storeError("delete key", err)
			}
		}
		if len(keys) < 100 {
			return n, nil
		}
		after = keys[len(keys)-1].KeyID
	}
}

// usable returns nil for an enabled key, DisabledException for a disabled
// one and KMSInvalidStateException otherwise (EFORBIDDEN). The messages
// name the state, never the policy.
func usable(key *profiles.KMSKey) error {
	switch key.State {
	case profiles.KeyStateEnabled:
		return nil
	case profiles.KeyStateDisabled:
		return kmsErrorf(ExDisabled, profiles.EFORBIDDEN, "%s is disabled.", key.ARN)
	case profiles.KeyStatePendingDeletion:
		return invalidStatef("%s is pending deletion.", key.ARN)
	}
	return invalidStatef("%s is %s.", key.ARN, key.State)
}

// newGCM returns AES-256-GCM under a 32-byte key.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("localkms: key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("localkms: %w", err)
	}
	return cipher.NewGCM(block)
}

// wrap seals key material under the root key, bound to the key ARN:
// nonce | ciphertext and tag.
func (k *KMS) wrap(arn string, material []byte) ([]byte, error) {
	if len(k.RootKey) != rootKeySize {
		return nil, fmt.Errorf("localkms: the root key is %d bytes, want %d", len(k.RootKey), rootKeySize)
	}
	gcm, err := newGCM(k.RootKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	return gcm.Seal(nonce, nonce, material, []byte(arn)), nil
}

// material returns the plaintext material of a key. A failure means the
// root key, the region or the account id is not the one the key was made
// with: an internal error.
func (k *KMS) material(key *profiles.KMSKey) ([]byte, error) {
	if len(k.RootKey) != rootKeySize {
		return nil, fmt.Errorf("localkms: the root key is %d bytes, want %d", len(k.RootKey), rootKeySize)
	}
	gcm, err := newGCM(k.RootKey)
	if err != nil {
		return nil, err
	}
	w := key.WrappedMaterial
	if len(w) < nonceSize {
		return nil, fmt.Errorf("localkms: key %s: wrapped material is too short", key.KeyID)
	}
	m, err := gcm.Open(nil, w[:nonceSize], w[nonceSize:], []byte(key.ARN))
	if err != nil {
		return nil, fmt.Errorf("localkms: key %s: material does not unwrap under the root key "+
			"(another root key, region or account id?): %w", key.ARN, err)
	}
	return m, nil
}

// seal encrypts plaintext under the key into a ciphertext blob bound to
// the encryption context.
func (k *KMS) seal(key *profiles.KMSKey, plaintext []byte, ec map[string]string) ([]byte, error) {
	m, err := k.material(key)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(m)
	if err != nil {
		return nil, err
	}
	header := append([]byte{blobVersion, byte(len(key.KeyID))}, key.KeyID...)
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	blob := append(slices.Clip(header), nonce...)
	return gcm.Seal(blob, nonce, plaintext, append(header, canonicalContext(ec)...)), nil
}

// open decrypts a ciphertext blob of the key with the encryption context.
func (k *KMS) open(key *profiles.KMSKey, blob []byte, ec map[string]string) ([]byte, error) {
	m, err := k.material(key)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(m)
	if err != nil {
		return nil, err
	}
	n := 2 + len(key.KeyID)
	if len(blob) < n+nonceSize+gcm.Overhead() {
		return nil, errInvalidCiphertext()
	}
	header := blob[:n:n]
	pt, err := gcm.Open(nil, blob[n:n+nonceSize], blob[n+nonceSize:], append(header, canonicalContext(ec)...))
	if err != nil {
		return nil, errInvalidCiphertext()
	}
	return pt, nil
}

// blobKeyID returns the key id a ciphertext blob names.
func blobKeyID(blob []byte) (string, error) {
	if len(blob) < 2 || blob[0] != blobVersion || len(blob) < 2+int(blob[1]) {
		return "", errInvalidCiphertext()
	}
	id := string(blob[2 : 2+int(blob[1])])
	if !isUUID(id) {
		return "", errInvalidCiphertext()
	}
	return id, nil
}

// isUUID reports whether s has the form of a key id.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f'):
			return false
		}
	}
	return true
}

func errInvalidCiphertext() *Error {
	return kmsErrorf(ExInvalidCiphertext, profiles.EINVALID,
		"The ciphertext is invalid, was changed, or was encrypted under another encryption context.")
}

// canonicalContext encodes an encryption context so that equal contexts,
// and only they, encode equally: the number of pairs, then each pair in
// byte order of the keys, every count and length an unsigned varint.
func canonicalContext(ec map[string]string) []byte {
	keys := make([]string, 0, len(ec))
	for key := range ec {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	b := binary.AppendUvarint(nil, uint64(len(keys)))
	for _, key := range keys {
		b = binary.AppendUvarint(b, uint64(len(key)))
		b = append(b, key...)
		b = binary.AppendUvarint(b, uint64(len(ec[key])))
		b = append(b, ec[key]...)
	}
	return b
}

// newKeyMaterial returns 32 random bytes of key material.
func newKeyMaterial() []byte {
	m := make([]byte, keySize)
	rand.Read(m)
	return m
}

// newUUID returns a random UUID (version 4).
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// errIs reports whether err has the code.
func errIs(err error, code string) bool { return err != nil && profiles.ErrorCode(err) == code }

// DefaultKeyAlias names the service-owned key of domains that name no
// DefaultEncryptionKey.
const DefaultKeyAlias = "alias/openprofiles/default"

// CheckRootKey checks that the root key is the one the store's keys were
// made with: the service-owned key (DefaultKeyAlias), which every start
// makes, must unwrap under it. A store without that key (a new one) passes.
// A server given another root key (a data dir restored without its
// kms-root.key, which the start then made anew, or another node's
// OPENPROFILES_KMS_ROOT_KEY) would otherwise serve with every key of the
// store unreadable, and make new keys under a root key that opens none of
// the old ones.
func (k *KMS) CheckRootKey(ctx context.Context) error {
	key, err := k.resolve(ctx, DefaultKeyAlias)
	if errIs(err, profiles.ENOTFOUND) {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := k.material(key); err != nil {
		return fmt.Errorf("localkms: the root key does not unwrap the key %s of the store: it is not the root key the store's keys were made with", key.ARN)
	}
	return nil
}

// EnsureDefaultKey returns the ARN of the service-owned key, creating it
// (with ServicePolicy) and its alias DefaultKeyAlias at the first start.
// Concurrent first starts of several nodes end with one key behind the alias.
func (k *KMS) EnsureDefaultKey(ctx context.Context) (string, error) {
	if key, err := k.resolve(ctx, DefaultKeyAlias); err == nil {
		return key.ARN, nil
	} else if !errIs(err, profiles.ENOTFOUND) {
		return "", err
	}
	id := newUUID()
	arn := k.KeyARN(id)
	wrapped, err := k.wrap(arn, newKeyMaterial())
	if err != nil {
		return "", err
	}
	key := &profiles.KMSKey{KeyID: id, ARN: arn, Description: "OpenProfiles service-owned key of domains without a key of their own",
		State: profiles.KeyStateEnabled, KeySpec: KeySpec, KeyUsage: KeyUsage, WrappedMaterial: wrapped,
		Policy: ServicePolicy(k.AccountID, k.Region, ""), CreatedAt: k.now()}
	if err := k.Store.CreateKMSKey(ctx, key); err != nil {
		return "", storeError("create default key", err)
	}
	now := k.now()
	err = k.Store.CreateKMSAlias(ctx, &profiles.KMSAlias{Name: DefaultKeyAlias, KeyID: id, CreatedAt: now, LastUpdatedAt: now})
	if errIs(err, profiles.ECONFLICT) {
		// Another node made it first: use theirs, drop ours. Its key must
		// unwrap under this node's root key: two first starts at once with
		// root keys of their own (none shared) both passed CheckRootKey
		// on the empty store, and the one that lost would otherwise serve
		// with a root key that opens none of the store's keys.
		k.Store.DeleteKMSKey(ctx, id)
		other, err := k.resolve(ctx, DefaultKeyAlias)
		if err != nil {
			return "", err
		}
		if _, err := k.material(other); err != nil {
			return "", fmt.Errorf("localkms: another server made the key %s of the store at the same time, under another root key: this one's does not unwrap it; give every server of the store the same root key", other.ARN)
		}
		return other.ARN, nil
	} else if err != nil {
		return "", storeError("create default key alias", err)
	}
	return arn, nil
}
