package service

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
)

var _ profiles.IAMService = (*Service)(nil)

var (
	principalNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyNameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// CreatePrincipal creates a user or a role.
func (s *Service) CreatePrincipal(ctx context.Context, typ, name string) (*profiles.Principal, error) {
	if typ != profiles.PrincipalUser && typ != profiles.PrincipalRole {
		return nil, profiles.Errorf(profiles.EINVALID, "A principal is a user or a role, not %q.", typ)
	}
	if !principalNameRE.MatchString(name) {
		return nil, profiles.Errorf(profiles.EINVALID, "The name %q must be 1 to 64 letters, digits or +=,.@_-.", name)
	}
	prefix := "AIDA"
	if typ == profiles.PrincipalRole {
		prefix = "AROA"
	}
	p := &profiles.Principal{Name: name, Type: typ, ID: prefix + randomID(17),
		ARN: "arn:aws:iam::" + s.AccountID + ":" + typ + "/" + name, CreatedAt: s.now()}
	if err := s.IAM.CreatePrincipal(ctx, p); err != nil {
		if profiles.ErrorCode(err) == profiles.ECONFLICT {
			return nil, profiles.Errorf(profiles.ECONFLICT, "A user or role with name %s already exists.", name)
		}
		return nil, err
	}
	return p, nil
}

// GetPrincipal returns a principal of the type.
func (s *Service) GetPrincipal(ctx context.Context, typ, name string) (*profiles.Principal, error) {
	p, err := s.IAM.FindPrincipal(ctx, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND || err == nil && p.Type != typ {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "The %s with name %s cannot be found.", typ, name)
	}
	return p, err
}

// ListPrincipals returns one page of the principals of the type.
func (s *Service) ListPrincipals(ctx context.Context, typ string, page profiles.Page) ([]*profiles.Principal, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	scope := "ListPrincipals/" + typ
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	ps, err := s.IAM.ListPrincipals(ctx, typ, after, size+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ps) > size {
		ps = ps[:size]
		next = s.tokens.encode(scope, ps[size-1].Name)
	}
	return ps, next, nil
}

// DeletePrincipal deletes a principal with its keys and policies.
func (s *Service) DeletePrincipal(ctx context.Context, typ, name string) error {
	if _, err := s.GetPrincipal(ctx, typ, name); err != nil {
		return err
	}
	defer s.forgetPolicies(name)
	return s.IAM.DeletePrincipal(ctx, name)
}

// CreateAccessKey makes a new active access key for a principal.
func (s *Service) CreateAccessKey(ctx context.Context, principal string) (*profiles.AccessKey, string, error) {
	if _, err := s.IAM.FindPrincipal(ctx, principal); err != nil {
		return nil, "", principalErr(err, principal)
	}
	id := "AKIA" + randomID(16)
	secret := randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	sealed, err := s.sealSecret(id, secret)
	if err != nil {
		return nil, "", err
	}
	k := &profiles.AccessKey{ID: id, PrincipalName: principal, SealedSecret: sealed, Status: profiles.AccessKeyActive, CreatedAt: s.now()}
	if err := s.IAM.CreateAccessKey(ctx, k); err != nil {
		if profiles.ErrorCode(err) == profiles.EQUOTA {
			return nil, "", profiles.Errorf(profiles.EQUOTA, "Cannot exceed quota for AccessKeysPerUser: %d active keys.", profiles.MaxActiveAccessKeys)
		}
		return nil, "", principalErr(err, principal)
	}
	return k, secret, nil
}

// ListAccessKeys returns a principal's access keys.
func (s *Service) ListAccessKeys(ctx context.Context, principal string) ([]*profiles.AccessKey, error) {
	keys, err := s.IAM.ListAccessKeys(ctx, principal)
	return keys, principalErr(err, principal)
}

// UpdateAccessKey sets a key Active or Inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, principal, id, status string) error {
	if status != profiles.AccessKeyActive && status != profiles.AccessKeyInactive {
		return profiles.Errorf(profiles.EINVALID, "Status must be Active or Inactive, not %q.", status)
	}
	err := s.IAM.UpdateAccessKeyStatus(ctx, principal, id, status)
	if profiles.ErrorCode(err) == profiles.EQUOTA {
		return profiles.Errorf(profiles.EQUOTA, "Cannot exceed quota for AccessKeysPerUser: %d active keys.", profiles.MaxActiveAccessKeys)
	}
	return keyErr(err, principal, id)
}

