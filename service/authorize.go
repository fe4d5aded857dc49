package service

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
)

var _ profiles.Authorizer = (*Service)(nil)

// Authorize decides a request from the caller's identity policies (the
// account's root principal may do everything) and, for KMS actions on a key
// of a key manager that reads its own key policies, as AWS KMS decides:
// the key's policy is the primary control, and the identity policies count
// only where it lets them (see decide). Each decision goes to the audit
// log.
func (s *Service) Authorize(ctx context.Context, r *profiles.AuthRequest) error {
	_, err := s.AuthorizeKey(ctx, r)
	return err
}

// AuthorizeKey is Authorize, also reporting whether a grant of the KMS key
// r names allowed the request and no statement of the key's policy did
// (for the built-in KMS's API: CreateGrant through a grant may give no
// more than that grant).
func (s *Service) AuthorizeKey(ctx context.Context, r *profiles.AuthRequest) (byGrant bool, err error) {
	d, err := s.decide(ctx, r)
	outcome := "allow"
	if err != nil {
		outcome = "error"
	} else if !d.Allowed {
		outcome = "deny"
	}
	if s.Audit != nil {
		s.Audit.LogAttrs(ctx, slog.LevelInfo, "authorize",
			slog.String("request_id", r.RequestID),
			slog.String("principal", r.Principal),
			slog.String("action", r.Action),
			slog.String("resource", r.Resource),
			slog.String("outcome", outcome),
			slog.String("source_ip", first(r.Context["aws:SourceIp"])),
			slog.String("reason", d.Reason),
		)
	}
	if err != nil {
		return false, err
	}
	if !d.Allowed {
		return false, profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to perform: %s on resource: %s", r.Principal, r.Action, r.Resource)
	}
	return d.ByGrant, nil
}

