// Package ui serves the web console and the agent workspace of
// OpenProfiles: server-rendered pages (html/template) with embedded assets,
// no script. People sign in with an access key; the session is a signed
// cookie (HttpOnly, SameSite=Strict) and every form carries a CSRF token.
// Every page authorises its caller with the same IAM policies as the API,
// reading profile data included (kms:Decrypt on the domain's key).
//
// Pages, under /console/:
//
//	signin, signout               sign in with an access key ID and secret
//	instances                     the contact-center instances, by alias
//	instances/{id}                the instance's Customer Profiles page: enable, summary, change domain
//	instances/{id}/enable         activation: domain name → dead-letter queue → KMS key → submit
//	domains                       the domains
//	domains/{d}                   overview: counts, ingestion chart, rename
//	domains/{d}/profiles          agent workspace: search, create
//	domains/{d}/profiles/{id}     a profile: fields, contact history, objects; edit
//	domains/{d}/dlq               dead letters: replay, delete
package ui

import (
	"context"
	"crypto/hmac"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/openprofiles/profiles"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is the path under which the pages are served.
const Prefix = "/console/"

// Server serves the pages. Set the fields, then call Handler.
type Server struct {
	Domains      profiles.DomainService
	ObjectTypes  profiles.ObjectTypeService
	Profiles     profiles.ProfileService
	Search       profiles.SearchService
	Ingest       profiles.IngestService
	Integrations profiles.IntegrationService
	DeadLetters  profiles.DeadLetterService
	Stats        profiles.IngestStats
	Tags         profiles.TagService
	// Calculated computes a profile's calculated attributes for its page;
	// nil: the page shows none.
	Calculated profiles.CalculatedAttributeService
	// Matching finds a profile's possible duplicates for its page
	// (identity resolution's and rule-based matching's groups); nil: the
	// page shows none.
	Matching profiles.MatchingService
	// Recommenders recommends items to a profile for its page (the
	// domain's first active recommenders'); nil: the page shows none.
	Recommenders profiles.RecommenderService
	// Keys and Queues create and list keys and queues of the built-in KMS
	// and queue service; nil when those live outside (the pages then ask
	// for an ARN or URL).
	// Drafts keeps a refused profile form for the page that shows it
	// again (see refuseForm); nil: the page is the answer to the post.
	Drafts     profiles.FormDraftService
	Keys       profiles.KeyAdmin
	Queues     profiles.QueueAdmin
	Authorizer profiles.Authorizer
	// Lookup returns the secret and principal ARN of an access key.
	Lookup func(ctx context.Context, accessKeyID string) (secret, principal string, ok bool, err error)
	// KeyUsed, when set, is told of each use of an access key: a sign-in,
	// and each request of its session (an access key's last use).
	KeyUsed func(ctx context.Context, accessKeyID, principal string)
	// RevokeSession records a signed-out session until it expires, and
	// SessionRevoked says whether a session was signed out, for every node
	// (the IAM store's); nil: signing out only drops the browser's cookie.
	RevokeSession  func(ctx context.Context, id string, expires time.Time) error
	SessionRevoked func(ctx context.Context, id string) (bool, error)
	// Secret signs session cookies and CSRF tokens; nodes of one store
	// share it.
	Secret     []byte
	Region     string
	AccountID  string
	SessionTTL time.Duration // 0: 8 hours
	// SecureCookies marks every console cookie Secure, also on requests
	// that came over plain HTTP: for a server behind a proxy that
	// terminates TLS (a request over TLS always gets Secure cookies).
	SecureCookies bool
	Logger        *slog.Logger
	Now           func() time.Time

	pages map[string]*template.Template
}

// Handler returns the handler of every page under Prefix, and of "/" (a
// redirection to the console for a browser).
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.SessionTTL == 0 {
		s.SessionTTL = 8 * time.Hour
	}
	s.pages = parsePages()
	static, _ := fs.Sub(staticFS, "static")

	mux := http.NewServeMux()
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /console/signin", s.signinPage)
	mux.HandleFunc("POST /console/signin", s.signin)
	mux.HandleFunc("POST /console/signout", s.authed(s.signout))
	mux.HandleFunc("GET /console/{$}", s.authed(s.home))

	mux.HandleFunc("GET /console/instances", s.authed(s.instances))
	mux.HandleFunc("GET /console/instances/{id}", s.authed(s.instance))
	mux.HandleFunc("GET /console/instances/{id}/enable", s.authed(s.enableStart))
	mux.HandleFunc("POST /console/instances/{id}/enable", s.authed(s.enableStep))
	mux.HandleFunc("POST /console/instances/{id}/domain", s.authed(s.changeDomain))

	mux.HandleFunc("GET /console/domains", s.authed(s.domains))
	mux.HandleFunc("GET /console/domains/{domain}", s.authed(s.overview))
	mux.HandleFunc("POST /console/domains/{domain}/rename", s.authed(s.rename))
	mux.HandleFunc("GET /console/domains/{domain}/profiles", s.authed(s.search))
	mux.HandleFunc("GET /console/domains/{domain}/profiles/new", s.authed(s.newProfile))
	mux.HandleFunc("POST /console/domains/{domain}/profiles/new", s.authed(s.createProfile))
	mux.HandleFunc("GET /console/domains/{domain}/profiles/{id}", s.authed(s.profile))
	mux.HandleFunc("GET /console/domains/{domain}/profiles/{id}/edit", s.authed(s.editProfile))
	mux.HandleFunc("POST /console/domains/{domain}/profiles/{id}/edit", s.authed(s.updateProfile))
	mux.HandleFunc("GET /console/domains/{domain}/profiles/{id}/merge", s.authed(s.mergePage))
	mux.HandleFunc("POST /console/domains/{domain}/profiles/{id}/merge", s.authed(s.mergeProfile))
	mux.HandleFunc("GET /console/domains/{domain}/dlq", s.authed(s.dlq))
	mux.HandleFunc("POST /console/domains/{domain}/dlq", s.authed(s.dlqAction))

	return s.securityHeaders(mux)
}

