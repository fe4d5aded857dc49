package localkms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"

	"github.com/openprofiles/profiles"
)

// grantOperations are the operations a grant of a symmetric key may allow.
func grantOperation(op string) bool {
	switch op {
	case "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
		"ReEncryptFrom", "ReEncryptTo", "CreateGrant", "RetireGrant", "DescribeKey":
		return true
	}
	return false
}

type createGrantInput struct {
	KeyId             string
	GranteePrincipal  string
	RetiringPrincipal string
	Operations        []string
	Constraints       *grantConstraints
	Name              string
	GrantTokens       []string
	DryRun            bool
}

type createGrantOutput struct {
	GrantId    string
	GrantToken string
}

func (k *KMS) createGrant(ctx context.Context, c *caller, in *createGrantInput) (any, error) {
	if in.GranteePrincipal == "" {
		return nil, validationf("1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null")
	}
	if len(in.Operations) == 0 {
		return nil, validationf("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	for _, op := range in.Operations {
		if !grantOperation(op) {
			return nil, validationf("Grant operation %s is not valid for a symmetric encryption KMS key.", op)
		}
	}
	var equals, subset map[string]string
	if in.Constraints != nil {
		equals, subset = in.Constraints.EncryptionContextEquals, in.Constraints.EncryptionContextSubset
		if len(equals) > 0 && len(subset) > 0 {
			return nil, validationf("A grant may have EncryptionContextEquals or EncryptionContextSubset, not both.")
		}
	}
	if in.DryRun {
		return nil, kmsErrorf(ExUnsupportedOperation, profiles.EINVALID, "DryRun is not supported.")
	}
	key, err := k.resolve(ctx, in.KeyId)
	if err != nil {
		return nil, err
	}
	via, err := k.allowedBy(ctx, c, "kms:CreateGrant", key, nil)
	if err != nil {
		return nil, err
	}
	if err := k.notServiceOwned(ctx, key, "kms:CreateGrant"); err != nil {
		return nil, err
	}
	if err := usable(key); err != nil {
		return nil, err
	}
	ops := slices.Sorted(slices.Values(in.Operations))
	ops = slices.Compact(ops)
	if via != nil {
		// Allowed through a grant: the new one may give no more than it
		// (its operations, under constraints at least as strict), as on
		// AWS; else a grantee with CreateGrant could give itself Decrypt.
		if err := narrowerGrant(via, ops, equals, subset); err != nil {
			return nil, err
		}
	}

	// A grant of the same name and parameters is the same grant (AWS
	// makes CreateGrant idempotent this way).
	if in.Name != "" {
		grants, err := k.Store.ListKMSGrants(ctx, key.KeyID, "", 0)
		if err != nil {
			return nil, storeError("list grants", err)
		}
		for _, g := range grants {
			if g.Name == in.Name && g.GranteePrincipal == in.GranteePrincipal && g.RetiringPrincipal == in.RetiringPrincipal &&
				slices.Equal(g.Operations, ops) && maps.Equal(g.EncryptionContextEquals, equals) &&
				maps.Equal(g.EncryptionContextSubset, subset) {
				return createGrantOutput{g.GrantID, g.Token}, nil
			}
		}
	}

	var id [32]byte
	var token [48]byte
	rand.Read(id[:])
	rand.Read(token[:])
	g := &profiles.KMSGrant{
		GrantID: hex.EncodeToString(id[:]), Token: base64.RawURLEncoding.EncodeToString(token[:]),
		KeyID: key.KeyID, Name: in.Name, GranteePrincipal: in.GranteePrincipal,
		RetiringPrincipal: in.RetiringPrincipal, IssuingAccount: k.rootARN(), Operations: ops,
		EncryptionContextEquals: equals, EncryptionContextSubset: subset, CreatedAt: k.now(),
	}
	if err := k.Store.CreateKMSGrant(ctx, g); err != nil {
		return nil, storeError("create grant", err)
	}
	return createGrantOutput{g.GrantID, g.Token}, nil
}

// narrowerGrant checks that a grant made through grant via gives no more
// than via: a subset of its operations, and an encryption-context
// constraint at least as strict as via's.
func narrowerGrant(via *profiles.KMSGrant, ops []string, equals, subset map[string]string) error {
	for _, op := range ops {
		if !slices.Contains(via.Operations, op) {
			return accessDeniedf("The grant that allows this CreateGrant (%s) does not allow %s: a grant made through it may allow only %v.", via.GrantID, op, via.Operations)
		}
	}
	switch {
	case len(via.EncryptionContextEquals) > 0:
		if !maps.Equal(equals, via.EncryptionContextEquals) {
			return accessDeniedf("The grant that allows this CreateGrant (%s) requires EncryptionContextEquals %v: a grant made through it must require the same.", via.GrantID, via.EncryptionContextEquals)
		}
	case len(via.EncryptionContextSubset) > 0:
		strict := equals
		if len(strict) == 0 {
			strict = subset
		}
		for k, v := range via.EncryptionContextSubset {
			if got, ok := strict[k]; !ok || got != v {
				return accessDeniedf("The grant that allows this CreateGrant (%s) requires the encryption context to hold %v: a grant made through it must require it too.", via.GrantID, via.EncryptionContextSubset)
			}
		}
	}
	return nil
}

type listGrantsInput struct {
	KeyId            string
	Limit            *int32
	Marker           *string
	GrantId          string
	GranteePrincipal string
}

type listGrantsOutput struct {
	Grants     []grantEntry
	Truncated  bool
	NextMarker string `json:",omitempty"`
}

func (k *KMS) listGrants(ctx context.Context, c *caller, in *listGrantsInput) (any, error) {
	limit, err := pageLimit(in.Limit, 100, 50)
	if err != nil {
		return nil, err
	}
	after, err := decodeMarker(in.Marker)
	if err != nil {
		return nil, err
	}
	key, err := k.resolveFor(ctx, c, "kms:ListGrants", in.KeyId)
	if err != nil {
		return nil, err
	}
	grants, err := k.Store.ListKMSGrants(ctx, key.KeyID, after, 0)
	if err != nil {
		return nil, storeError("list grants", err)
	}
	out := listGrantsOutput{Grants: []grantEntry{}}
	for _, g := range grants {
		if (in.GrantId != "" && g.GrantID != in.GrantId) || (in.GranteePrincipal != "" && g.GranteePrincipal != in.GranteePrincipal) {
			continue
		}
		if len(out.Grants) == limit {
			out.Truncated, out.NextMarker = true, encodeMarker(out.Grants[limit-1].GrantId)
			break
		}
		out.Grants = append(out.Grants, k.grantEntry(key, g))
	}
	return out, nil
}

type grantInput struct {
	KeyId      string
	GrantId    string
	GrantToken string
}

func (k *KMS) revokeGrant(ctx context.Context, c *caller, in *grantInput) (any, error) {
	if in.GrantId == "" {
		return nil, validationf("1 validation error detected: Value null at 'grantId' failed to satisfy constraint: Member must not be null")
	}
	key, err := k.resolveFor(ctx, c, "kms:RevokeGrant", in.KeyId)
	if err != nil {
		return nil, err
	}
	if err := k.Store.DeleteKMSGrant(ctx, key.KeyID, in.GrantId); errIs(err, profiles.ENOTFOUND) {
		return nil, notFoundf("Grant %s of key %s is not found.", in.GrantId, key.ARN)
	} else if err != nil {
		return nil, storeError("delete grant", err)
	}
	return struct{}{}, nil
}

// retireGrant retires a grant named by its token, or by key and grant id.
// The caller must be the grant's retiring principal, its grantee when the
// grant allows RetireGrant, or allowed kms:RetireGrant by the key policy.
func (k *KMS) retireGrant(ctx context.Context, c *caller, in *grantInput) (any, error) {
	var g *profiles.KMSGrant
	var err error
	switch {
	case in.GrantToken != "":
		g, err = k.Store.FindKMSGrantByToken(ctx, in.GrantToken)
		if errIs(err, profiles.ENOTFOUND) {
			return nil, kmsErrorf(ExInvalidGrantToken, profiles.EINVALID, "The grant token is not valid.")
		}
	case in.KeyId != "" && in.GrantId != "":
		var key *profiles.KMSKey
		if key, err = k.resolve(ctx, in.KeyId); err != nil {
			return nil, err
		}
		g, err = k.Store.FindKMSGrant(ctx, key.KeyID, in.GrantId)
		if errIs(err, profiles.ENOTFOUND) {
			return nil, kmsErrorf(ExInvalidGrantID, profiles.EINVALID, "Grant %s of key %s is not found.", in.GrantId, key.ARN)
		}
	default:
		return nil, validationf("RetireGrant needs GrantToken, or KeyId and GrantId.")
	}
	if err != nil {
		return nil, storeError("find grant", err)
	}
	key, err := k.resolve(ctx, g.KeyID)
	if err != nil {
		return nil, err
	}
	// The grant's retiring principal may retire it with no permission
	// besides (as on AWS). Anyone else needs kms:RetireGrant on the key
	// (see allow), and when a grant, not the key policy, allows that, it
	// must be this grant's own RetireGrant: a grant lets its grantee retire
	// that grant, not the key's other grants.
	if c.principal != g.RetiringPrincipal {
		via, err := k.allowedBy(ctx, c, "kms:RetireGrant", key, nil)
		if err != nil {
			return nil, err
		}
		if via != nil && !(c.principal == g.GranteePrincipal && slices.Contains(g.Operations, "RetireGrant")) {
			return nil, accessDeniedf("User: %s is not authorized to perform: kms:RetireGrant on grant %s of %s: a grant allows its grantee to retire that grant only",
				c.principal, g.GrantID, key.ARN)
		}
	}
	if err := k.Store.DeleteKMSGrant(ctx, g.KeyID, g.GrantID); err != nil && !errIs(err, profiles.ENOTFOUND) {
		return nil, storeError("delete grant", err)
	}
	return struct{}{}, nil
}
