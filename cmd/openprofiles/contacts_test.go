package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awskinesis/kinesalite"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/connect"
)

// contactEnv is a running server (on a test clock) and the `openprofiles`
// client commands run against it with the root credentials.
type contactEnv struct {
	t      *testing.T
	m      *main.Main
	clock  *testClock
	client *customerprofiles.Client
}

func newContactEnv(t *testing.T, edit ...func(*main.Config)) *contactEnv {
	t.Helper()
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	for _, f := range edit {
		f(&c)
	}
	m := &main.Main{Config: withTestStore(t, c), Now: clock.Now}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": testRegion, "AWS_PROFILE": "", "AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty} {
		t.Setenv(k, v)
	}
	return &contactEnv{t: t, m: m, clock: clock, client: MustClient(t, m)}
}

// cli runs `openprofiles <command> <verb> --endpoint URL args…`.
func (e *contactEnv) cli(command, verb string, args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{command, verb, "--endpoint", e.m.URL()}, args...)
	err = main.Run(e.t.Context(), args, nil, &out, &errb, os.Getenv)
	return out.String(), errb.String(), err
}

// mustCLI runs a command that must succeed and decodes the JSON it prints
// (after skip lines) into v.
func (e *contactEnv) mustCLI(v any, skip int, command, verb string, args ...string) string {
	e.t.Helper()
	stdout, stderr, err := e.cli(command, verb, args...)
	if err != nil {
		e.t.Fatalf("openprofiles %s %s %s: %v\n%s", command, verb, strings.Join(args, " "), err, stderr)
	}
	if v != nil {
		lines := strings.SplitN(stdout, "\n", skip+1)
		if err := json.Unmarshal([]byte(lines[skip]), v); err != nil {
			e.t.Fatalf("openprofiles %s %s: output %q: %v", command, verb, stdout, err)
		}
	}
	return stdout
}

// newSalesEnv is a contactEnv with domain "sales" (no dead-letter queue)
// and instance "east" associated with it.
func newSalesEnv(t *testing.T) (*contactEnv, connect.InstanceInfo) {
	t.Helper()
	e := newContactEnv(t)
	e.createDomain("sales", "")
	east := e.createInstance("east")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatal(err)
	}
	return e, east
}

func (e *contactEnv) createDomain(name, queueURL string) {
	e.t.Helper()
	in := &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(30)}
	if queueURL != "" {
		in.DeadLetterQueueUrl = aws.String(queueURL)
	}
	if _, err := e.client.CreateDomain(e.t.Context(), in); err != nil {
		e.t.Fatalf("CreateDomain %s: %v", name, err)
	}
}

// createInstance registers an instance with `openprofiles instances create`.
func (e *contactEnv) createInstance(alias string) connect.InstanceInfo {
	e.t.Helper()
	var out connect.CreateInstanceOutput
	stdout := e.mustCLI(&out, 1, "instances", "create", "--alias", alias)
	if first, _, _ := strings.Cut(stdout, "\n"); first != out.Instance.Arn || out.Instance.InstanceAlias != alias || out.Instance.Id == "" {
		e.t.Fatalf("instances create printed %q", stdout)
	}
	return out.Instance
}

func (e *contactEnv) associate(domain, arn string) error {
	_, err := e.client.PutIntegration(e.t.Context(), &customerprofiles.PutIntegrationInput{
		DomainName: aws.String(domain), Uri: aws.String(arn), ObjectTypeName: aws.String("CTR")})
	return err
}

// post sends contact records (one a line) as the root user.
func (e *contactEnv) post(instanceID string, records ...string) (connect.Result, wireResponse) {
	e.t.Helper()
	body := []byte(strings.Join(records, "\n"))
	r := mustDo(e.t, mustSignedRequest(e.t, e.m, http.MethodPost, connect.Path+instanceID+"/contact-records", body, signOpts{}))
	var res connect.Result
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &res); err != nil {
			e.t.Fatalf("answer %s: %v", r.Body, err)
		}
	}
	return res, r
}

// mustPost sends records that must all be accepted, one request each, a
// minute apart on the server's clock (so that contact history has an order).
func (e *contactEnv) mustPost(instanceID string, records ...string) {
	e.t.Helper()
	for _, rec := range records {
		e.clock.add(time.Minute)
		res, r := e.post(instanceID, rec)
		if r.Status != http.StatusOK || res.Accepted != 1 {
			e.t.Fatalf("post %s: %d %s", rec, r.Status, r.Body)
		}
	}
}

