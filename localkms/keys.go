package localkms

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// The key and alias operations of the KMS API. Each authorises the caller
// with allow once it knows the key.

type createKeyInput struct {
	Description                    *string
	KeyUsage                       string
	KeySpec                        string
	CustomerMasterKeySpec          string
	Origin                         string
	Policy                         *string
	BypassPolicyLockoutSafetyCheck bool
	Tags                           []tag
	MultiRegion                    bool
}

func (k *KMS) createKey(ctx context.Context, c *caller, in *createKeyInput) (any, error) {
	if err := k.allow(ctx, c, "kms:CreateKey", nil, nil); err != nil {
		return nil, err
	}
	if in.KeyUsage != "" && in.KeyUsage != KeyUsage {
		return nil, kmsErrorf(ExUnsupportedOperation, profiles.EINVALID,
			"KeyUsage %s is not supported: the built-in KMS makes %s keys only.", in.KeyUsage, KeyUsage)
	}
	for _, spec := range []string{in.KeySpec, in.CustomerMasterKeySpec} {
		if spec != "" && spec != KeySpec {
			return nil, kmsErrorf(ExUnsupportedOperation, profiles.EINVALID,
				"KeySpec %s is not supported: the built-in KMS makes %s keys only.", spec, KeySpec)
		}
	}
	if in.Origin != "" && in.Origin != "AWS_KMS" {
		return nil, kmsErrorf(ExUnsupportedOperation, profiles.EINVALID, "Origin %s is not supported: only AWS_KMS is.", in.Origin)
	}
	if in.MultiRegion {
		return nil, kmsErrorf(ExUnsupportedOperation, profiles.EINVALID, "Multi-Region keys are not supported.")
	}
	description := ""
	if in.Description != nil {
		description = *in.Description
	}
	if utf8.RuneCountInString(description) > 8192 {
		return nil, validationf("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}

	id := newUUID()
	arn := k.KeyARN(id)
	policy := DefaultPolicy(k.AccountID)
	if in.Policy != nil {
		pol, err := parsePolicy(*in.Policy)
		if err != nil {
			return nil, err
		}
		if !in.BypassPolicyLockoutSafetyCheck {
			if err := k.checkLockout(pol, c.principal, arn); err != nil {
				return nil, err
			}
		}
		policy = *in.Policy
	}
	wrapped, err := k.wrap(arn, newKeyMaterial())
	if err != nil {
		return nil, err
	}
	key := &profiles.KMSKey{KeyID: id, ARN: arn, Description: description, State: profiles.KeyStateEnabled,
		KeySpec: KeySpec, KeyUsage: KeyUsage, WrappedMaterial: wrapped, Policy: policy, Tags: tags,
		CreatedAt: k.now()}
	if err := k.Store.CreateKMSKey(ctx, key); err != nil {
		return nil, storeError("create key", err)
	}
	return keyOutput{k.metadata(key)}, nil
}

// checkTags validates the tags of CreateKey. Returns TagException.
func checkTags(tags []tag) (map[string]string, error) {
	if len(tags) > 50 {
		return nil, kmsErrorf(ExTag, profiles.EINVALID, "A key can have at most 50 tags.")
	}
	out := map[string]string{}
	for i, t := range tags {
		if n := utf8.RuneCountInString(t.TagKey); n < 1 || n > 128 || strings.HasPrefix(t.TagKey, "aws:") {
			return nil, kmsErrorf(ExTag, profiles.EINVALID, "Tag %d: TagKey must be 1 to 128 characters and must not begin with aws:.", i+1)
		}
		if utf8.RuneCountInString(t.TagValue) > 256 {
			return nil, kmsErrorf(ExTag, profiles.EINVALID, "Tag %d: TagValue must be at most 256 characters.", i+1)
		}
		if _, dup := out[t.TagKey]; dup {
			return nil, kmsErrorf(ExTag, profiles.EINVALID, "Tag key %q is given twice.", t.TagKey)
		}
		out[t.TagKey] = t.TagValue
	}
	return out, nil
}

func (k *KMS) describeKey(ctx context.Context, c *caller, in *keyIDInput) (any, error) {
	key, err := k.resolveFor(ctx, c, "kms:DescribeKey", in.KeyId)
	if err != nil {
		return nil, err
	}
	return keyOutput{k.metadata(key)}, nil
}

// resolveFor resolves a key and authorises the caller's action on it.
func (k *KMS) resolveFor(ctx context.Context, c *caller, action, keyID string) (*profiles.KMSKey, error) {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if err := k.allow(ctx, c, action, key, nil); err != nil {
		return nil, err
	}
	return key, nil
}

type listInput struct {
	KeyId  string
	Limit  *int32
	Marker *string
}

type keyListEntry struct {
	KeyId  string
	KeyArn string
}

type listKeysOutput struct {
	Keys       []keyListEntry
	Truncated  bool
	NextMarker string `json:",omitempty"`
}

func (k *KMS) listKeys(ctx context.Context, c *caller, in *listInput) (any, error) {
	if err := k.allow(ctx, c, "kms:ListKeys", nil, nil); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit, 1000, 100)
	if err != nil {
		return nil, err
	}
	after, err := decodeMarker(in.Marker)
	if err != nil {
		return nil, err
	}
	keys, err := k.Store.ListKMSKeys(ctx, after, limit+1)
	if err != nil {
		return nil, storeError("list keys", err)
	}
	out := listKeysOutput{Keys: []keyListEntry{}}
	if len(keys) > limit {
		keys = keys[:limit]
		out.Truncated, out.NextMarker = true, encodeMarker(keys[limit-1].KeyID)
	}
	for _, key := range keys {
		if !k.due(key) {
			out.Keys = append(out.Keys, keyListEntry{key.KeyID, key.ARN})
		}
	}
	return out, nil
}

// setState runs the update of a key's state (EnableKey, DisableKey, …):
// it resolves and authorises, then applies fn in one store update.
func (k *KMS) setState(ctx context.Context, c *caller, action, keyID string, fn func(*profiles.KMSKey) error) (*profiles.KMSKey, error) {
	key, err := k.resolveFor(ctx, c, action, keyID)
	if err != nil {
		return nil, err
	}
	if err := k.notServiceOwned(ctx, key, action); err != nil {
		return nil, err
	}
	key, err = k.Store.UpdateKMSKey(ctx, key.KeyID, fn)
	if err != nil {
		return nil, storeError("update key", err)
	}
	return key, nil
}

// notServiceOwned refuses an action that manages the service's own key
// (the key of domains without one, DefaultKeyAlias), as AWS refuses
// account users the management of AWS-owned keys: a user allowed kms:*
// could disable or delete it and make every such domain unreadable.
func (k *KMS) notServiceOwned(ctx context.Context, key *profiles.KMSKey, action string) error {
	def, err := k.resolve(ctx, DefaultKeyAlias)
	if errIs(err, profiles.ENOTFOUND) {
		return nil
	} else if err != nil {
		return err
	}
	if def.KeyID == key.KeyID {
		return accessDeniedf("%s is the service's own key (%s): %s is not allowed on it.", key.ARN, DefaultKeyAlias, action)
	}
	return nil
}

// notPending refuses a change of a key pending deletion.
func notPending(key *profiles.KMSKey) error {
	if key.State == profiles.KeyStatePendingDeletion {
		return invalidStatef("%s is pending deletion.", key.ARN)
	}
	return nil
}

func (k *KMS) enableKey(ctx context.Context, c *caller, in *keyIDInput) (any, error) {
	_, err := k.setState(ctx, c, "kms:EnableKey", in.KeyId, func(key *profiles.KMSKey) error {
		if err := notPending(key); err != nil {
			return err
		}
		key.State = profiles.KeyStateEnabled
		return nil
	})
	return struct{}{}, err
}

func (k *KMS) disableKey(ctx context.Context, c *caller, in *keyIDInput) (any, error) {
	_, err := k.setState(ctx, c, "kms:DisableKey", in.KeyId, func(key *profiles.KMSKey) error {
		if err := notPending(key); err != nil {
			return err
		}
		key.State = profiles.KeyStateDisabled
		return nil
	})
	return struct{}{}, err
}

type scheduleKeyDeletionInput struct {
	KeyId               string
	PendingWindowInDays *int32
}

type scheduleKeyDeletionOutput struct {
	KeyId               string
	DeletionDate        epoch
	KeyState            string
	PendingWindowInDays int32
}

func (k *KMS) scheduleKeyDeletion(ctx context.Context, c *caller, in *scheduleKeyDeletionInput) (any, error) {
	days := int32(30)
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, validationf("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: "+
			"Member must have value between 7 and 30", days)
	}
	key, err := k.setState(ctx, c, "kms:ScheduleKeyDeletion", in.KeyId, func(key *profiles.KMSKey) error {
		if err := notPending(key); err != nil {
			return err
		}
		key.State = profiles.KeyStatePendingDeletion
		key.DeletionDate = k.now().Add(time.Duration(days) * 24 * time.Hour)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return scheduleKeyDeletionOutput{key.ARN, epoch(key.DeletionDate), key.State, days}, nil
}

type keyIDOutput struct {
	KeyId string
}

func (k *KMS) cancelKeyDeletion(ctx context.Context, c *caller, in *keyIDInput) (any, error) {
	key, err := k.setState(ctx, c, "kms:CancelKeyDeletion", in.KeyId, func(key *profiles.KMSKey) error {
		if key.State != profiles.KeyStatePendingDeletion {
			return invalidStatef("%s is not pending deletion.", key.ARN)
		}
		key.State, key.DeletionDate = profiles.KeyStateDisabled, time.Time{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keyIDOutput{key.ARN}, nil
}

type updateKeyDescriptionInput struct {
	KeyId       string
	Description string
}

func (k *KMS) updateKeyDescription(ctx context.Context, c *caller, in *updateKeyDescriptionInput) (any, error) {
	if utf8.RuneCountInString(in.Description) > 8192 {
		return nil, validationf("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192")
	}
	_, err := k.setState(ctx, c, "kms:UpdateKeyDescription", in.KeyId, func(key *profiles.KMSKey) error {
		if err := notPending(key); err != nil {
			return err
		}
		key.Description = in.Description
		return nil
	})
	return struct{}{}, err
}

type policyInput struct {
	KeyId                          string
	PolicyName                     string
	Policy                         *string
	BypassPolicyLockoutSafetyCheck bool
}

type getKeyPolicyOutput struct {
	Policy     string
	PolicyName string
}

func checkPolicyName(name string) error {
	if name != "" && name != DefaultPolicyName {
		return notFoundf("No such policy exists: %s. A key has one policy, named %q.", name, DefaultPolicyName)
	}
	return nil
}

func (k *KMS) getKeyPolicy(ctx context.Context, c *caller, in *policyInput) (any, error) {
	key, err := k.resolveFor(ctx, c, "kms:GetKeyPolicy", in.KeyId)
	if err != nil {
		return nil, err
	}
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	return getKeyPolicyOutput{key.Policy, DefaultPolicyName}, nil
}

func (k *KMS) putKeyPolicy(ctx context.Context, c *caller, in *policyInput) (any, error) {
	if in.Policy == nil {
		return nil, validationf("1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
	}
	key, err := k.resolveFor(ctx, c, "kms:PutKeyPolicy", in.KeyId)
	if err == nil {
		err = k.notServiceOwned(ctx, key, "kms:PutKeyPolicy")
	}
	if err != nil {
		return nil, err
	}
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	pol, err := parsePolicy(*in.Policy)
	if err != nil {
		return nil, err
	}
	if !in.BypassPolicyLockoutSafetyCheck {
		if err := k.checkLockout(pol, c.principal, key.ARN); err != nil {
			return nil, err
		}
	}
	_, err = k.Store.UpdateKMSKey(ctx, key.KeyID, func(key *profiles.KMSKey) error {
		if err := notPending(key); err != nil {
			return err
		}
		key.Policy = *in.Policy
		return nil
	})
	if err != nil {
		return nil, storeError("update key", err)
	}
	return struct{}{}, nil
}

// aliasName is the grammar of alias names.
var aliasName = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)

// checkAliasName validates an alias name. Returns
// InvalidAliasNameException (EINVALID).
func checkAliasName(name string) error {
	if !aliasName.MatchString(name) {
		return kmsErrorf(ExInvalidAliasName, profiles.EINVALID,
			"Alias name %q must begin with alias/ followed by 1 to 250 of a-z, A-Z, 0-9, /, _ and -.", name)
	}
	if strings.HasPrefix(name, "alias/aws/") {
		return kmsErrorf(ExInvalidAliasName, profiles.EINVALID, "Alias names that begin with alias/aws/ are reserved.")
	}
	return nil
}

type aliasInput struct {
	AliasName   string
	TargetKeyId string
}

// aliasTarget resolves the target key of CreateAlias or UpdateAlias: a key
// id or key ARN, not an alias, of a key not pending deletion.
func (k *KMS) aliasTarget(ctx context.Context, c *caller, action, target string) (*profiles.KMSKey, error) {
	if strings.HasPrefix(target, "alias/") || strings.Contains(target, ":alias/") {
		return nil, validationf("Aliases must refer to keys, not to aliases: TargetKeyId %s.", target)
	}
	key, err := k.resolveFor(ctx, c, action, target)
	if err != nil {
		return nil, err
	}
	return key, notPending(key)
}

func (k *KMS) createAlias(ctx context.Context, c *caller, in *aliasInput) (any, error) {
	if err := checkAliasName(in.AliasName); err != nil {
		return nil, err
	}
	key, err := k.aliasTarget(ctx, c, "kms:CreateAlias", in.TargetKeyId)
	if err != nil {
		return nil, err
	}
	now := k.now()
	err = k.Store.CreateKMSAlias(ctx, &profiles.KMSAlias{Name: in.AliasName, KeyID: key.KeyID, CreatedAt: now, LastUpdatedAt: now})
	if errIs(err, profiles.ECONFLICT) {
		return nil, kmsErrorf(ExAlreadyExists, profiles.ECONFLICT, "An alias with the name %s already exists", k.AliasARN(in.AliasName))
	} else if err != nil {
		return nil, storeError("create alias", err)
	}
	return struct{}{}, nil
}

// findAlias returns the named alias and its key, authorising the caller's
// action on the key.
func (k *KMS) findAlias(ctx context.Context, c *caller, action, name string) (*profiles.KMSAlias, error) {
	if err := checkAliasName(name); err != nil {
		return nil, err
	}
	a, err := k.Store.FindKMSAlias(ctx, name)
	if errIs(err, profiles.ENOTFOUND) {
		return nil, notFoundf("Alias %s is not found.", k.AliasARN(name))
	} else if err != nil {
		return nil, storeError("find alias", err)
	}
	if _, err := k.resolveFor(ctx, c, action, a.KeyID); err != nil {
		return nil, err
	}
	return a, nil
}

func (k *KMS) updateAlias(ctx context.Context, c *caller, in *aliasInput) (any, error) {
	if in.AliasName == DefaultKeyAlias {
		return nil, accessDeniedf("%s names the service's own key: it cannot be changed.", DefaultKeyAlias)
	}
	if _, err := k.findAlias(ctx, c, "kms:UpdateAlias", in.AliasName); err != nil {
		return nil, err
	}
	key, err := k.aliasTarget(ctx, c, "kms:UpdateAlias", in.TargetKeyId)
	if err != nil {
		return nil, err
	}
	if _, err := k.Store.UpdateKMSAlias(ctx, in.AliasName, key.KeyID, k.now()); err != nil {
		return nil, storeError("update alias", err)
	}
	return struct{}{}, nil
}

func (k *KMS) deleteAlias(ctx context.Context, c *caller, in *aliasInput) (any, error) {
	if in.AliasName == DefaultKeyAlias {
		return nil, accessDeniedf("%s names the service's own key: it cannot be deleted.", DefaultKeyAlias)
	}
	if _, err := k.findAlias(ctx, c, "kms:DeleteAlias", in.AliasName); err != nil {
		return nil, err
	}
	if err := k.Store.DeleteKMSAlias(ctx, in.AliasName); err != nil {
		return nil, storeError("delete alias", err)
	}
	return struct{}{}, nil
}

type listAliasesOutput struct {
	Aliases    []aliasEntry
	Truncated  bool
	NextMarker string `json:",omitempty"`
}

func (k *KMS) listAliases(ctx context.Context, c *caller, in *listInput) (any, error) {
	if err := k.allow(ctx, c, "kms:ListAliases", nil, nil); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit, 100, 50)
	if err != nil {
		return nil, err
	}
	after, err := decodeMarker(in.Marker)
	if err != nil {
		return nil, err
	}
	keyID := ""
	if in.KeyId != "" {
		key, err := k.resolve(ctx, in.KeyId)
		if err != nil {
			return nil, err
		}
		keyID = key.KeyID
	}
	aliases, err := k.Store.ListKMSAliases(ctx, keyID, after, limit+1)
	if err != nil {
		return nil, storeError("list aliases", err)
	}
	out := listAliasesOutput{Aliases: []aliasEntry{}}
	if len(aliases) > limit {
		aliases = aliases[:limit]
		out.Truncated, out.NextMarker = true, encodeMarker(aliases[limit-1].Name)
	}
	for _, a := range aliases {
		out.Aliases = append(out.Aliases, aliasEntry{a.Name, k.AliasARN(a.Name), a.KeyID,
			epoch(a.CreatedAt), epoch(a.LastUpdatedAt)})
	}
	return out, nil
}
