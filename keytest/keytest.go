// Package keytest is the conformance suite of profiles.KeyManager: every
// implementation runs the same cases from its own tests.
//
//	func TestKeyManager(t *testing.T) {
//		keytest.Run(t, func(tb testing.TB) *keytest.Harness {
//			return &keytest.Harness{Manager: m, AccountID: …, Region: …, NewKey: …, Disable: …}
//		})
//	}
//
// The suite holds every key manager to the contract written on
// profiles.KeyManager and to these rules:
//
//   - A key is named by its key id, its key ARN
//     (arn:aws:kms:{region}:{account}:key/{id}), and, where the manager
//     has aliases, by an alias name (alias/…) or alias ARN.
//   - DescribeKey reports an enabled key as State "Enabled", a disabled one
//     as "Disabled", with a non-zero CreatedAt.
//   - A key that does not exist is ENOTFOUND for every method.
//   - GenerateDataKey returns 32 bytes of plaintext, new each time, and a
//     ciphertext that Decrypt opens under the same key and encryption
//     context only: another context (a changed value, a pair more or less,
//     none), another key, or a changed, truncated or empty ciphertext is
//     EINVALID.
//   - A disabled key is EFORBIDDEN for GenerateDataKey, Decrypt and
//     CheckServiceAccess.
//   - CheckServiceAccess is nil for an enabled key whose policy lets
//     profile.amazonaws.com use it for the domains of the account.
//
// What CheckServiceAccess can check depends on the manager. The built-in
// localkms evaluates the key policy for profile.amazonaws.com
// (Harness.ChecksPolicy): a policy that does not name the service, that
// scopes it to another domain (aws:SourceArn) or to another account
// (aws:SourceAccount) is EFORBIDDEN, with a message that names the key
// policy and the actions it does not allow. An external manager (awskms)
// cannot ask AWS KMS to evaluate a policy for another principal: it can
// only try the operations with its own credentials, so it passes a key
// whose policy lets those credentials use it, whatever the policy says of
// the service, and fails a disabled key or one its credentials may not use.
package keytest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
)

// Harness is a key manager under test and the means to set up its keys.
type Harness struct {
	// Manager is the key manager under test.
	Manager profiles.KeyManager

	// AccountID and Region are those of the keys' ARNs. CheckServiceAccess
	// is asked about the domains of this account and region.
	AccountID, Region string

	// NewKey creates an enabled symmetric key whose key policy is policy
	// (a JSON document), and returns its key id. The suite's policies may
	// lock the caller out of the key: bypass the lockout check.
	NewKey func(tb testing.TB, policy string) (keyID string)

	// NewAlias makes the alias name (alias/…) name the key. Nil when the
	// manager has no aliases.
	NewAlias func(tb testing.TB, name, keyID string)

	// Disable disables the key.
	Disable func(tb testing.TB, keyID string)

	// ChecksPolicy says that CheckServiceAccess evaluates key policies for
	// profile.amazonaws.com, rather than trying the operations.
	ChecksPolicy bool
}

// OpenFunc returns a harness. The suite calls it once per case; the keys a
// case makes are its own (a harness may share one manager between cases).
type OpenFunc func(tb testing.TB) *Harness

// Run runs the suite.
func Run(t *testing.T, open OpenFunc) {
	t.Run("DescribeKey", func(t *testing.T) { testDescribeKey(t, open) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open) })
	t.Run("DataKey", func(t *testing.T) { testDataKey(t, open) })
	t.Run("EncryptionContext", func(t *testing.T) { testEncryptionContext(t, open) })
	t.Run("Ciphertext", func(t *testing.T) { testCiphertext(t, open) })
	t.Run("Disabled", func(t *testing.T) { testDisabled(t, open) })
	t.Run("CheckServiceAccess", func(t *testing.T) { testCheckServiceAccess(t, open) })
}

