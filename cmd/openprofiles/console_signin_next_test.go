package main_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsole_RefusedSignInLongNext: the page a sign-in leads back to
// (next: a form's Referer when its session ended, the address asked for
// without a session) is bounded, so that the sign-in page's address stays
// within the server's header limit: a long query is dropped, keeping the
// page; a long path leads to the console's home. Without the bound both
// end on 431 Request Header Fields Too Large.
func TestConsole_RefusedSignInLongNext(t *testing.T) {
	m := MustRunMain(t)
	hc := &http.Client{}
	t.Cleanup(hc.CloseIdleConnections)
	// Escaped once more in the sign-in page's address: "%41" becomes
	// "%2541", and 20000 of them make 100 KB.
	query := "?q=" + strings.Repeat("%41", 20000)
	signin := func(r *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode, r.Request.URL.Query().Get("next")
	}

	// A form sent after its session ended, from a page with a long query.
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/console/domains/d/profiles/new", strings.NewReader("FirstName=Ottilie"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", m.URL()+"/console/domains/d/profiles/new"+query)
	if st, next := signin(hc.Do(req)); st != http.StatusUnauthorized || next != "/console/domains/d/profiles/new" {
		t.Errorf("a form without a session, from a page with a long query: %d, next %.80q; want 401, next its page", st, next)
	}
	// ... from a page with a long path.
	req, _ = http.NewRequest(http.MethodPost, m.URL()+"/console/domains/d/profiles/new", strings.NewReader("FirstName=Ottilie"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", m.URL()+"/console/domains/"+strings.Repeat("%41", 20000))
	if st, next := signin(hc.Do(req)); st != http.StatusUnauthorized || next != "" {
		t.Errorf("a form without a session, from a page with a long path: %d, next %.80q; want 401, no next (the home)", st, next)
	}
	// A page asked for without a session, with a long query.
	if st, next := signin(hc.Get(m.URL() + "/console/domains" + query)); st != http.StatusOK || next != "/console/domains" {
		t.Errorf("a page without a session, with a long query: %d, next %.80q; want 200, next the page", st, next)
	}
	// An ordinary next is kept whole.
	req, _ = http.NewRequest(http.MethodPost, m.URL()+"/console/domains/d/profiles/new", strings.NewReader("FirstName=Ottilie"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", m.URL()+"/console/domains/d/profiles/new?q=ottilie")
	if st, next := signin(hc.Do(req)); st != http.StatusUnauthorized || next != "/console/domains/d/profiles/new?q=ottilie" {
		t.Errorf("a form without a session: %d, next %q; want 401, next its page and query", st, next)
	}
}