// DeleteAccessKey deletes a key.
func (s *Service) DeleteAccessKey(ctx context.Context, principal, id string) error {
	return keyErr(s.IAM.DeleteAccessKey(ctx, principal, id), principal, id)
}

// PutPolicy attaches (or replaces) an inline identity policy.
func (s *Service) PutPolicy(ctx context.Context, principal, name, document string) error {
	if !policyNameRE.MatchString(name) {
		return profiles.Errorf(profiles.EINVALID, "The policy name %q must be 1 to 128 letters, digits or +=,.@_-.", name)
	}
	if _, err := iam.ParseIdentityPolicy([]byte(document)); err != nil {
		return profiles.Errorf(profiles.EINVALID, "Policy %s is malformed: %v", name, err)
	}
	defer s.forgetPolicies(principal)
	err := s.IAM.PutPrincipalPolicy(ctx, &profiles.PrincipalPolicy{PrincipalName: principal, PolicyName: name, Document: document, UpdatedAt: s.now()})
	return principalErr(err, principal)
}

// GetPolicy returns an inline policy.
func (s *Service) GetPolicy(ctx context.Context, principal, name string) (*profiles.PrincipalPolicy, error) {
	p, err := s.IAM.FindPrincipalPolicy(ctx, principal, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "The policy %s of %s cannot be found.", name, principal)
	}
	return p, err
}

// ListPolicies returns the names of a principal's inline policies.
func (s *Service) ListPolicies(ctx context.Context, principal string) ([]string, error) {
	ps, err := s.IAM.ListPrincipalPolicies(ctx, principal)
	if err != nil {
		return nil, principalErr(err, principal)
	}
	names := []string{}
	for _, p := range ps {
		names = append(names, p.PolicyName)
	}
	return names, nil
}

// DeletePolicy detaches an inline policy.
func (s *Service) DeletePolicy(ctx context.Context, principal, name string) error {
	defer s.forgetPolicies(principal)
	err := s.IAM.DeletePrincipalPolicy(ctx, principal, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return profiles.Errorf(profiles.ENOTFOUND, "The policy %s of %s cannot be found.", name, principal)
	}
	return err
}

// GetAccessKey returns an access key by id.
func (s *Service) GetAccessKey(ctx context.Context, id string) (*profiles.AccessKey, error) {
	if s.IAM == nil {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "The access key %s cannot be found.", id)
	}
	k, err := s.IAM.FindAccessKey(ctx, id)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "The access key %s cannot be found.", id)
	}
	return k, err
}

// keyUseEvery is how often a key's use is recorded at most (LastUsedAt),
// and keyUseWriteTimeout how long its write may take.
const (
	keyUseEvery        = time.Minute
	keyUseWriteTimeout = 10 * time.Second
)

// NoteKeyUse records that a request signed with an access key verified:
// its LastUsedAt, written at most once a keyUseEvery per key and node. The
// root key, which the store does not hold, is passed over. The write runs
// beside the request, not in its way (on SQLite it waits for the one
// writer); one that fails is logged and tried again at the key's next use.
// Close waits for writes under way.
func (s *Service) NoteKeyUse(_ context.Context, id, principal string) {
	if s.IAM == nil || principal == profiles.RootARN(s.AccountID) {
		return
	}
	now := s.now()
	if last, ok := s.keyUses.Load(id); ok && now.Sub(last.(time.Time)) < keyUseEvery {
		return
	}
	s.keyUses.Store(id, now)
	bg := s.bg.context()
	if bg.Err() != nil {
		return
	}
	s.bg.wg.Go(func() {
		// Not cut short by Close, which waits for it: a write under way
		// finishes (bounded).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(bg), keyUseWriteTimeout)
		defer cancel()
		if err := s.IAM.TouchAccessKey(ctx, id, now); err != nil {
			s.keyUses.CompareAndDelete(id, now)
			// A full storage is logged by the store, once, not at each
			// request (this write is tried again at the key's next use).
			if !errors.Is(err, profiles.ErrStorageFull) {
				s.Logger.Warn("iam: record an access key's use", "key", id, "err", err)
			}
		}
	})
}

