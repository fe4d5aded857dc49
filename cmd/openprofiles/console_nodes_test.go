package main_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/postgres"
)

// mustConsoleNodes starts n server nodes on one new PostgreSQL database,
// sharing the server secret and the KMS root key, as nodes behind a load
// balancer do; their activations wait wait for each other (0: the
// default).
func mustConsoleNodes(t *testing.T, n int, wait time.Duration) []*main.Main {
	t.Helper()
	dsn := mustPostgresDatabase(t)
	secret, root := make([]byte, 32), make([]byte, 32)
	rand.Read(secret)
	rand.Read(root)
	var nodes []*main.Main
	for range n {
		c := main.DefaultConfig()
		c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
		c.Store = dsn
		c.ServerSecret = base64.StdEncoding.EncodeToString(secret)
		c.KMSRootKey = base64.StdEncoding.EncodeToString(root)
		m := &main.Main{Config: c, ActivationWait: wait}
		if err := m.Open(); err != nil {
			t.Fatalf("open main: %v", err)
		}
		t.Cleanup(func() { m.Close() })
		nodes = append(nodes, m)
	}
	return nodes
}

// TestPostgres_ActivationAtOnceOnTwoNodes: the activation wizard's Submit
// sent to two nodes of one store at the same instant (a double click that
// a load balancer spreads over two nodes) creates one queue, one key and
// one domain, and both answers are the success page of that activation;
// several times over, with a new instance each time.
func TestPostgres_ActivationAtOnceOnTwoNodes(t *testing.T) {
	nodes := mustConsoleNodes(t, 2, 0)
	a := nodes[0]
	// One session (cookies are not scoped by port), one client per node,
	// each with a connection open before the Submits leave.
	hc := mustConsoleSession(t, a.URL(), testKeyID, testSecret)
	clients := make([]*http.Client, len(nodes))
	for i, node := range nodes {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(transport.CloseIdleConnections)
		clients[i] = &http.Client{Jar: hc.Jar, Transport: transport}
		get(t, clients[i], node.URL()+"/console/instances")
	}
	_, keys0, _ := mustCounts(t, a)
	const rounds = 8
	for round := range rounds {
		inst, err := a.Service.CreateInstance(t.Context(), fmt.Sprintf("Round%d", round))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("AtOnce%d", round)
		form := mustSubmitForm(t, clients[0], a.URL(), inst.ID, name)
		start := make(chan struct{})
		statuses, bodies, errs := make([]int, len(nodes)), make([]string, len(nodes)), make([]error, len(nodes))
		var wg sync.WaitGroup
		for i, node := range nodes {
			wg.Go(func() {
				<-start
				r, err := clients[i].PostForm(node.URL()+"/console/instances/"+inst.ID+"/enable", form)
				if err != nil {
					errs[i] = err
					return
				}
				defer r.Body.Close()
				body, err := io.ReadAll(r.Body)
				statuses[i], bodies[i], errs[i] = r.StatusCode, string(body), err
			})
		}
		close(start)
		wg.Wait()
		for i := range nodes {
			if errs[i] != nil || statuses[i] != http.StatusOK || !strings.Contains(bodies[i], "Customer Profiles is enabled: domain "+name+" was created.") {
				t.Errorf("round %d, Submit on node %d: %d, %v; want the success page\n%s", round, i, statuses[i], errs[i], mainText(bodies[i]))
			}
		}
		if domains, keys, queues := mustCounts(t, a); domains != round+1 || keys != keys0+round+1 || queues != round+1 {
			t.Fatalf("round %d: %d domains, %d new keys, %d queues; want %d of each", round, domains, keys-keys0, queues, round+1)
		}
	}
}

// mustSubmitForm returns the form of the activation wizard's Submit for
// the instance id, with its CSRF and one-time tokens from base: a new
// domain name, a new queue and a new key named after it.
func mustSubmitForm(t *testing.T, hc *http.Client, base, id, name string) url.Values {
	t.Helper()
	page := get(t, hc, base+"/console/instances/"+id+"/enable")
	form := url.Values{"step": {"key"}, "action": {"submit"}, "domain_name": {name}, "queue_choice": {"new"}, "queue_name": {name + "-DLQ"},
		"key_choice": {"new"}, "key_alias": {"alias/" + name}, "key_description": {"Profiles of " + name}}
	for _, field := range []string{"csrf", "run"} {
		v := regexp.MustCompile(`name="` + field + `" value="([^"]+)"`).FindStringSubmatch(page)
		if v == nil {
			t.Fatalf("the wizard has no %s field:\n%s", field, page)
		}
		form.Set(field, v[1])
	}
	return form
}

// TestPostgres_ActivationWaitIsBounded: a Submit that finds another
// node's activation running waits for it no longer than the node's
// ActivationWait, then shows the form again with a notice that says so,
// having created nothing; the same Submit, once the other is done, goes
// through.
func TestPostgres_ActivationWaitIsBounded(t *testing.T) {
	a := mustConsoleNodes(t, 1, 300*time.Millisecond)[0]
	// Another node, in the midst of an activation.
	other := postgres.NewDB(a.Config.Store)
	if err := other.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	release, err := other.LockActivation(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	inst, err := a.Service.CreateInstance(t.Context(), "Waiting")
	if err != nil {
		t.Fatal(err)
	}
	_, keys0, _ := mustCounts(t, a)
	hc := mustConsoleSession(t, a.URL(), testKeyID, testSecret)
	form := mustSubmitForm(t, hc, a.URL(), inst.ID, "Waited")
	enable := a.URL() + "/console/instances/" + inst.ID + "/enable"
	r, err := hc.PostForm(enable, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusConflict || !strings.Contains(string(body), "Another activation of Customer Profiles") ||
		!strings.Contains(string(body), `name="run" value="`+form.Get("run")+`"`) {
		t.Errorf("Submit while another node activates: %d, want 409, the notice and the same form\n%s", r.StatusCode, mainText(string(body)))
	}
	if domains, keys, queues := mustCounts(t, a); domains != 0 || keys != keys0 || queues != 0 {
		t.Errorf("a Submit that gave up made %d domains, %d keys, %d queues; want none", domains, keys-keys0, queues)
	}
	release()
	r, err = hc.PostForm(enable, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "Customer Profiles is enabled: domain Waited was created.") {
		t.Errorf("the same Submit after the other activation: %d, want the success page\n%s", r.StatusCode, mainText(string(body)))
	}
	if domains, keys, queues := mustCounts(t, a); domains != 1 || keys != keys0+1 || queues != 1 {
		t.Errorf("after the Submit went through: %d domains, %d new keys, %d queues; want 1 of each", domains, keys-keys0, queues)
	}
}

// mainText returns the text of a page's <main>, without its tags, for a
// test's message.
func mainText(page string) string {
	if _, after, ok := strings.Cut(page, "<main"); ok {
		page, _, _ = strings.Cut(after, "</main>")
	}
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " ")), " ")
}
