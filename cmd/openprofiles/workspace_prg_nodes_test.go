package main_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/openprofiles/profiles"
)

// TestPostgres_RefusedFormsAtOnceOnTwoNodes: one principal's refused
// forms sent at once to two nodes of one store (two sessions, one a node)
// each show again on their page, and the store then holds the principal's
// ten newest drafts: each refusal replaced a different oldest one.
func TestPostgres_RefusedFormsAtOnceOnTwoNodes(t *testing.T) {
	nodes := mustConsoleNodes(t, 2, 0)
	if _, err := nodes[0].Service.CreateDomain(t.Context(), &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	const each = 12
	start := make(chan struct{})
	errs := make(chan string, 2*each)
	var wg sync.WaitGroup
	for n, node := range nodes {
		hc := mustConsoleSession(t, node.URL(), testKeyID, testSecret)
		form := mustCreateForm(t, hc, node.URL(), "d")
		wg.Go(func() {
			<-start
			for i := range each {
				name := "Ottilie" + strconv.Itoa(n*each+i)
				form.Set("FirstName", name)
				form.Set("PhoneNumber", "555")
				r, err := hc.PostForm(node.URL()+"/console/domains/d/profiles/new", form)
				if err != nil {
					errs <- err.Error()
					continue
				}
				body, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if r.StatusCode != http.StatusBadRequest || r.Request.Method != http.MethodGet || !strings.Contains(string(body), `value="`+name+`"`) {
					errs <- name + ": " + strconv.Itoa(r.StatusCode) + " by " + r.Request.Method
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("refused form %s", e)
	}
	kept, err := nodes[1].Service.Configs.ListConfigs(t.Context(), "d", profiles.ConfigFormToken, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	drafts, indexes := 0, 0
	for _, c := range kept {
		switch {
		case strings.HasPrefix(c.Name, "drafts."):
			indexes++
		case strings.HasPrefix(c.Name, "draft."):
			drafts++
		}
	}
	if drafts != profiles.MaxFormDrafts || indexes != 1 {
		t.Errorf("%d drafts and %d indexes after %d refused forms of one principal, want %d and 1", drafts, indexes, 2*each, profiles.MaxFormDrafts)
	}
}
