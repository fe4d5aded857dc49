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

// caller is who calls the KMS API, and the server's check of the call.
type caller struct {
	principal string
	authorize Authorize
	cond      map[string][]string // condition keys of the request
}

// Authorize is the server's decision on a call of the KMS API: principal
// doing action on resource ("*" or a key ARN), given the request's
// condition keys (aws:SourceIp, aws:CurrentTime, kms:CallerAccount,
// kms:EncryptionContext:…). It returns an EFORBIDDEN error to refuse. For
// a key, the server decides from the caller's identity policies and the
// key's policy and grants as AWS KMS does (in OpenProfiles, the service's
// Authorizer, through KMS.DecideKey), and byGrant reports that a grant
// of the key allowed the call and no statement of its policy did.
type Authorize func(ctx context.Context, principal, action, resource string, cond map[string][]string) (byGrant bool, err error)

// allow authorises the caller's action (kms:<Op>) on a resource ("*" or a
// key ARN): by the authorize callback, and, for a key, by the key's own
// policy and grants as well (see verdict; the callback having allowed,
// the caller's identity policies count where the key policy lets them;
// without a callback a statement naming the account allows). Returns
// EFORBIDDEN (AccessDeniedException).
func (k *KMS) allow(ctx context.Context, c *caller, action string, key *profiles.KMSKey, ec map[string]string) error {
	_, err := k.allowedBy(ctx, c, action, key, ec)
	return err
}

// allowedBy is allow, returning the grant that allowed the action (nil when
// a statement of the key policy did, or refused it).
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
	byGrant := false
	if c.authorize != nil {
		var err error
		if byGrant, err = c.authorize(ctx, c.principal, action, resource, cond); err != nil {
			return nil, err
		}
	}
	if key == nil {
		return nil, nil
	}
	v, err := k.verdict(ctx, key, c.principal, action, cond, ec, true)
	if err != nil {
		return nil, err
	}
	switch {
	case v.explicitDeny:
		return nil, accessDeniedf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a resource-based policy",
			c.principal, action, key.ARN)
	case !v.Allowed:
		return nil, accessDeniedf("User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
			c.principal, action, key.ARN, action)
	case v.ByGrant:
		return v.grant, nil
	case byGrant:
		// The server's decision rested on a grant (the identity policies
		// did not allow what the key policy let them): the grant's
		// limits hold.
		g, err := k.grantFor(ctx, key, c.principal, action, ec)
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, accessDeniedf("User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
				c.principal, action, key.ARN, action)
		}
		return g, nil
	}
	return nil, nil
}

var _ profiles.KeyPolicyChecker = (*KMS)(nil)

// DecideKey decides, as AWS KMS does, whether the principal may perform
// the action on the key (see profiles.KeyPolicyChecker), given the
// request's condition keys (the global ones, and the encryption context
// as kms:EncryptionContext:…) and whether the principal's identity
// policies allow the action. Returns ENOTFOUND.
func (k *KMS) DecideKey(ctx context.Context, keyID, principal, action string, cond map[string][]string, identityAllows bool) (profiles.KeyDecision, error) {
	key, err := k.resolve(ctx, keyID)
	if err != nil {
		return profiles.KeyDecision{}, err
	}
	cond = maps.Clone(cond)
	if cond == nil {
		cond = map[string][]string{}
	}
	ec := encryptionContextOf(cond)
	maps.Copy(cond, requestContext(k.AccountID, principal, ec))
	v, err := k.verdict(ctx, key, principal, action, cond, ec, identityAllows)
	return v.KeyDecision, err
}

// keyVerdict is the decision of a key's policy and grants on a request.
type keyVerdict struct {
	profiles.KeyDecision
	explicitDeny bool               // refused by a Deny statement of the key policy
	grant        *profiles.KMSGrant // the grant that allowed, when ByGrant
}

// verdict decides a request on the key as AWS KMS does: a Deny statement
// of the key policy refuses; a statement naming the principal allows; a
// statement naming its account allows when identityAllows; else a grant
// to the principal for the operation, whose constraints ec meets, allows.
func (k *KMS) verdict(ctx context.Context, key *profiles.KMSKey, principal, action string, cond map[string][]string, ec map[string]string, identityAllows bool) (keyVerdict, error) {
	pol, err := iam.Parse([]byte(key.Policy))
	if err != nil {
		return keyVerdict{}, fmt.Errorf("localkms: key %s: stored policy: %w", key.ARN, err)
	}
	d, byAccount, reason := pol.EvaluateResource(&iam.Request{Principal: principal, Action: action, Resource: key.ARN, Context: cond})
	switch {
	case d == iam.Deny:
		return keyVerdict{KeyDecision: profiles.KeyDecision{Reason: "key policy: " + reason}, explicitDeny: true}, nil
	case d == iam.Allow && !byAccount:
		return keyVerdict{KeyDecision: profiles.KeyDecision{Allowed: true, Reason: "key policy: " + reason}}, nil
	case d == iam.Allow && identityAllows:
		return keyVerdict{KeyDecision: profiles.KeyDecision{Allowed: true, Reason: "identity policies, which the key policy lets decide (" + reason + ")"}}, nil
	}
	g, err := k.grantFor(ctx, key, principal, action, ec)
	if err != nil {
		return keyVerdict{}, err
	}
	if g != nil {
		return keyVerdict{KeyDecision: profiles.KeyDecision{Allowed: true, ByGrant: true, Reason: "grant " + g.GrantID + " of the key"}, grant: g}, nil
	}
	if d == iam.Allow {
		return keyVerdict{KeyDecision: profiles.KeyDecision{Reason: "no identity policy allows it, nor a grant (key policy: " + reason + ")"}}, nil
	}
	return keyVerdict{KeyDecision: profiles.KeyDecision{Reason: "neither the key policy nor a grant allows it; identity policies count only where the key policy names the account"}}, nil
}

// grantFor returns a grant of the key to the principal for the action's
// operation whose constraints ec meets, or nil.
func (k *KMS) grantFor(ctx context.Context, key *profiles.KMSKey, principal, action string, ec map[string]string) (*profiles.KMSGrant, error) {
	grants, err := k.Store.ListKMSGrants(ctx, key.KeyID, "", 0)
	if err != nil {
		return nil, storeError("list grants", err)
	}
	op := strings.TrimPrefix(action, "kms:")
	for _, g := range grants {
		if g.GranteePrincipal == principal && slices.Contains(g.Operations, op) && grantContextOK(g, op, ec) {
			return g, nil
		}
	}
	return nil, nil
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