// RedirectHome sends a browser asking for "/" to the console.
func RedirectHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// securityHeaders sets the headers every page carries: no script, no
// framing, no sniffing, no caching of pages with customer data; and, when
// the browser reaches the console over HTTPS (the request came over TLS,
// or SecureCookies says a proxy terminated it), HSTS: the browser then
// never sends the session cookie, or a typed secret, over plain HTTP to
// this host, even from a link or an address typed without https://.
func (s *Server) securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if r.TLS != nil || s.SecureCookies {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title   string
	Session *session
	CSRF    string
	Flash   string // a confirmation shown at the top
	Error   string // an error shown at the top
	Nav     string // the active section: instances, domains, workspace
	Domain  string // the domain the page is about, for the navigation
	Data    any
}

// withDone returns path with the confirmation msg to show on the page it
// leads to, signed for the caller (done, ds): a link made elsewhere, or
// for someone else, cannot put words of its own in the console's
// confirmation banner. path may hold a query.
func (s *Server) withDone(r *http.Request, path, msg string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query() // a confirmation the path held already is replaced
	q.Set("done", msg)
	q.Set("ds", base64.RawURLEncoding.EncodeToString(s.doneMAC(r, msg)))
	u.RawQuery, u.Fragment = q.Encode(), ""
	return u.String()
}

// doneMAC signs a confirmation for the caller of r.
func (s *Server) doneMAC(r *http.Request, msg string) []byte {
	principal := ""
	if sess := sessionOf(r); sess != nil {
		principal = sess.Principal
	}
	return s.mac("done", principal, msg)[:16]
}

// flash returns the confirmation of the request's query (withDone), or ""
// when it is not signed for the caller.
func (s *Server) flash(r *http.Request) string {
	q := r.URL.Query()
	msg := q.Get("done")
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("ds"))
	if msg == "" || err != nil || !hmac.Equal(sig, s.doneMAC(r, msg)) {
		return ""
	}
	return msg
}

// render writes a page with the status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t := s.pages[name]
	if t == nil {
		panic("ui: no template " + name)
	}
	if sess := sessionOf(r); sess != nil {
		p.Session, p.CSRF = sess, s.csrfToken(sess)
	}
	if p.Flash == "" {
		p.Flash = s.flash(r)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", p); err != nil {
		s.Logger.Error("ui: render", "page", name, "err", err)
	}
}

// fail renders an error page for err: 403 for a refusal, 404 for something
// missing, 400 for bad input, 500 otherwise (logged, not shown).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on the server; it has been logged."
	switch profiles.ErrorCode(err) {
	case profiles.EFORBIDDEN:
		status, msg = http.StatusForbidden, profiles.ErrorMessage(err)
	case profiles.ENOTFOUND:
		status, msg = http.StatusNotFound, profiles.ErrorMessage(err)
	case profiles.EINVALID, profiles.ECONFLICT, profiles.EQUOTA:
		status, msg = http.StatusBadRequest, profiles.ErrorMessage(err)
	default:
		s.Logger.Error("ui: request failed", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "error", &page{Title: http.StatusText(status), Error: msg})
}

// userError returns the message of an error to show beside a form, and
// whether err is one (bad input, conflict, refusal, quota).
func userError(err error) (string, bool) {
	switch profiles.ErrorCode(err) {
	case profiles.EINVALID, profiles.ECONFLICT, profiles.EQUOTA, profiles.EFORBIDDEN, profiles.ENOTFOUND:
		return profiles.ErrorMessage(err), true
	}
	return "", false
}

// userStatus is the status of a page that shows a userError beside what
// was typed: as the API's error would be (a refusal by IAM or by the
// domain's key is AccessDeniedException's 403, not bad input's 400).
func userStatus(err error) int {
	switch profiles.ErrorCode(err) {
	case profiles.EFORBIDDEN: // a key disabled, a Deny on it
		return http.StatusForbidden
	case profiles.ENOTFOUND:
		return http.StatusNotFound
	case profiles.ECONFLICT:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

var errNoData = errors.New("no data")