// LookupAccessKey returns the secret and principal ARN of an active access
// key, for SigV4 verification; ok is false for an unknown or inactive key.
func (s *Service) LookupAccessKey(ctx context.Context, id string) (secret, principalARN string, ok bool, err error) {
	if s.IAM == nil {
		return "", "", false, nil
	}
	k, err := s.IAM.FindAccessKey(ctx, id)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", "", false, nil
	} else if err != nil {
		return "", "", false, err
	}
	if k.Status != profiles.AccessKeyActive {
		return "", "", false, nil
	}
	p, err := s.IAM.FindPrincipal(ctx, k.PrincipalName)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", "", false, nil
	} else if err != nil {
		return "", "", false, err
	}
	secret, err = s.openSecret(k.ID, k.SealedSecret)
	if err != nil {
		return "", "", false, err
	}
	return secret, p.ARN, true, nil
}

// sealSecret encrypts an access key's secret under a key derived from the
// server secret, bound to the key id.
func (s *Service) sealSecret(id, secret string) ([]byte, error) {
	gcm, err := s.secretsAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return gcm.Seal(nonce, nonce, []byte(secret), []byte("access-key/"+id)), nil
}

func (s *Service) openSecret(id string, sealed []byte) (string, error) {
	gcm, err := s.secretsAEAD()
	if err != nil {
		return "", err
	}
	if len(sealed) < gcm.NonceSize() {
		return "", profiles.Errorf(profiles.EINTERNAL, "access key %s: damaged secret", id)
	}
	pt, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte("access-key/"+id))
	if err != nil {
		return "", profiles.Errorf(profiles.EINTERNAL, "access key %s: the secret does not decrypt with this server secret", id)
	}
	return string(pt), nil
}

func (s *Service) secretsAEAD() (cipher.AEAD, error) {
	m := hmac.New(sha256.New, s.indexSecret)
	m.Write([]byte("openprofiles access key secrets"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func principalErr(err error, name string) error {
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return profiles.Errorf(profiles.ENOTFOUND, "The user or role with name %s cannot be found.", name)
	}
	return err
}

func keyErr(err error, principal, id string) error {
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return profiles.Errorf(profiles.ENOTFOUND, "The Access Key with id %s of %s cannot be found.", id, principal)
	}
	return err
}

func randomID(n int) string {
	return randomString(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// principalName returns the name in a user or role ARN of the account.
func (s *Service) principalName(arn string) (string, bool) {
	for _, typ := range []string{profiles.PrincipalUser, profiles.PrincipalRole} {
		if name, ok := strings.CutPrefix(arn, "arn:aws:iam::"+s.AccountID+":"+typ+"/"); ok {
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:] // a path
			}
			return name, true
		}
	}
	return "", false
}

// policyCache keeps the parsed identity policies of principals for a short
// time, so a request does not parse them again.
type policyCache struct {
	entries map[string]cachedPolicies
}

type cachedPolicies struct {
	policies []*iam.Policy
	at       time.Time
}

const policyCacheTTL = 2 * time.Second

// identityPolicies returns a principal's parsed inline policies.
func (s *Service) identityPolicies(ctx context.Context, name string) ([]*iam.Policy, error) {
	now := s.Now()
	s.mu.Lock()
	c, ok := s.policies.entries[name]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < policyCacheTTL {
		return c.policies, nil
	}
	docs, err := s.IAM.ListPrincipalPolicies(ctx, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		docs = nil
	} else if err != nil {
		return nil, err
	}
	var out []*iam.Policy
	for _, d := range docs {
		p, err := iam.Parse([]byte(d.Document))
		if err != nil {
			s.Logger.Error("stored policy does not parse", "principal", name, "policy", d.PolicyName, "err", err)
			continue
		}
		out = append(out, p)
	}
	s.mu.Lock()
	if s.policies.entries == nil {
		s.policies.entries = map[string]cachedPolicies{}
	}
	s.policies.entries[name] = cachedPolicies{policies: out, at: now}
	s.mu.Unlock()
	return out, nil
}

func (s *Service) forgetPolicies(name string) {
	s.mu.Lock()
	delete(s.policies.entries, name)
	s.mu.Unlock()
}

// RevokeConsoleSession records that a console session (by its id) was
// signed out, until it expires: every node then refuses a copy of its
// cookie.
func (s *Service) RevokeConsoleSession(ctx context.Context, id string, expires time.Time) error {
	return s.IAM.RevokeSession(ctx, id, expires)
}

// ConsoleSessionRevoked reports whether a console session was signed out.
func (s *Service) ConsoleSessionRevoked(ctx context.Context, id string) (bool, error) {
	return s.IAM.SessionRevoked(ctx, id)
}
