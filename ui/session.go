package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iam"
)

// Cookie names.
const (
	sessionCookie = "op_session"
	preCookie     = "op_signin" // binds the sign-in form's CSRF token before there is a session
	// keyCookie holds the access key ID of a refused sign-in for the page
	// that shows the refusal (never the address: see signinRefused).
	keyCookie = "op_signin_key"
)

// The refusals of the sign-in page, by the code its address carries
// (signinRefused).
var signinErrors = map[string]string{
	"missing": "Enter both the access key ID and the secret access key.",
	"wrong":   "The access key ID or the secret access key is wrong, or the key is inactive.",
	"ended":   "Your session ended before this form was sent: nothing was saved. Sign in again, then send the form again.",
}

// session is who is signed in. The cookie holds it in JSON with an HMAC;
// every request re-checks that the access key still exists, is active and
// belongs to the same principal, so deactivating a key ends its sessions.
type session struct {
	Principal   string `json:"p"`
	AccessKeyID string `json:"k"`
	Expires     int64  `json:"e"`
	Nonce       string `json:"n"`
}

// Name is the principal's short name for display ("root" for the account).
func (s *session) Name() string {
	if strings.HasSuffix(s.Principal, ":root") {
		return "root"
	}
	if i := strings.LastIndexByte(s.Principal, '/'); i >= 0 {
		return s.Principal[i+1:]
	}
	return s.Principal
}

type sessionKey struct{}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

func (s *Server) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, s.Secret)
	h.Write([]byte("openprofiles console"))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

func (s *Server) encodeSession(sess *session) string {
	b, _ := json.Marshal(sess)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", payload))
}

func (s *Server) decodeSession(v string) (*session, bool) {
	payload, sig, ok := strings.Cut(v, ".")
	if !ok {
		return nil, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", payload)) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, false
	}
	var sess session
	if json.Unmarshal(b, &sess) != nil || s.Now().Unix() >= sess.Expires || sess.Nonce == "" {
		return nil, false
	}
	return &sess, true
}

// csrfToken is the token of every form of a session.
func (s *Server) csrfToken(sess *session) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", sess.Nonce))
}

func validToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func newNonce() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, under
// Prefix, and Secure when the request came over TLS or SecureCookies says
// that the browser reaches the console over HTTPS (a proxy that
// terminates TLS before the server).
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.SecureCookies || r.TLS != nil})
}

// authed wraps a page that needs a session: without one a GET goes to the
// sign-in page, anything else gets 401. A POST must carry the session's
// CSRF token in the form field "csrf", else it is refused with 403 and
// changes nothing.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.currentSession(r)
		if err != nil {
			// The store cannot say whether the session was signed out:
			// refuse, and say why, rather than look signed out.
			s.fail(w, r, fmt.Errorf("checking the console session: %w", err))
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin?next="+url.QueryEscape(safeNext(r.URL.RequestURI())), http.StatusSeeOther)
				return
			}
			// A form sent after the session ended (it expired, or was
			// signed out in another tab): say so on the sign-in page,
			// which leads back to the form's page.
			s.signinRefused(w, r, "ended", formPage(r), "")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !validToken(r.PostFormValue("csrf"), s.csrfToken(sess)) {
				s.Logger.Warn("ui: form without a valid CSRF token refused", "path", r.URL.Path, "principal", sess.Principal)
				s.render(w, r, http.StatusForbidden, "error", &page{Title: "Forbidden",
					Error: "This form was not sent from a page of this console (its CSRF token is missing or wrong). Nothing was changed."})
				return
			}
		}
		h(w, r)
	}
}

// currentSession returns the valid session of the request, nil for none,
// or the error that kept it from telling (then the request is refused).
func (s *Server) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	sess, ok := s.decodeSession(c.Value)
	if !ok {
		return nil, nil
	}
	_, principal, ok, err := s.Lookup(r.Context(), sess.AccessKeyID)
	if err != nil || !ok || principal != sess.Principal {
		return nil, nil
	}
	if s.KeyUsed != nil {
		s.KeyUsed(r.Context(), sess.AccessKeyID, principal)
	}
	if s.SessionRevoked != nil {
		// Signed out: a copy of the cookie, kept elsewhere, ends too.
		if revoked, err := s.SessionRevoked(r.Context(), sess.Nonce); err != nil {
			return nil, err
		} else if revoked {
			return nil, nil
		}
	}
	return sess, nil
}

type signinData struct {
	Next        string
	AccessKeyID string
}

