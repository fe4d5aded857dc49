package localkms

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
)

// DefaultPolicyName is the name of the one policy of a key.
const DefaultPolicyName = "default"

// DefaultPolicy returns the AWS default key policy: the account's root
// principal may do kms:* on the key, which lets the account's IAM
// policies grant access to it. It gives profiles.ServicePrincipal nothing.
func DefaultPolicy(accountID string) string {
	return `{
  "Version": "2012-10-17",
  "Id": "key-default-1",
  "Statement": [
    ` + rootStatement(accountID) + `
  ]
}`
}

func rootStatement(accountID string) string {
	return `{
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::` + accountID + `:root"},
      "Action": "kms:*",
      "Resource": "*"
    }`
}

// ServicePolicy returns a key policy for the key of Customer Profiles
// domains: the statement of DefaultPolicy, and a statement that lets
// profiles.ServicePrincipal use the key (kms:GenerateDataKey, kms:Decrypt,
// kms:CreateGrant) on behalf of the domains of the account in the region
// only: aws:SourceAccount must be the account (StringEquals) and
// aws:SourceArn a domain ARN arn:aws:profile:{region}:{account}:domains/*
// (ArnLike), against the confused-deputy problem. The statement's Resource
// is keyARN, or "*" (the key the policy is attached to) when keyARN is
// empty, as when the policy goes with CreateKey.
func ServicePolicy(accountID, region, keyARN string) string {
	return `{
  "Version": "2012-10-17",
  "Id": "openprofiles-domain-key",
  "Statement": [
    ` + rootStatement(accountID) + `,
    ` + ServiceStatement(accountID, region, keyARN) + `
  ]
}`
}