// profilesOf returns the ids of the profiles a key finds in a domain.
func (e *contactEnv) profilesOf(domain, key, value string) []string {
	e.t.Helper()
	out, err := e.client.SearchProfiles(e.t.Context(), &customerprofiles.SearchProfilesInput{
		DomainName: aws.String(domain), KeyName: aws.String(key), Values: []string{value}})
	if err != nil {
		e.t.Fatalf("SearchProfiles %s %s=%s: %v", domain, key, value, err)
	}
	var ids []string
	for _, p := range out.Items {
		ids = append(ids, aws.ToString(p.ProfileId))
	}
	return ids
}

// history returns the ContactIds of a profile's CTR objects, newest first.
func (e *contactEnv) history(domain, profileID string) []string {
	e.t.Helper()
	out, err := e.client.ListProfileObjects(e.t.Context(), &customerprofiles.ListProfileObjectsInput{
		DomainName: aws.String(domain), ObjectTypeName: aws.String("CTR"), ProfileId: aws.String(profileID), MaxResults: aws.Int32(100)})
	if err != nil {
		e.t.Fatalf("ListProfileObjects %s %s: %v", domain, profileID, err)
	}
	var ids []string
	for _, it := range out.Items {
		var rec struct{ ContactId string }
		json.Unmarshal([]byte(aws.ToString(it.Object)), &rec)
		ids = append(ids, rec.ContactId)
	}
	return ids
}

// ctr is a contact trace record of a voice call (an address with an @:
// a chat).
func ctr(instanceARN, contactID, address string, at time.Time) string {
	channel, method, typ := "VOICE", "INBOUND", "TELEPHONE_NUMBER"
	if strings.Contains(address, "@") {
		channel, method, typ = "CHAT", "API", "EMAIL_ADDRESS"
	}
	b, _ := json.Marshal(map[string]any{
		"AWSAccountId": "000000000000", "AWSContactTraceRecordFormatVersion": "2017-03-10",
		"ContactId": contactID, "Channel": channel, "InitiationMethod": method, "InstanceARN": instanceARN,
		"CustomerEndpoint":    map[string]string{"Type": typ, "Address": address},
		"InitiationTimestamp": at.UTC().Format(time.RFC3339), "DisconnectTimestamp": at.Add(4 * time.Minute).UTC().Format(time.RFC3339),
		"LastUpdateTimestamp": at.Add(5 * time.Minute).UTC().Format(time.RFC3339),
		"Agent":               map[string]any{"Username": "grace.kim"}, "Queue": map[string]any{"Name": "Billing"},
		"Attributes": map[string]string{"intent": "billing"},
	})
	return string(b)
}