// signinPage shows the sign-in form; with a refusal's code (signinRefused)
// it shows the refusal, with its status, and the access key ID typed.
func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status, data := http.StatusOK, signinData{Next: safeNext(q.Get("next"))}
	msg, refused := signinErrors[q.Get("error")]
	if refused {
		status = http.StatusUnauthorized
		if c, err := r.Cookie(keyCookie); err == nil {
			if id, _ := base64.RawURLEncoding.DecodeString(c.Value); looksLikeKeyID(string(id)) {
				data.AccessKeyID = string(id)
			}
		}
	}
	pre := newNonce()
	s.setCookie(w, r, preCookie, pre, 3600)
	s.render(w, r, status, "signin", &page{Title: "Sign in", Error: msg, CSRF: base64.RawURLEncoding.EncodeToString(s.mac("signin", pre)),
		Data: data})
}

// signinRefused answers a refused sign-in (or a form sent without a
// session) with a redirection to the sign-in page that says why (code, in
// signinErrors), rather than with that page: Back and Reload then never
// post the secret, or the form, again. The access key ID typed, if any,
// goes in a cookie for that page, not in its address, when it has the form
// of one (looksLikeKeyID).
func (s *Server) signinRefused(w http.ResponseWriter, r *http.Request, code, next, keyID string) {
	switch {
	case looksLikeKeyID(keyID):
		s.setCookie(w, r, keyCookie, base64.RawURLEncoding.EncodeToString([]byte(keyID)), 900)
	case keyID != "":
		// Not an access key ID (a secret typed in its field, say): not
		// kept, and one kept from an earlier refusal goes.
		s.setCookie(w, r, keyCookie, "", -1)
	}
	q := url.Values{"error": {code}}
	if next != Prefix {
		q.Set("next", next)
	}
	http.Redirect(w, r, Prefix+"signin?"+q.Encode(), http.StatusSeeOther)
}

// keyIDRE is the form of the access key IDs this server issues (AKIA or,
// for generated root keys, AKOP, and 16 of A-Z2-7) and AWS's: 16 to 128
// upper-case letters and digits.
var keyIDRE = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// looksLikeKeyID reports whether a value typed in the sign-in form's access
// key ID field can be an access key ID, to be kept for the page of its
// refusal. A secret access key typed there by mistake (40 characters with
// lower-case letters, digits, + and /) cannot, and is not kept. Whether
// the key exists plays no part, so that the page does not tell which
// access key IDs exist.
func looksLikeKeyID(v string) bool {
	return keyIDRE.MatchString(v)
}

// formPage returns the console page a form was sent from (its Referer,
// when that is a page of this console on this host), else the console's
// home.
func formPage(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return Prefix
	}
	return safeNext(u.RequestURI())
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id, secret := strings.TrimSpace(r.PostFormValue("access_key_id")), strings.TrimSpace(r.PostFormValue("secret_access_key"))
	next := safeNext(r.PostFormValue("next"))
	pre, err := r.Cookie(preCookie)
	if err != nil || !validToken(r.PostFormValue("csrf"), base64.RawURLEncoding.EncodeToString(s.mac("signin", pre.Value))) {
		s.render(w, r, http.StatusForbidden, "error", &page{Title: "Forbidden",
			Error: "This sign-in form was not sent from this console's sign-in page (CSRF token missing or wrong). Open the sign-in page again."})
		return
	}
	if id == "" || secret == "" {
		s.signinRefused(w, r, "missing", next, id)
		return
	}
	want, principal, ok, err := s.Lookup(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		// A secret typed in the key ID's field is not logged either.
		logged := id
		if !looksLikeKeyID(id) {
			logged = "(not an access key ID)"
		}
		s.Logger.Info("ui: sign-in refused", "accessKeyId", logged)
		s.signinRefused(w, r, "wrong", next, id)
		return
	}
	if s.KeyUsed != nil {
		s.KeyUsed(r.Context(), id, principal)
	}
	sess := &session{Principal: principal, AccessKeyID: id, Expires: s.Now().Add(s.SessionTTL).Unix(), Nonce: newNonce()}
	s.setCookie(w, r, sessionCookie, s.encodeSession(sess), int(s.SessionTTL/time.Second))
	s.setCookie(w, r, preCookie, "", -1)
	s.setCookie(w, r, keyCookie, "", -1)
	s.Logger.Info("ui: signed in", "principal", principal, "accessKeyId", id)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session: the browser drops its cookie, and the store