// ServiceStatement returns the statement of ServicePolicy that lets
// profiles.ServicePrincipal use the key keyARN ("" or "*": the key the
// policy is attached to) for the domains of the account in the region.
func ServiceStatement(accountID, region, keyARN string) string {
	if keyARN == "" {
		keyARN = "*"
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{
      "Sid": "Allow Customer Profiles to use the key",
      "Effect": "Allow",
      "Principal": {"Service": "` + profiles.ServicePrincipal + `"},
      "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"],
      "Resource": ` + q(keyARN) + `,
      "Condition": {
        "StringEquals": {"aws:SourceAccount": ` + q(accountID) + `},
        "ArnLike": {"aws:SourceArn": ` + q("arn:aws:profile:"+region+":"+accountID+":domains/*") + `}
      }
    }`
}

// CheckServiceAccess returns nil when the key is enabled and its policy
// lets profiles.ServicePrincipal do kms:GenerateDataKey, kms:Decrypt and
// kms:CreateGrant on it for sourceARN of sourceAccount (the condition keys
// aws:SourceArn and aws:SourceAccount). Otherwise it returns EFORBIDDEN:
// DisabledException or KMSInvalidStateException for a key that is not
// enabled, or AccessDeniedException naming the actions the policy does
// not allow: "The key policy of <key ARN> does not allow
// profile.amazonaws.com kms:GenerateDataKey, kms:CreateGrant for <source ARN>."
// Returns ENOTFOUND.
func (k *KMS) CheckServiceAccess(ctx context.Context, keyID, sourceAccount, sourceARN string) error {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return err
	}
	if err := usable(key); err != nil {
		return err
	}
	pol, err := iam.Parse([]byte(key.Policy))
	if err != nil {
		return fmt.Errorf("localkms: key %s: stored policy: %w", key.ARN, err)
	}
	var denied []string
	for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"} {
		r := &iam.Request{Principal: profiles.ServicePrincipal, Action: action, Resource: key.ARN,
			Context: map[string][]string{"aws:SourceAccount": {sourceAccount}, "aws:SourceArn": {sourceARN}}}
		if ok, _ := iam.Authorize(r, nil, []*iam.Policy{pol}); !ok {
			denied = append(denied, action)
		}
	}
	if len(denied) > 0 {
		return accessDeniedf("The key policy of %s does not allow %s %s for %s.",
			key.ARN, profiles.ServicePrincipal, strings.Join(denied, ", "), sourceARN)
	}
	return nil
}

// parsePolicy parses a key policy given to CreateKey or PutKeyPolicy.
// Returns MalformedPolicyDocumentException (EINVALID).
func parsePolicy(doc string) (*iam.Policy, error) {
	pol, err := iam.ParseResourcePolicy([]byte(doc))
	if err != nil {
		return nil, kmsErrorf(ExMalformedPolicyDocument, profiles.EINVALID, "The key policy is malformed: %v", err)
	}
	return pol, nil
}

// checkLockout refuses a policy that would not let the caller change it
// again, as AWS KMS does unless BypassPolicyLockoutSafetyCheck is set.
func (k *KMS) checkLockout(pol *iam.Policy, principal, keyARN string) error {
	r := &iam.Request{Principal: principal, Action: "kms:PutKeyPolicy", Resource: keyARN,
		Context: map[string][]string{"kms:CallerAccount": {k.AccountID}}}
	if pol.Evaluate(r) != iam.Allow {
		return kmsErrorf(ExMalformedPolicyDocument, profiles.EINVALID,
			"The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}

// caller is who calls the KMS API, and the identity check of the server.
type caller struct {
	principal string
	authorize Authorize
	cond      map[string][]string // condition keys of the request
}

// Authorize decides whether principal may do action on resource by the
// identity policies, given the request's condition keys (aws:SourceIp,
// aws:CurrentTime, …); it returns an EFORBIDDEN error to refuse.
type Authorize func(ctx context.Context, principal, action, resource string, cond map[string][]string) error

// allow authorises the caller's action (kms:<Op>) on a resource ("*" or a
// key ARN) by the authorize callback and, for a key, by the key's policy
// and grants: an explicit Deny of the policy refuses; an Allow, directly
// or through the caller's account (whose identity policies the callback
// checked), allows; else a grant to the caller for the operation whose
// constraints the encryption context meets allows. Returns EFORBIDDEN
// (AccessDeniedException).
func (k *KMS) allow(ctx context.Context, c *caller, action string, key *profiles.KMSKey, ec map[string]string) error {
	_, err := k.allowedBy(ctx, c, action, key, ec)
	return err
}

// allowedBy is allow, returning the grant that allowed the action (nil when
// the identity and key policies did, or refused it).
func (k *KMS) allowedBy(ctx context.Context, c *caller, action string, key *profiles.KMSKey, ec map[string]string) (*profiles.KMSGrant, error) {
	resource := "*"
	if key != nil {
		resource = key.ARN
	}
	// Both policies see the request's global keys (aws:SourceIp,
	// aws:SecureTransport, aws:CurrentTime, …) and the KMS keys of the
	// request (kms:CallerAccount, kms:EncryptionContext:…), as on AWS.
	cond := maps.Clone(c.cond)
	if cond == nil {
		cond = map[string][]string{}
	}
	maps.Copy(cond, requestContext(k.AccountID, c.principal, ec))
	if c.authorize != nil {
		if err := c.authorize(ctx, c.principal, action, resource, cond); err != nil {
			return nil, err
		}
	}
	if key == nil {
		return nil, nil
	}
	pol, err := iam.Parse([]byte(key.Policy))
	if err != nil {
		return nil, fmt.Errorf("localkms: key %s: stored policy: %w", key.ARN, err)
	}
	r := &iam.Request{Principal: c.principal, Action: action, Resource: key.ARN, Context: cond}
	switch pol.Evaluate(r) {
	case iam.Allow:
		return nil, nil
	case iam.Deny:
		return nil, accessDeniedf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a resource-based policy",
			c.principal, action, key.ARN)
	}
	grants, err := k.Store.ListKMSGrants(ctx, key.KeyID, "", 0)
	if err != nil {
		return nil, storeError("list grants", err)
	}
	op := strings.TrimPrefix(action, "kms:")
	for _, g := range grants {
		if g.GranteePrincipal == c.principal && slices.Contains(g.Operations, op) && grantContextOK(g, op, ec) {
			return g, nil
		}
	}
	return nil, accessDeniedf("User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
		c.principal, action, key.ARN, action)
}

// encryptionContextOf returns the encryption context that condition keys
// carry (kms:EncryptionContext:<key>, as requestContext writes them).
func encryptionContextOf(cond map[string][]string) map[string]string {
	var ec map[string]string
	for k, v := range cond {
		if key, ok := strings.CutPrefix(k, "kms:EncryptionContext:"); ok && len(v) == 1 {
			if ec == nil {
				ec = map[string]string{}
			}
			ec[key] = v[0]
		}
	}
	return ec
}

// requestContext returns the condition keys of a KMS request:
// kms:CallerAccount, kms:EncryptionContext:<key> and
// kms:EncryptionContextKeys.
func requestContext(account, principal string, ec map[string]string) map[string][]string {
	m := map[string][]string{}
	if parts := strings.SplitN(principal, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		m["kms:CallerAccount"] = []string{parts[4]}
	}
	var keys []string
	for key, v := range ec {
		m["kms:EncryptionContext:"+key] = []string{v}
		keys = append(keys, key)
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		m["kms:EncryptionContextKeys"] = keys
	}
	return m
}

// grantContextOK reports whether the encryption context meets the
// constraints of a grant. Constraints apply to the cryptographic
// operations only.
func grantContextOK(g *profiles.KMSGrant, op string, ec map[string]string) bool {
	switch op {
	case "Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo":
	default:
		return true
	}
	if len(g.EncryptionContextEquals) > 0 {
		if len(ec) != len(g.EncryptionContextEquals) {
			return false
		}
		for key, v := range g.EncryptionContextEquals {
			if got, ok := ec[key]; !ok || got != v {
				return false
			}
		}
	}
	for key, v := range g.EncryptionContextSubset {
		if got, ok := ec[key]; !ok || got != v {
			return false
		}
	}
	return true
}