// decide decides r. An explicit Deny of the identity policies refuses. A
// KMS action on a key of a key manager that reads its own key policies
// (profiles.KeyPolicyChecker, the built-in KMS) is then the key's to
// decide, as on AWS KMS: a statement of its policy naming the principal
// allows with no identity policy; one naming the account
// (arn:aws:iam::ACCOUNT:root) lets the identity policies decide; a Deny
// refuses; a grant allows; else the request is refused, whatever the
// identity policies say. Any other request (and one on a key that does
// not exist, which the operation answers for) the identity policies
// decide.
func (s *Service) decide(ctx context.Context, r *profiles.AuthRequest) (profiles.KeyDecision, error) {
	if r.Principal == profiles.RootARN(s.AccountID) {
		return profiles.KeyDecision{Allowed: true, Reason: "account root"}, nil
	}
	name, ok := s.principalName(r.Principal)
	if !ok || s.IAM == nil {
		return profiles.KeyDecision{Reason: "unknown principal"}, nil
	}
	if r.Tags != nil {
		tags, err := r.Tags(ctx)
		if err != nil {
			return profiles.KeyDecision{}, err
		}
		for k, v := range tags {
			if r.Context == nil {
				r.Context = map[string][]string{}
			}
			r.Context[k] = v
		}
		r.Tags = nil // added once, should r be authorised again
	}
	identity, err := s.identityPolicies(ctx, name)
	if err != nil {
		return profiles.KeyDecision{}, err
	}
	req := &iam.Request{Principal: r.Principal, Action: r.Action, Resource: r.Resource, Context: r.Context}
	d, reason := iam.Decide(req, identity, nil)
	if d == iam.Deny {
		return profiles.KeyDecision{Reason: reason}, nil
	}
	if strings.HasPrefix(r.Action, "kms:") && r.Resource != "*" {
		if kp, ok := s.Keys.(profiles.KeyPolicyChecker); ok {
			kd, err := kp.DecideKey(ctx, r.Resource, r.Principal, r.Action, r.Context, d == iam.Allow)
			switch {
			case profiles.ErrorCode(err) == profiles.ENOTFOUND:
				// No such key (an alias about to be made, a key deleted):
				// no key policy to ask; the identity policies decide, and
				// the operation answers for the missing key.
			case err != nil:
				return profiles.KeyDecision{}, err
			default:
				return kd, nil
			}
		}
	}
	return profiles.KeyDecision{Allowed: d == iam.Allow, Reason: reason}, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// CheckDomain returns ENOTFOUND unless the domain exists and is not being
// deleted, as the store held it at most domainTTL ago (domaincache.go): a
// domain deleted through this node is forgotten at once.
func (s *Service) CheckDomain(ctx context.Context, name string) error {
	_, err := s.recentDomain(ctx, name)
	return domainErr(err, name)
}

// EncryptionKeyARN returns the ARN of the KMS key of a domain's data. It
// reads the domain as the store held it at most domainTTL ago
// (domaincache.go): a key set through another node is checked from then on.
func (s *Service) EncryptionKeyARN(ctx context.Context, name string) (string, error) {
	d, err := s.recentDomain(ctx, name)
	if err != nil {
		return "", domainErr(err, name)
	}
	keyID := d.DefaultEncryptionKey
	if keyID == "" {
		keyID = s.DefaultKey
	}
	return s.keyARN(ctx, keyID)
}

// ObjectTypeKeyARN returns the ARN of an object type's own EncryptionKey
// ("" for none, or for a missing type).
//
// It reads the type from the store (not the sealing's cache, up to
// metadataTTL old on another node), so that a key just set holds at once.
func (s *Service) ObjectTypeKeyARN(ctx context.Context, domain, objectType string) (string, error) {
	keyID, err := s.storedTypeKey(ctx, domain, objectType)
	if err != nil {
		return "", err
	}
	return s.keyARN(ctx, keyID)
}

// ObjectTypeKeyARNs returns the own keys of the object types that have
// one other than the domain's key, each once (none for a missing domain:
// the operation answers for it).
func (s *Service) ObjectTypeKeyARNs(ctx context.Context, domain string, objectTypes []string) ([]string, error) {
	domainKey, err := s.EncryptionKeyARN(ctx, domain)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range objectTypes {
		typeKey, err := s.ObjectTypeKeyARN(ctx, domain, t)
		if err != nil {
			return nil, err
		}
		if typeKey != "" && typeKey != domainKey && !slices.Contains(out, typeKey) {
			out = append(out, typeKey)
		}
	}
	return out, nil
}

// storedTypeKey reads an object type's own EncryptionKey from the store
// ("" for none, or for a missing type).
func (s *Service) storedTypeKey(ctx context.Context, domain, objectType string) (string, error) {
	var keyID string
	err := s.Store.View(ctx, func(tx profiles.Tx) error {
		t, err := tx.FindObjectType(ctx, domain, objectType)
		if err == nil {
			keyID = t.EncryptionKey
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		return nil
	})
	return keyID, err
}

// KeyARN returns the ARN of a key named by its ARN, id or alias; "" names
// the server's default key.
func (s *Service) KeyARN(ctx context.Context, key string) (string, error) {
	if key == "" {
		key = s.DefaultKey
	}
	return s.keyARN(ctx, key)
}

// keyARN returns the ARN of a key named by its ARN, id or alias ("" for
// "" or without KMS).
func (s *Service) keyARN(ctx context.Context, keyID string) (string, error) {
	if keyID == "" || s.Keys == nil {
		return "", nil
	}
	if isKeyARN(keyID) {
		// DescribeKey answers a key ARN with that ARN, or with not found
		// (and then the name is the answer): no need to ask on every read.
		return keyID, nil
	}
	md, err := s.Keys.DescribeKey(ctx, keyID)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return keyID, nil // authorise on the name the domain holds
	} else if err != nil {
		return "", err
	}
	return md.ARN, nil
}

// isKeyARN reports whether name is the ARN of a KMS key (not of an alias).
func isKeyARN(name string) bool {
	parts := strings.SplitN(name, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" && strings.HasPrefix(parts[5], "key/")
}