// ServicePolicy returns a key policy that lets the account's root do
// everything and profile.amazonaws.com use the key for the Customer
// Profiles domains of the account in the region whose source ARN matches
// domains (e.g. "domains/*").
func ServicePolicy(account, region, domains string) string {
	return `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + account + `:root"},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "Profiles", "Effect": "Allow", "Principal": {"Service": "profile.amazonaws.com"},
     "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"], "Resource": "*",
     "Condition": {
       "StringEquals": {"aws:SourceAccount": "` + account + `"},
       "ArnLike": {"aws:SourceArn": "arn:aws:profile:` + region + `:` + account + `:` + domains + `"}}}
  ]
}`
}

// RootPolicy returns the AWS default key policy of the account.
func RootPolicy(account string) string {
	return `{"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
  {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
   "Principal": {"AWS": "arn:aws:iam::` + account + `:root"}, "Action": "kms:*", "Resource": "*"}]}`
}

// domainARN returns the ARN of a Customer Profiles domain of the harness.
func (h *Harness) domainARN(name string) string {
	return "arn:aws:profile:" + h.Region + ":" + h.AccountID + ":domains/" + name
}

// keyARN returns the ARN of a key id of the harness.
func (h *Harness) keyARN(id string) string {
	return "arn:aws:kms:" + h.Region + ":" + h.AccountID + ":key/" + id
}

// mustOpen calls open and checks the harness.
func mustOpen(tb testing.TB, open OpenFunc) *Harness {
	tb.Helper()
	h := open(tb)
	if h == nil || h.Manager == nil || h.NewKey == nil || h.Disable == nil {
		tb.Fatal("open returned a harness without Manager, NewKey or Disable")
	}
	return h
}

// newKey creates a key with the service policy of the harness's account.
func (h *Harness) newKey(tb testing.TB) string {
	tb.Helper()
	return h.NewKey(tb, ServicePolicy(h.AccountID, h.Region, "domains/*"))
}

// names returns the names of a key: id, ARN and, with aliases, an alias
// and its ARN.
func (h *Harness) names(tb testing.TB, id string) []string {
	tb.Helper()
	out := []string{id, h.keyARN(id)}
	if h.NewAlias != nil {
		alias := "alias/keytest-" + randomHex(6)
		h.NewAlias(tb, alias, id)
		out = append(out, alias, "arn:aws:kms:"+h.Region+":"+h.AccountID+":"+alias)
	}
	return out
}

// checkCode fails tb unless err has the code want.
func checkCode(tb testing.TB, op string, err error, want string) {
	tb.Helper()
	if got := profiles.ErrorCode(err); got != want {
		tb.Fatalf("%s: code=%q, want %q (err: %v)", op, got, want, err)
	}
}

// mustGenerate returns a data key of the key or fails tb.
func mustGenerate(tb testing.TB, h *Harness, keyID string, ec map[string]string) (plaintext, ciphertext []byte) {
	tb.Helper()
	pt, ct, err := h.Manager.GenerateDataKey(tb.Context(), keyID, ec)
	if err != nil {
		tb.Fatalf("GenerateDataKey(%s): %v", keyID, err)
	}
	return pt, ct
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// randomUUID returns a random key id that no manager holds.
func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func testDescribeKey(t *testing.T, open OpenFunc) {
	h := mustOpen(t, open)
	id := h.newKey(t)
	for _, name := range h.names(t, id) {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			md, err := h.Manager.DescribeKey(t.Context(), name)
			if err != nil {
				t.Fatalf("DescribeKey(%s): %v", name, err)
			}
			if md.KeyID != id {
				t.Errorf("DescribeKey(%s).KeyID=%q, want %q", name, md.KeyID, id)
			}
			if want := h.keyARN(id); md.ARN != want {
				t.Errorf("DescribeKey(%s).ARN=%q, want %q", name, md.ARN, want)
			}
			if md.State != profiles.KeyStateEnabled {
				t.Errorf("DescribeKey(%s).State=%q, want %q", name, md.State, profiles.KeyStateEnabled)
			}
			if md.CreatedAt.IsZero() {
				t.Errorf("DescribeKey(%s).CreatedAt is zero", name)
			}
		})
	}
}

func testNotFound(t *testing.T, open OpenFunc) {
	h := mustOpen(t, open)
	_, ct := mustGenerate(t, h, h.newKey(t), nil)
	missing := randomUUID()
	names := []string{missing, h.keyARN(missing)}
	if h.NewAlias != nil {
		names = append(names, "alias/keytest-missing-"+randomHex(4))
	}
	for _, name := range names {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			ctx := t.Context()
			_, err := h.Manager.DescribeKey(ctx, name)
			checkCode(t, "DescribeKey", err, profiles.ENOTFOUND)
			_, _, err = h.Manager.GenerateDataKey(ctx, name, nil)
			checkCode(t, "GenerateDataKey", err, profiles.ENOTFOUND)
			_, err = h.Manager.Decrypt(ctx, name, ct, nil)
			checkCode(t, "Decrypt", err, profiles.ENOTFOUND)
			err = h.Manager.CheckServiceAccess(ctx, name, h.AccountID, h.domainARN("d1"))
			checkCode(t, "CheckServiceAccess", err, profiles.ENOTFOUND)
		})
	}
}

func testDataKey(t *testing.T, open OpenFunc) {
	h := mustOpen(t, open)
	id := h.newKey(t)
	ec := map[string]string{"aws:profile:domain": "d1", "ünï": "✓"}
	pt, ct := mustGenerate(t, h, id, ec)
	if len(pt) != 32 {
		t.Fatalf("GenerateDataKey: %d bytes of plaintext, want 32", len(pt))
	}
	if bytes.Contains(ct, pt) {
		t.Fatalf("GenerateDataKey: the ciphertext holds the plaintext")
	}
	for _, name := range h.names(t, id) {
		got, err := h.Manager.Decrypt(t.Context(), name, ct, map[string]string{"ünï": "✓", "aws:profile:domain": "d1"})
		if err != nil {
			t.Fatalf("Decrypt(%s): %v", name, err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Decrypt(%s) = %x, want %x", name, got, pt)
		}
	}

	pt2, ct2 := mustGenerate(t, h, id, ec)
	if bytes.Equal(pt, pt2) || bytes.Equal(ct, ct2) {
		t.Errorf("two GenerateDataKey calls returned the same data key or ciphertext")
	}

	// No encryption context at all.
	pt3, ct3 := mustGenerate(t, h, id, nil)
	got, err := h.Manager.Decrypt(t.Context(), id, ct3, nil)
	if err != nil {
		t.Fatalf("Decrypt(no context): %v", err)
	}
	if !bytes.Equal(got, pt3) {
		t.Errorf("Decrypt(no context) = %x, want %x", got, pt3)
	}
}

func testEncryptionContext(t *testing.T, open OpenFunc) {
	h := mustOpen(t, open)
	id := h.newKey(t)
	_, ct := mustGenerate(t, h, id, map[string]string{"aws:profile:domain": "d1", "purpose": "profiles"})
	for _, tt := range []struct {
		name string
		ec   map[string]string
	}{
		{"OtherValue", map[string]string{"aws:profile:domain": "d2", "purpose": "profiles"}},
		{"PairMore", map[string]string{"aws:profile:domain": "d1", "purpose": "profiles", "x": "y"}},
		{"PairLess", map[string]string{"aws:profile:domain": "d1"}},
		{"None", nil},
		{"KeyCase", map[string]string{"aws:profile:Domain": "d1", "purpose": "profiles"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Manager.Decrypt(t.Context(), id, ct, tt.ec)
			checkCode(t, "Decrypt", err, profiles.EINVALID)
		})
	}
}

func testCiphertext(t *testing.T, open OpenFunc) {
	h := mustOpen(t, open)
	id, other := h.newKey(t), h.newKey(t)
	ec := map[string]string{"aws:profile:domain": "d1"}
	_, ct := mustGenerate(t, h, id, ec)
	flip := func(i int) []byte {
		b := bytes.Clone(ct)
		b[i] ^= 0x01
		return b
	}
	for _, tt := range []struct {
		name       string
		keyID      string
		ciphertext []byte
	}{
		{"LastByteChanged", id, flip(len(ct) - 1)},
		{"TagChanged", id, flip(len(ct) - 10)},
		{"BodyChanged", id, flip(len(ct) - 20)},
		{"Truncated", id, ct[:len(ct)-1]},
		{"Empty", id, []byte{}},
		{"OtherKey", other, ct},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Manager.Decrypt(t.Context(), tt.keyID, tt.ciphertext, ec)
			checkCode(t, "Decrypt", err, profiles.EINVALID)
		})
	}
}

func testDisabled(t *testing.T, open OpenFunc) {
	h := mustOpen(t, open)
	ctx := t.Context()
	id := h.newKey(t)
	ec := map[string]string{"aws:profile:domain": "d1"}
	_, ct := mustGenerate(t, h, id, ec)
	h.Disable(t, id)

	md, err := h.Manager.DescribeKey(ctx, id)
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	if md.State != profiles.KeyStateDisabled {
		t.Errorf("DescribeKey.State=%q, want %q", md.State, profiles.KeyStateDisabled)
	}
	_, _, err = h.Manager.GenerateDataKey(ctx, id, ec)
	checkCode(t, "GenerateDataKey", err, profiles.EFORBIDDEN)
	_, err = h.Manager.Decrypt(ctx, id, ct, ec)
	checkCode(t, "Decrypt", err, profiles.EFORBIDDEN)
	err = h.Manager.CheckServiceAccess(ctx, id, h.AccountID, h.domainARN("d1"))
	checkCode(t, "CheckServiceAccess", err, profiles.EFORBIDDEN)
}

func testCheckServiceAccess(t *testing.T, open OpenFunc) {
	t.Run("ServicePolicy", func(t *testing.T) {
		h := mustOpen(t, open)
		id := h.newKey(t)
		for _, name := range h.names(t, id) {
			if err := h.Manager.CheckServiceAccess(t.Context(), name, h.AccountID, h.domainARN("d1")); err != nil {
				t.Errorf("CheckServiceAccess(%s, domains/d1): %v", name, err)
			}
		}
	})

	// A manager that cannot read policies tries the operations with its
	// own credentials, which the account's root policy lets through.
	t.Run("RootPolicy", func(t *testing.T) {
		h := mustOpen(t, open)
		id := h.NewKey(t, RootPolicy(h.AccountID))
		err := h.Manager.CheckServiceAccess(t.Context(), id, h.AccountID, h.domainARN("d1"))
		if !h.ChecksPolicy {
			if err != nil {
				t.Fatalf("CheckServiceAccess: %v, want nil from a manager that tries the operations", err)
			}
			return
		}
		checkCode(t, "CheckServiceAccess", err, profiles.EFORBIDDEN)
		msg := profiles.ErrorMessage(err)
		for _, want := range []string{"policy", h.keyARN(id), profiles.ServicePrincipal,
			"kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant", h.domainARN("d1")} {
			if !strings.Contains(msg, want) {
				t.Errorf("CheckServiceAccess: message %q does not name %q", msg, want)
			}
		}
	})

	for _, tt := range []struct {
		name    string
		policy  func(h *Harness) string
		account string // asked about; "" for the harness's
		domain  string
	}{
		{"OtherDomain", func(h *Harness) string { return ServicePolicy(h.AccountID, h.Region, "domains/d2") }, "", "d1"},
		{"OtherAccount", func(h *Harness) string { return ServicePolicy("111111111111", h.Region, "domains/*") }, "", "d1"},
		{"OtherSourceAccount", func(h *Harness) string { return ServicePolicy(h.AccountID, h.Region, "domains/*") }, "222222222222", "d1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustOpen(t, open)
			if !h.ChecksPolicy {
				t.Logf("the manager does not evaluate key policies; nothing to check")
				return
			}
			id := h.NewKey(t, tt.policy(h))
			account := tt.account
			if account == "" {
				account = h.AccountID
			}
			err := h.Manager.CheckServiceAccess(t.Context(), id, account, h.domainARN(tt.domain))
			checkCode(t, "CheckServiceAccess", err, profiles.EFORBIDDEN)
			if msg := profiles.ErrorMessage(err); !strings.Contains(msg, "policy") {
				t.Errorf("CheckServiceAccess: message %q does not say the key policy is at fault", msg)
			}
		})
	}
}