// records the session as revoked, so that a copy of the cookie is refused
// by every node until it would have expired.
func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	if sess := sessionOf(r); s.RevokeSession != nil && sess != nil {
		// Revoked first, whether or not the browser waits for the answer;
		// should it fail, the cookie stays, to sign out again.
		if err := s.RevokeSession(context.WithoutCancel(r.Context()), sess.Nonce, time.Unix(sess.Expires, 0)); err != nil {
			s.fail(w, r, fmt.Errorf("signing out: %w", err))
			return
		}
		s.Logger.Info("ui: signed out", "principal", sess.Principal)
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

// maxNext bounds the page a sign-in leads back to (next): it goes in
// addresses, escaped (up to three times as long), and one over the
// server's header limit, or a proxy's, is refused (431) before the
// sign-in page is shown.
const maxNext = 2 << 10

// safeNext keeps a redirection target inside the console, and short: a
// longer one loses its query, and then, should its path still be too
// long, leads to the console's home. A target with a control character
// (which browsers drop from addresses, and url.Parse refuses, so that
// http.Redirect sends it as is) or a backslash, or whose dot segments
// (also percent-encoded, as browsers read them) climb out of the console,
// leads to the console's home.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Prefix
	}
	p, _, _ := strings.Cut(next, "?")
	p, err := url.PathUnescape(p)
	if err != nil || strings.ContainsAny(p, "\\") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Prefix
	}
	if clean := path.Clean(p); clean != strings.TrimSuffix(Prefix, "/") && !strings.HasPrefix(clean, Prefix) {
		return Prefix
	}
	if len(next) > maxNext {
		if next, _, _ = strings.Cut(next, "?"); len(next) > maxNext {
			return Prefix
		}
	}
	return next
}

// allow authorises the signed-in principal to act on the resource, as the
// API would.
func (s *Server) allow(r *http.Request, action, resource string) error {
	return s.allowWith(r, action, resource, nil)
}

// allowWith is allow with more condition keys (a request's tags).
func (s *Server) allowWith(r *http.Request, action, resource string, extra map[string][]string) error {
	if s.Authorizer == nil {
		return nil
	}
	sess := sessionOf(r)
	cond := s.conditions(r, sess)
	for k, v := range extra {
		cond[k] = v
	}
	// The tags of the ARN checked are its aws:ResourceTag/… keys, as in
	// the API: a domain's for its ARN, a resource's own for the ARN of a
	// resource of the domain (an integration's, an object type's, …).
	if strings.HasPrefix(resource, "arn:aws:profile:"+s.Region+":"+s.AccountID+":domains/") && s.Tags != nil {
		tags, err := s.Tags.ListTagsForResource(r.Context(), resource)
		switch profiles.ErrorCode(err) {
		case "", profiles.ENOTFOUND, profiles.EINVALID: // a missing resource, or one that has no tags, has none
		default:
			return err // not evaluated without the resource's tags
		}
		for k, v := range tags {
			cond["aws:ResourceTag/"+k] = []string{v}
		}
	}
	return s.Authorizer.Authorize(r.Context(), &profiles.AuthRequest{Principal: sess.Principal, Action: action,
		Resource: resource, Context: cond})
}

// allowData authorises reading the profile data of a domain: the action on
// the domain and kms:Decrypt on its key, as the API's readers need.
func (s *Server) allowData(r *http.Request, action, domain string) error {
	if err := s.allow(r, action, s.Domains.DomainARN(domain)); err != nil {
		return err
	}
	key, err := s.Domains.EncryptionKeyARN(r.Context(), domain)
	if err != nil || key == "" {
		return err
	}
	return s.allow(r, "kms:Decrypt", key)
}

// allowTypeKeys authorises reading what the objects of these object
// types hold, as the API's readers of them (calculated values,
// recommendations) need: kms:Decrypt on the types' own keys other than
// the domain's.
func (s *Server) allowTypeKeys(r *http.Request, domain string, objectTypes []string) error {
	keys, err := s.Domains.ObjectTypeKeyARNs(r.Context(), domain, objectTypes)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.allow(r, "kms:Decrypt", k); err != nil {
			return err
		}
	}
	return nil
}

// allowDataFor is allowData for a page that does action and shows the
// profile's fields, which through the API only a reader (SearchProfiles)
// sees: UpdateProfile and MergeProfiles return none.
func (s *Server) allowDataFor(r *http.Request, domain, action, read string) error {
	if err := s.allow(r, action, s.Domains.DomainARN(domain)); err != nil {
		return err
	}
	return s.allowData(r, read, domain)
}

func (s *Server) conditions(r *http.Request, sess *session) map[string][]string {
	cond := iam.RequestContext(r, s.Now())
	cond["aws:PrincipalArn"] = []string{sess.Principal}
	cond["aws:RequestedRegion"] = []string{s.Region}
	return cond
}
