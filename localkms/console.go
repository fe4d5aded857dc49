package localkms

import (
	"context"

	"github.com/openprofiles/profiles"
)

var _ profiles.KeyAdmin = (*KMS)(nil)

// CreateServiceKey creates a symmetric key with ServicePolicy and, when
// alias is not empty, the alias. Returns EINVALID for a bad alias or a
// description over 8,192 characters, ECONFLICT for an alias taken (the key
// is then not created).
func (k *KMS) CreateServiceKey(ctx context.Context, description, alias string) (*profiles.KeyMetadata, error) {
	if alias != "" {
		if err := checkAliasName(alias); err != nil {
			return nil, err
		}
		if _, err := k.Store.FindKMSAlias(ctx, alias); err == nil {
			return nil, kmsErrorf(ExAlreadyExists, profiles.ECONFLICT, "An alias with the name %s already exists", k.AliasARN(alias))
		}
	}
	if len([]rune(description)) > 8192 {
		return nil, validationf("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192")
	}
	id := newUUID()
	arn := k.KeyARN(id)
	wrapped, err := k.wrap(arn, newKeyMaterial())
	if err != nil {
		return nil, err
	}
	key := &profiles.KMSKey{KeyID: id, ARN: arn, Description: description, State: profiles.KeyStateEnabled,
		KeySpec: KeySpec, KeyUsage: KeyUsage, WrappedMaterial: wrapped, Policy: ServicePolicy(k.AccountID, k.Region, ""),
		Tags: map[string]string{}, CreatedAt: k.now()}
	if err := k.Store.CreateKMSKey(ctx, key); err != nil {
		return nil, storeError("create key", err)
	}
	md := &profiles.KeyMetadata{KeyID: id, ARN: arn, State: key.State, Description: description, CreatedAt: key.CreatedAt}
	if alias == "" {
		return md, nil
	}
	now := k.now()
	err = k.Store.CreateKMSAlias(ctx, &profiles.KMSAlias{Name: alias, KeyID: id, CreatedAt: now, LastUpdatedAt: now})
	if err != nil {
		k.Store.DeleteKMSKey(ctx, id) // the alias was taken meanwhile: no half-made key
		if errIs(err, profiles.ECONFLICT) {
			return nil, kmsErrorf(ExAlreadyExists, profiles.ECONFLICT, "An alias with the name %s already exists", k.AliasARN(alias))
		}
		return nil, storeError("create alias", err)
	}
	md.Aliases = []string{alias}
	return md, nil
}

// ListKeys returns every key of the account, oldest first as the store
// lists them, with its aliases.
func (k *KMS) ListKeys(ctx context.Context) ([]*profiles.KeyMetadata, error) {
	keys, err := k.Store.ListKMSKeys(ctx, "", 0)
	if err != nil {
		return nil, storeError("list keys", err)
	}
	aliases, err := k.Store.ListKMSAliases(ctx, "", "", 0)
	if err != nil {
		return nil, storeError("list aliases", err)
	}
	byKey := map[string][]string{}
	for _, a := range aliases {
		byKey[a.KeyID] = append(byKey[a.KeyID], a.Name)
	}
	out := make([]*profiles.KeyMetadata, 0, len(keys))
	for _, key := range keys {
		out = append(out, &profiles.KeyMetadata{KeyID: key.KeyID, ARN: key.ARN, State: key.State,
			Description: key.Description, Aliases: byKey[key.KeyID], CreatedAt: key.CreatedAt})
	}
	return out, nil
}

// ServiceKeyStatement returns ServiceStatement for the keys of this KMS.
func (k *KMS) ServiceKeyStatement() string { return ServiceStatement(k.AccountID, k.Region, "") }
