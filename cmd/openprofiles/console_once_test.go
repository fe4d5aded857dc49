package main_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/chromedp/chromedp"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// submitWizard presses the activation wizard's Submit, as its button
// would, and returns the status of the page it leads to.
func (b *browser) submitWizard() (int64, error) {
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(f => (f.requestSubmit(f.querySelector("#submit")), true))(document.querySelector("form.wizard"))`)(ctx, tg)
		return err
	}))
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}

// mustCounts returns how many domains, KMS keys and queues the server
// holds, through the API.
func mustCounts(t *testing.T, m *main.Main) (domains, keys, queues int) {
	t.Helper()
	ctx := t.Context()
	d, err := MustClient(t, m).ListDomains(ctx, &customerprofiles.ListDomainsInput{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := MustKMSClient(t, m).ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := MustSQSClient(t, m.URL()).ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatal(err)
	}
	return len(d.Items), len(k.Keys), len(q.QueueUrls)
}

// TestConsole_ActivationOnce: the wizard's Submit sent twice (from two
// tabs at once, or a plain repeat of its POST) creates one domain, one new
// key and one queue, and both answers are the success page of that
// activation. A Submit without the wizard's token makes nothing.
func TestConsole_ActivationOnce(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	_, keys0, _ := mustCounts(t, m)
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Twice")
	b.click(`button[value="next"]`)
	b.click(`button[value="next"]`) // a new queue, Twice-DLQ
	b.mustContain("main", "Encryption key")
	step := strings.TrimPrefix(b.location(), m.URL())
	other := b.newTab()
	other.open(step)
	var wg sync.WaitGroup
	statuses, errs := make([]int64, 2), make([]error, 2)
	for i, tab := range []*browser{b, other} {
		wg.Go(func() { statuses[i], errs[i] = tab.submitWizard() })
	}
	wg.Wait()
	for i, tab := range []*browser{b, other} {
		if errs[i] != nil || statuses[i] != http.StatusOK {
			t.Fatalf("submission %d: status %d, %v\n%s", i, statuses[i], errs[i], tab.text("main"))
		}
		if u, _ := url.Parse(tab.location()); !strings.HasSuffix(u.Path, "/console/instances/"+inst.ID) {
			t.Errorf("submission %d ends at %s, want the instance's page", i, tab.location())
		}
		if tab.count(".flash") == 0 {
			t.Errorf("submission %d shows no success message:\n%s", i, tab.text("main"))
			continue
		}
		tab.mustContain(".flash", "Customer Profiles is enabled: domain Twice was created.")
		tab.mustContain("#summary-domain", "Twice")
	}
	if domains, keys, queues := mustCounts(t, m); domains != 1 || keys != keys0+1 || queues != 1 {
		t.Errorf("Submit sent from two tabs: %d domains, %d new keys, %d queues; want 1 of each", domains, keys-keys0, queues)
	}

	// A plain repeat of the POST of Submit, for another instance.
	inst2, err := m.Service.CreateInstance(ctx, "Second")
	if err != nil {
		t.Fatal(err)
	}
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	enable := m.URL() + "/console/instances/" + inst2.ID + "/enable"
	page := get(t, hc, enable)
	form := url.Values{"step": {"key"}, "action": {"submit"}, "domain_name": {"Again"}, "queue_choice": {"new"}, "queue_name": {"Again-DLQ"},
		"key_choice": {"new"}, "key_alias": {"alias/again"}, "key_description": {"Profiles of Again"}}
	for _, name := range []string{"csrf", "run"} {
		v := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindStringSubmatch(page)
		if v == nil {
			t.Fatalf("the wizard has no %s field:\n%s", name, page)
		}
		form.Set(name, v[1])
	}
	for i := range 2 {
		r, err := hc.PostForm(enable, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.HasSuffix(r.Request.URL.Path, "/console/instances/"+inst2.ID) ||
			!strings.Contains(string(body), "Customer Profiles is enabled: domain Again was created.") {
			t.Errorf("POST %d of Submit: %d at %s, want the success page\n%s", i, r.StatusCode, r.Request.URL, body)
		}
	}
	if domains, keys, queues := mustCounts(t, m); domains != 2 || keys != keys0+2 || queues != 2 {
		t.Errorf("after a repeated POST: %d domains, %d new keys, %d queues; want 2 of each", domains, keys-keys0, queues)
	}

	// A Submit without the wizard's token, or with a changed one, makes
	// nothing and says why.
	inst3, err := m.Service.CreateInstance(ctx, "Third")
	if err != nil {
		t.Fatal(err)
	}
	enable = m.URL() + "/console/instances/" + inst3.ID + "/enable"
	form.Set("domain_name", "Forged")
	form.Set("queue_name", "Forged-DLQ")
	for name, run := range map[string]string{"another instance's": form.Get("run"), "no": ""} {
		form.Set("run", run)
		r, err := hc.PostForm(enable, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "one-time token, field run") {
			t.Errorf("%s token: %d, want 400 naming the token\n%s", name, r.StatusCode, body)
		}
	}
	if domains, _, _ := mustCounts(t, m); domains != 2 {
		t.Errorf("Submits without a good token made domains: %d, want 2", domains)
	}
}
