package main_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestWorkspace_RefusedFormsBounded: a principal keeps its newest ten
// refused forms per domain, however many it sends and from however many
// sessions: the store holds ten drafts, the newest ten show again and the
// older ones say they are no longer kept. A form too large to keep (a
// value far longer than the form takes) is refused as the answer to its
// POST, as before the redirection, and keeps nothing.
func TestWorkspace_RefusedFormsBounded(t *testing.T) {
	e := newContactEnv(t)
	e.createDomain("d", "")
	drafts := func() int {
		t.Helper()
		kept, err := e.m.Service.Configs.ListConfigs(t.Context(), "d", "form-token", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range kept {
			if strings.HasPrefix(c.Name, "draft.") {
				n++
			}
		}
		return n
	}
	refuse := func(hc *http.Client, form url.Values, name string) (*http.Response, string) {
		t.Helper()
		form.Set("FirstName", name)
		form.Set("PhoneNumber", "555")
		r, err := hc.PostForm(e.m.URL()+"/console/domains/d/profiles/new", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r, string(body)
	}
	var pages []string
	for s := range 2 { // two sessions of one principal
		hc := mustConsoleSession(t, e.m.URL(), testKeyID, testSecret)
		form := mustCreateForm(t, hc, e.m.URL(), "d")
		for i := range 8 {
			name := "Ottilie" + strconv.Itoa(s*8+i)
			r, body := refuse(hc, form, name)
			if r.StatusCode != http.StatusBadRequest || r.Request.Method != http.MethodGet || !strings.Contains(body, `value="`+name+`"`) {
				t.Fatalf("refused form %s: %d by %s\n%.300s", name, r.StatusCode, r.Request.Method, body)
			}
			pages = append(pages, name+" "+r.Request.URL.String())
		}
		for _, p := range pages[s*8:] {
			name, at, _ := strings.Cut(p, " ")
			body := get(t, hc, at)
			kept := len(pages)-indexOf(pages, p) <= 10
			if kept != strings.Contains(body, `value="`+name+`"`) || kept == strings.Contains(body, "no longer kept") {
				t.Errorf("the page of refused form %s (kept: %v):\n%.300s", name, kept, body)
			}
		}
	}
	if n := drafts(); n != 10 {
		t.Errorf("%d drafts kept after 16 refused forms, want 10", n)
	}

	hc := mustConsoleSession(t, e.m.URL(), testKeyID, testSecret)
	long := strings.Repeat("O", 100_000)
	r, body := refuse(hc, mustCreateForm(t, hc, e.m.URL(), "d"), long)
	if r.StatusCode != http.StatusBadRequest || r.Request.Method != http.MethodPost || !strings.Contains(body, "at most 255 characters") {
		t.Errorf("a form too large to keep: %d by %s, want the form as the answer to its POST (400)\n%.300s", r.StatusCode, r.Request.Method, body)
	}
	if n := drafts(); n != 10 {
		t.Errorf("%d drafts kept after a form too large, want 10", n)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
