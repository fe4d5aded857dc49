package ui

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/openprofiles/profiles"
)

// A refused form (bad input, a conflict) is not answered with its page:
// that answer to a POST would be a page the browser's Back, Forward and
// Reload offer to post again ("Confirm Form Resubmission"). Its values and
// errors are kept in the store for a while (profiles.FormDraftService,
// sealed under the domain's key), under a name made of the session and a
// one-time id, and the browser is sent (303) to the form's page with that
// id (?form=…): the page, a GET, shows the form as it was refused, with
// the refusal's status. Nothing the user typed is in the address. A
// principal keeps its newest profiles.MaxFormDrafts refused forms per
// domain, each of at most profiles.MaxFormDraftSize bytes.

// formDraft is a refused profile form.
type formDraft struct {
	Status int          `json:"status"`
	Error  string       `json:"error"`
	Form   *profileForm `json:"form"`
}

// draftParam is the query parameter of a refused form's page.
const draftParam = "form"

// draftOwner is the owner of the caller's drafts: its principal, whose
// sessions together keep profiles.MaxFormDrafts drafts per domain, so that
// neither many refused forms nor many sign-ins fill the store.
func (s *Server) draftOwner(r *http.Request) string {
	principal := ""
	if sess := sessionOf(r); sess != nil {
		principal = sess.Principal
	}
	return base64.RawURLEncoding.EncodeToString(s.mac("form-drafts", principal)[:18])
}

// draftName is the name of the draft id of the form at path, for the
// caller's session: another session (another agent, or this one signed in
// again) finds nothing under the same id.
func (s *Server) draftName(r *http.Request, domain, path, id string) string {
	nonce := ""
	if sess := sessionOf(r); sess != nil {
		nonce = sess.Nonce
	}
	return base64.RawURLEncoding.EncodeToString(s.mac("form-draft", nonce, domain, path, id)[:18])
}

// refuseForm answers a refused profile form sent to path (the form's page,
// also its address): it keeps the form and sends the browser to path with
// the draft's id. Without a FormDraftService, or when the draft cannot be
// kept, it renders the page as the answer to the post, as a last resort;
// so it does for a form too large to keep (profiles.MaxFormDraftSize:
// values far longer than the form takes, or the edit form of a profile
// near its size limit), rather than keep a part of it.
func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request, domain, path string, status int, p *page, f *profileForm) {
	if s.Drafts != nil {
		id := newNonce()
		data, _ := json.Marshal(formDraft{Status: status, Error: p.Error, Form: f})
		if len(data) > profiles.MaxFormDraftSize {
			s.render(w, r, status, "profileform", p)
			return
		}
		err := s.Drafts.KeepFormDraft(r.Context(), domain, s.draftOwner(r), s.draftName(r, domain, path, id), data)
		if err == nil {
			http.Redirect(w, r, path+"?"+url.Values{draftParam: {id}}.Encode(), http.StatusSeeOther)
			return
		}
		s.Logger.Error("ui: keep a refused form", "domain", domain, "path", path, "err", err)
	}
	s.render(w, r, status, "profileform", p)
}

// refusedForm returns the refused form the request's address names, for
// its page at path; nil (and a notice for the page) when it names one that
// is not kept (any more), nil and "" when it names none.
func (s *Server) refusedForm(r *http.Request, domain, path string) (*formDraft, string) {
	id := r.URL.Query().Get(draftParam)
	if id == "" || s.Drafts == nil {
		return nil, ""
	}
	gone := "The form you sent is no longer kept (a refused form is kept for a while, for the session that sent it, with only your newest few): fill it in again."
	data, err := s.Drafts.FormDraft(r.Context(), domain, s.draftOwner(r), s.draftName(r, domain, path, id))
	if err != nil {
		if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			s.Logger.Error("ui: read a refused form", "domain", domain, "path", path, "err", err)
		}
		return nil, gone
	}
	var d formDraft
	if json.Unmarshal(data, &d) != nil || d.Form == nil || d.Status == 0 {
		return nil, gone
	}
	if d.Form.Values == nil {
		d.Form.Values = map[string]string{}
	}
	if d.Form.Errors == nil {
		d.Form.Errors = map[string]string{}
	}
	return &d, ""
}