func TestContacts_Instances(t *testing.T) {
	e := newContactEnv(t)
	east := e.createInstance("east")
	var list connect.ListInstancesOutput
	e.mustCLI(&list, 0, "instances", "list", "--output", "json")
	if len(list.InstanceSummaryList) != 1 || list.InstanceSummaryList[0] != east {
		t.Fatalf("instances list = %+v, want %+v", list, east)
	}
	if _, stderr, err := e.cli("instances", "create", "--alias", "not an alias!"); err == nil || !strings.Contains(stderr, "BadRequestException") {
		t.Errorf("create with a bad alias: %v %q", err, stderr)
	}

	// PutIntegration with the instance ARN associates it.
	e.createDomain("sales", "")
	e.createDomain("support", "")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}
	table := e.mustCLI(nil, 0, "instances", "list")
	for _, w := range []string{"ID", "ALIAS", "ARN", "DOMAIN", east.Id, "east", east.Arn, "sales"} {
		if !strings.Contains(table, w) {
			t.Errorf("instances list table does not show %q:\n%s", w, table)
		}
	}
	// One domain at most.
	wantAPIError(t, e.associate("support", east.Arn), "BadRequestException", "sales")

	// Contacts go to sales.
	at := e.clock.Now().Add(-time.Hour)
	e.mustPost(east.Id, ctr(east.Arn, "c-1", "+12065550100", at))
	salesProfile := e.profilesOf("sales", "_phone", "+12065550100")
	if len(salesProfile) != 1 {
		t.Fatalf("sales profiles of the number = %v, want one", salesProfile)
	}

	// switch moves the association; the profiles stay where they are.
	var sw connect.SwitchInstanceOutput
	e.mustCLI(&sw, 0, "instances", "switch", "--instance", east.Arn, "--domain", "support")
	if sw.Integration.DomainName != "support" || sw.Integration.Uri != east.Arn || sw.Integration.ObjectTypeName != "CTR" {
		t.Errorf("instances switch = %+v", sw)
	}
	e.mustCLI(&list, 0, "instances", "list", "--output", "json")
	if got := list.InstanceSummaryList[0].DomainName; got != "support" {
		t.Errorf("domain after switch = %q, want support", got)
	}
	if got := e.profilesOf("support", "_phone", "+12065550100"); len(got) != 0 {
		t.Errorf("support has profiles %v before any contact", got)
	}
	e.mustPost(east.Id, ctr(east.Arn, "c-2", "+12065550100", at.Add(time.Minute)))
	if got := e.profilesOf("sales", "_phone", "+12065550100"); !slices.Equal(got, salesProfile) {
		t.Errorf("sales profiles after switch = %v, want %v", got, salesProfile)
	}
	if got := e.history("sales", salesProfile[0]); !slices.Equal(got, []string{"c-1"}) {
		t.Errorf("sales history = %v, want [c-1]", got)
	}
	support := e.profilesOf("support", "_phone", "+12065550100")
	if len(support) != 1 || support[0] == salesProfile[0] {
		t.Fatalf("support profiles = %v, want a new one", support)
	}
	if got := e.history("support", support[0]); !slices.Equal(got, []string{"c-2"}) {
		t.Errorf("support history = %v, want [c-2]", got)
	}
	// The association is support's now: sales may take it back only
	// through switch.
	wantAPIError(t, e.associate("sales", east.Arn), "BadRequestException", "support")
	if _, stderr, err := e.cli("instances", "switch", "--instance", east.Arn, "--domain", "nowhere"); err == nil || !strings.Contains(stderr, "nowhere") {
		t.Errorf("switch to a missing domain: %v %q", err, stderr)
	}

	// An instance whose records are an object type of its domain's own
	// does not move to a domain without that type: every record would fail.
	west := e.createInstance("west")
	if _, err := e.client.PutProfileObjectType(t.Context(), &customerprofiles.PutProfileObjectTypeInput{DomainName: aws.String("support"),
		ObjectTypeName: aws.String("MyCTR"), TemplateId: aws.String("CTR"), Description: aws.String("contacts")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutIntegration(t.Context(), &customerprofiles.PutIntegrationInput{DomainName: aws.String("support"),
		Uri: aws.String(west.Arn), ObjectTypeName: aws.String("MyCTR")}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := e.cli("instances", "switch", "--instance", west.Arn, "--domain", "sales"); err == nil || !strings.Contains(stderr, "MyCTR") {
		t.Errorf("switch to a domain without the instance's object type: %v %q; want it refused naming MyCTR", err, stderr)
	}
	e.mustCLI(&list, 0, "instances", "list", "--output", "json")
	for _, inst := range list.InstanceSummaryList {
		if inst.Id == west.Id && inst.DomainName != "support" {
			t.Errorf("a refused switch moved the instance to %q", inst.DomainName)
		}
	}
}

func TestContacts_Intake(t *testing.T) {
	e := newContactEnv(t)
	queue := mustServiceQueue(t, e.m, "contacts-dlq")
	e.createDomain("sales", queue)
	east, west := e.createInstance("east"), e.createInstance("west")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}
	at := e.clock.Now().Add(-24 * time.Hour)

	// An instance associated with no domain: a clear error, nothing kept.
	_, r := e.post(west.Id, ctr(west.Arn, "w-1", "+13125550100", at))
	checkError(t, r, http.StatusBadRequest, "BadRequestException", west.Arn, "associated with no")

	// Voice by phone: the same number is one profile, its contact history
	// newest first.
	e.mustPost(east.Id,
		ctr(east.Arn, "v-1", "+1 (206) 555-0100", at),
		ctr(east.Arn, "v-2", "+12065550100", at.Add(time.Hour)),
		ctr(east.Arn, "v-3", "+12065550199", at.Add(2*time.Hour)),
		ctr(east.Arn, "chat-1", "Ana.Silva@example.com", at.Add(3*time.Hour)),
		ctr(east.Arn, "chat-2", "ana.silva@example.com", at.Add(4*time.Hour)),
	)
	caller := e.profilesOf("sales", "_phone", "+12065550100")
	if len(caller) != 1 {
		t.Fatalf("profiles of +12065550100 = %v, want one", caller)
	}
	if got, want := e.history("sales", caller[0]), []string{"v-2", "v-1"}; !slices.Equal(got, want) {
		t.Errorf("contact history = %v, want %v", got, want)
	}
	other := e.profilesOf("sales", "_phone", "+12065550199")
	if len(other) != 1 || other[0] == caller[0] {
		t.Errorf("a new number: profiles %v, want a new one (not %s)", other, caller[0])
	}
	chat := e.profilesOf("sales", "_email", "ana.silva@example.com")
	if len(chat) != 1 || chat[0] == caller[0] || chat[0] == other[0] {
		t.Fatalf("profiles of the email = %v, want one of its own", chat)
	}
	if got, want := e.history("sales", chat[0]), []string{"chat-2", "chat-1"}; !slices.Equal(got, want) {
		t.Errorf("chat history = %v, want %v", got, want)
	}

	// The same ContactId again updates the record: no duplicate.
	e.mustPost(east.Id, strings.Replace(ctr(east.Arn, "v-1", "+12065550100", at), "billing", "refund", 1))
	if got, want := e.history("sales", caller[0]), []string{"v-1", "v-2"}; !slices.Equal(got, want) {
		t.Errorf("history after re-sending v-1 = %v, want %v", got, want)
	}
	if got := e.profilesOf("sales", "_phone", "+12065550100"); !slices.Equal(got, caller) {
		t.Errorf("profiles after re-sending = %v, want %v", got, caller)
	}

	// A malformed record is counted and goes to the dead-letter queue as
	// it was; the others of the request go in.
	broken := `{"ContactId": "broken", "Channel": "VOICE"`
	res, r := e.post(east.Id, ctr(east.Arn, "v-4", "+12065550100", at.Add(5*time.Hour)), broken)
	if r.Status != http.StatusOK || res.Accepted != 1 || res.Failed != 1 || res.Records[1].ErrorCode != profiles.ReasonInvalidObject || res.Records[0].ContactId != "v-4" {
		t.Fatalf("post with a malformed record: %d %s", r.Status, r.Body)
	}
	dls := deadLetters(t, MustSQSClient(t, e.m.URL()), queue)
	if len(dls) != 1 {
		t.Fatalf("dead letters = %+v, want one", dls)
	}
	if dl := dls[0]; dl.DomainName != "sales" || dl.ObjectTypeName != "CTR" || dl.Source != "contact" || dl.ErrorCode != profiles.ReasonInvalidObject || dl.Object != broken {
		t.Errorf("dead letter = %+v", dl)
	}

	// A number several profiles share (made through the API) is
	// ambiguous: the record is refused as AMBIGUOUS_KEYS and kept in the
	// dead-letter queue, rather than given one more profile with the
	// number, which would make the next call from it more ambiguous still.
	for range 2 {
		if _, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String("sales"),
			PhoneNumber: aws.String("+13125550177")}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		res, r := e.post(east.Id, ctr(east.Arn, fmt.Sprintf("shared-%d", i), "+13125550177", at))
		if r.Status != http.StatusOK || res.Failed != 1 || res.Records[0].ErrorCode != profiles.ReasonAmbiguousKeys {
			t.Fatalf("a call from a number two profiles share: %d %s; want AMBIGUOUS_KEYS", r.Status, r.Body)
		}
	}
	if got := e.profilesOf("sales", "_phone", "+13125550177"); len(got) != 2 {
		t.Errorf("profiles of the shared number after two calls: %d, want the 2 there were", len(got))
	}

	// Withheld numbers (+0, +1 000 000 0000) are no one's: each such call
	// lands on a profile of its own, not on one shared by every withheld
	// caller, whose contact history each would then see.
	for i, withheld := range []string{"+0", "+0", "+1 000 000 0000"} {
		e.mustPost(east.Id, ctr(east.Arn, fmt.Sprintf("anon-%d", i), withheld, at))
	}
	seen := map[string]bool{}
	for i := range 3 {
		found := e.profilesOf("sales", "_ctrContactId", fmt.Sprintf("anon-%d", i))
		if len(found) != 1 || seen[found[0]] {
			t.Errorf("withheld call anon-%d: profiles %v, want one of its own", i, found)
		} else {
			seen[found[0]] = true
		}
	}

	// A caller not allowed to put objects in the domain: nothing goes in.
	if _, err := e.m.Service.CreatePrincipal(t.Context(), profiles.PrincipalUser, "reader"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Service.PutPolicy(t.Context(), "reader", "read", policy(`{"Effect":"Allow","Action":"profile:SearchProfiles","Resource":"*"}`)); err != nil {
		t.Fatal(err)
	}
	k, secret, err := e.m.Service.CreateAccessKey(t.Context(), "reader")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(ctr(east.Arn, "v-5", "+12065550100", at))
	r = mustDo(t, mustSignedRequest(t, e.m, http.MethodPost, connect.Path+east.Id+"/contact-records", body, signOpts{keyID: k.ID, secret: secret}))
	checkError(t, r, http.StatusForbidden, "AccessDeniedException", "profile:PutProfileObject")
	if got := e.history("sales", caller[0]); slices.Contains(got, "v-5") {
		t.Errorf("a refused record went in: %v", got)
	}

	// As through the API: a Deny on the CTR object type's ARN, or on the
	// domain's tags, refuses the records too.
	if err := e.m.Service.TagResource(t.Context(), "arn:aws:profile:us-east-1:000000000000:domains/sales", map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	for i, deny := range []string{
		`{"Effect":"Deny","Action":"profile:PutProfileObject","Resource":"arn:aws:profile:us-east-1:000000000000:domains/sales/object-types/CTR"}`,
		`{"Effect":"Deny","Action":"profile:PutProfileObject","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}`,
	} {
		name := fmt.Sprintf("denied%d", i)
		id, secret := mustUserKey(t, e.m, name, map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`, deny)})
		body := []byte(ctr(east.Arn, "v-deny", "+12065550100", at))
		r = mustDo(t, mustSignedRequest(t, e.m, http.MethodPost, connect.Path+east.Id+"/contact-records", body, signOpts{keyID: id, secret: secret}))
		checkError(t, r, http.StatusForbidden, "AccessDeniedException", "profile:PutProfileObject")
	}
	if got := e.history("sales", caller[0]); slices.Contains(got, "v-deny") {
		t.Errorf("a record denied on the object type or the domain's tags went in: %v", got)
	}

	// The CTR object type's own tags are those of its ARN, as through the
	// API: a Deny on them refuses the records; the domain's do not stand
	// for them.
	if _, err := e.client.PutProfileObjectType(t.Context(), &customerprofiles.PutProfileObjectTypeInput{DomainName: aws.String("sales"),
		ObjectTypeName: aws.String("CTR"), TemplateId: aws.String("CTR"), Description: aws.String("contacts"),
		Tags: map[string]string{"pii": "yes"}}); err != nil {
		t.Fatal(err)
	}
	id, secret := mustUserKey(t, e.m, "typetag", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
		`{"Effect":"Deny","Action":"profile:PutProfileObject","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/pii":"yes"}}}`)})
	r = mustDo(t, mustSignedRequest(t, e.m, http.MethodPost, connect.Path+east.Id+"/contact-records",
		[]byte(ctr(east.Arn, "v-typetag", "+12065550100", at)), signOpts{keyID: id, secret: secret}))
	checkError(t, r, http.StatusForbidden, "AccessDeniedException", "profile:PutProfileObject")
	if got := e.history("sales", caller[0]); slices.Contains(got, "v-typetag") {
		t.Errorf("a record denied on the CTR type's own tags went in: %v", got)
	}
}

func TestContacts_Simulate(t *testing.T) {
	e := newContactEnv(t)
	e.createDomain("sales", "")
	east := e.createInstance("east")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}
	const n = 60
	var sum struct{ Sent, Accepted, Failed int }
	e.mustCLI(&sum, 0, "contacts", "simulate", "--instance", east.Arn, "--count", fmt.Sprint(n), "--seed", "42", "--rate", "1000", "--batch", "25")
	if sum.Sent != n || sum.Accepted != n || sum.Failed != 0 {
		t.Fatalf("simulate = %+v, want %d sent and accepted", sum, n)
	}

	// The same records again (same seed) update them: each address still
	// finds one profile, and the profiles hold n contacts in all.
	e.mustCLI(&sum, 0, "contacts", "simulate", "--instance", east.Arn, "--count", fmt.Sprint(n), "--seed", "42", "--rate", "0")
	if sum.Accepted != n {
		t.Fatalf("simulate again = %+v", sum)
	}
	sim := connect.NewSimulator(east.Arn, 42, time.Now())
	seen, addresses, profilesSeen := map[string]bool{}, 0, map[string]bool{}
	channels := map[string]int{}
	for range n {
		rec := sim.Next()
		channels[rec.Channel]++
		addr := rec.CustomerEndpoint.Address
		if seen[addr] {
			continue
		}
		seen[addr] = true
		addresses++
		key := "_phone"
		if rec.Channel == "CHAT" {
			key = "_email"
		}
		ids := e.profilesOf("sales", key, addr)
		if len(ids) != 1 {
			t.Fatalf("%s %s finds %v, want one profile", key, addr, ids)
		}
		profilesSeen[ids[0]] = true
	}
	total := 0
	for id := range profilesSeen {
		total += len(e.history("sales", id))
	}
	if total != n || addresses == n || channels["VOICE"] == 0 || channels["CHAT"] == 0 {
		t.Errorf("%d contacts on %d profiles for %d addresses (%v), want %d with returning customers", total, len(profilesSeen), addresses, channels, n)
	}

	// contacts send: a file with a malformed line.
	file := filepath.Join(t.TempDir(), "contacts.jsonl")
	at := e.clock.Now()
	lines := []string{ctr(east.Arn, "s-1", "+17205550100", at), `{"ContactId": "s-2",`, ctr(east.Arn, "s-3", "bo@example.org", at)}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Sent, Accepted, Failed int
		Failures               []connect.RecordResult
	}
	e.mustCLI(&sent, 0, "contacts", "send", "--instance", east.Arn, file)
	if sent.Sent != 3 || sent.Accepted != 2 || sent.Failed != 1 || len(sent.Failures) != 1 || sent.Failures[0].Index != 1 || sent.Failures[0].ErrorCode != profiles.ReasonInvalidObject {
		t.Errorf("contacts send = %+v", sent)
	}
	if got := e.profilesOf("sales", "_email", "bo@example.org"); len(got) != 1 {
		t.Errorf("profiles of the sent chat = %v", got)
	}

	// An instance associated with no domain: the error, nothing sent.
	west := e.createInstance("west")
	stdout, stderr, err := e.cli("contacts", "simulate", "--instance", west.Arn, "--count", "3")
	if err == nil || !strings.Contains(stderr, "BadRequestException") || !strings.Contains(stderr, "associated with no") || stdout != "" {
		t.Errorf("simulate for an unassociated instance: %v\nstdout %q\nstderr %q", err, stdout, stderr)
	}
}

// TestContacts_Redelivery: a contact record delivered again (the contact
// center retries after a timeout) is one contact. As it was, it changes
// nothing: one contact record, one history record, no event. A later
// version of it (the contact ended) updates its history record and emits
// the object's UPDATED event, and still adds no record.
func TestContacts_Redelivery(t *testing.T) {
	kinesis := kinesalite.StartIn(t, testRegion, "000000000000")
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID) // the server's Kinesis client reads them
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	e := newContactEnv(t, func(c *main.Config) { c.KinesisEndpoint = kinesis })
	ctx := t.Context()
	e.createDomain("sales", "")
	east := e.createInstance("east")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}
	stream := kinesalite.CreateStream(t, kinesis, testRegion, "contact-events", 1)
	if _, err := e.client.CreateEventStream(ctx, &customerprofiles.CreateEventStreamInput{DomainName: aws.String("sales"),
		EventStreamName: aws.String("crm"), Uri: aws.String(stream)}); err != nil {
		t.Fatalf("CreateEventStream: %v", err)
	}
	// ctrEvents returns the events of the CTR object once the stream holds
	// at least n of them (the background delivery may be sending them),
	// each once: delivery is at least once, and an event sent again under
	// load has its EventId still.
	ctrEvents := func(n int) []streamEvent {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := e.m.Service.DeliverEvents(ctx); err != nil {
				t.Fatalf("DeliverEvents: %v", err)
			}
			var out []streamEvent
			seen := map[string]bool{}
			for _, r := range kinesalite.ReadAll(t, kinesis, testRegion, "contact-events") {
				var ev streamEvent
				if err := json.Unmarshal(r.Data, &ev); err != nil {
					t.Fatalf("event %s: %v", r.Data, err)
				}
				if ev.ObjectTypeName == "CTR" && !seen[ev.EventID] {
					seen[ev.EventID] = true
					out = append(out, ev)
				}
			}
			if len(out) >= n || time.Now().After(deadline) {
				return out
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	history := func(profileID string) []types.ProfileHistoryRecord {
		t.Helper()
		out, err := e.client.ListProfileHistoryRecords(ctx, &customerprofiles.ListProfileHistoryRecordsInput{
			DomainName: aws.String("sales"), ProfileId: aws.String(profileID), ObjectTypeName: aws.String("CTR")})
		if err != nil {
			t.Fatalf("ListProfileHistoryRecords: %v", err)
		}
		return out.ProfileHistoryRecords
	}

	at := e.clock.Now().Add(-time.Hour)
	record := ctr(east.Arn, "c-1", "+12065550100", at)
	e.mustPost(east.Id, record)
	caller := e.profilesOf("sales", "_phone", "+12065550100")
	if len(caller) != 1 {
		t.Fatalf("profiles of the caller = %v, want one", caller)
	}
	first := history(caller[0])
	if len(first) != 1 {
		t.Fatalf("after the first delivery: history %v, want one record", historyIDs(first))
	}

	// The same record again, as it was: nothing changes.
	e.mustPost(east.Id, record)
	if got := e.history("sales", caller[0]); !slices.Equal(got, []string{"c-1"}) {
		t.Errorf("contact records after the same delivery again = %v, want [c-1]", got)
	}
	if got := history(caller[0]); len(got) != 1 || aws.ToString(got[0].Id) != aws.ToString(first[0].Id) ||
		!aws.ToTime(got[0].LastUpdatedAt).Equal(aws.ToTime(first[0].LastUpdatedAt)) {
		t.Errorf("history after the same delivery again = %v, want only %v unchanged", historyIDs(got), historyIDs(first))
	}
	// Its events, if any, would be delivered before the later version's.

	// A later version (the contact went on for 20 minutes): the history
	// record is updated, not doubled, and the object's change is an event.
	ended := strings.Replace(strings.Replace(record,
		at.Add(4*time.Minute).UTC().Format(time.RFC3339), at.Add(20*time.Minute).UTC().Format(time.RFC3339), 1),
		at.Add(5*time.Minute).UTC().Format(time.RFC3339), at.Add(21*time.Minute).UTC().Format(time.RFC3339), 1)
	if ended == record {
		t.Fatal("the later version is the same record")
	}
	e.mustPost(east.Id, ended)
	if got := e.history("sales", caller[0]); !slices.Equal(got, []string{"c-1"}) {
		t.Errorf("contact records after a later version = %v, want [c-1]", got)
	}
	got := history(caller[0])
	if len(got) != 1 || aws.ToString(got[0].Id) != aws.ToString(first[0].Id) || !aws.ToTime(got[0].LastUpdatedAt).After(aws.ToTime(first[0].LastUpdatedAt)) {
		t.Fatalf("history after a later version = %v, want %v updated", historyIDs(got), historyIDs(first))
	}
	rec, err := e.client.GetProfileHistoryRecord(ctx, &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String("sales"),
		ProfileId: aws.String(caller[0]), Id: got[0].Id})
	if err != nil {
		t.Fatalf("GetProfileHistoryRecord: %v", err)
	}
	if !strings.Contains(aws.ToString(rec.Content), at.Add(21*time.Minute).UTC().Format(time.RFC3339)) {
		t.Errorf("history record content = %s, want the later version", aws.ToString(rec.Content))
	}
	// The stream has the contact's CREATED event, then its UPDATED one for
	// the later version, and no UPDATED one for the same record again.
	var got2 []string
	for _, ev := range ctrEvents(2) {
		got2 = append(got2, ev.EventType+" "+fmt.Sprint(ev.Object["LastUpdateTimestamp"]))
	}
	want := []string{"CREATED " + at.Add(5*time.Minute).UTC().Format(time.RFC3339), "UPDATED " + at.Add(21*time.Minute).UTC().Format(time.RFC3339)}
	if !slices.Equal(got2, want) {
		t.Errorf("events of the contact = %q, want %q", got2, want)
	}
}

// historyIDs returns the id and last update of each history record.
func historyIDs(rs []types.ProfileHistoryRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, aws.ToString(r.Id)+"@"+aws.ToTime(r.LastUpdatedAt).Format(time.RFC3339))
	}
	return out
}
