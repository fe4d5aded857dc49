package ui

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSession_StoreFailures: when the store cannot say whether a session
// was signed out, the request is refused with an error page (not treated
// as signed out); when signing out cannot be recorded, the cookie stays so
// that the user can sign out again.
func TestSession_StoreFailures(t *testing.T) {
	now := time.Now()
	down := errors.New("store unreachable")
	var revokedErr, revokeErr error
	s := &Server{Secret: []byte("k"), Now: func() time.Time { return now },
		Lookup: func(ctx context.Context, id string) (string, string, bool, error) {
			return "secret", "arn:aws:iam::000000000000:root", true, nil
		},
		SessionRevoked: func(ctx context.Context, id string) (bool, error) { return false, revokedErr },
		RevokeSession:  func(ctx context.Context, id string, expires time.Time) error { return revokeErr },
	}
	h := s.Handler()
	sess := &session{Principal: "arn:aws:iam::000000000000:root", AccessKeyID: "AKIA1", Expires: now.Add(time.Hour).Unix(), Nonce: "n1"}
	cookie := &http.Cookie{Name: sessionCookie, Value: s.encodeSession(sess)}
	do := func(method, path string, form url.Values) *httptest.ResponseRecorder {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req := httptest.NewRequest(method, path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}

	revokedErr = down
	if w := do("GET", Prefix+"domains", nil); w.Code != http.StatusInternalServerError {
		t.Errorf("session check failing: %d, want 500 (not a redirect to sign in)", w.Code)
	}
	revokedErr = nil

	revokeErr = down
	w := do("POST", Prefix+"signout", url.Values{"csrf": {s.csrfToken(sess)}})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("sign-out not recorded: %d, want 500", w.Code)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			t.Errorf("sign-out not recorded, yet the cookie was cleared: %+v", c)
		}
	}
	revokeErr = nil
	w = do("POST", Prefix+"signout", url.Values{"csrf": {s.csrfToken(sess)}})
	cleared := false
	for _, c := range w.Result().Cookies() {
		cleared = cleared || c.Name == sessionCookie && c.MaxAge < 0
	}
	if w.Code != http.StatusSeeOther || !cleared {
		t.Errorf("sign-out: %d, cookie cleared %v; want 303 and cleared", w.Code, cleared)
	}
}

// TestSafeNext_Long: next stays short (maxNext), for the addresses it goes
// in: a longer one loses its query, then, if still too long, becomes the
// home.
func TestSafeNext_Long(t *testing.T) {
	long := strings.Repeat("a", maxNext)
	for _, tt := range []struct{ in, want string }{
		{"/console/domains?q=x", "/console/domains?q=x"},
		{"/console/\\" + long, Prefix},
		{"/console/domains?q=" + long, "/console/domains"},
		{"/console/" + long, Prefix},
		{"/console/" + long[:maxNext-len("/console/")], "/console/" + long[:maxNext-len("/console/")]},
	} {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%.40q) = %.40q, want %.40q", tt.in, got, tt.want)
		}
	}
}

// TestSafeNext_StaysInTheConsole: a target with a control character, a
// backslash, or dot segments (plain or percent-encoded) that leave the
// console leads to the console's home; dot segments that stay inside are
// kept.
func TestSafeNext_StaysInTheConsole(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/console/domains/acme/profiles?q=a%20b", "/console/domains/acme/profiles?q=a%20b"},
		{"/console/domains/../instances", "/console/domains/../instances"},
		{"/console/..", Prefix},
		{"/console/../metrics", Prefix},
		{"/console/./../../healthz", Prefix},
		{"/console/%2e%2e/metrics", Prefix},
		{"/console/%2E%2E%2Fmetrics", Prefix},
		{"/console/../\t/evil.example/", Prefix},
		{"/console/\x0b", Prefix},
		{"/console/\x7f", Prefix},
		{"/console/%5C%5Cevil.example", Prefix},
		{"/console/%zz", Prefix},
		{"/console/domains?q=..%2F..%2F", "/console/domains?q=..%2F..%2F"},
	} {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
