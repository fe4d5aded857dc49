package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/connect"
)

// ctrWith is ctr with fields of the record replaced (nil: removed).
func ctrWith(instanceARN, contactID, address string, at time.Time, set map[string]any) string {
	var rec map[string]any
	json.Unmarshal([]byte(ctr(instanceARN, contactID, address, at)), &rec)
	for k, v := range set {
		if v == nil {
			delete(rec, k)
		} else {
			rec[k] = v
		}
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

// accountIntegrations returns the domains ListAccountIntegrations names
// for a Uri.
func (e *contactEnv) accountIntegrations(uri string) []string {
	e.t.Helper()
	out, err := e.client.ListAccountIntegrations(e.t.Context(), &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(uri)})
	if err != nil {
		e.t.Fatalf("ListAccountIntegrations %s: %v", uri, err)
	}
	var domains []string
	for _, it := range out.Items {
		domains = append(domains, aws.ToString(it.DomainName))
	}
	return domains
}

// TestContacts_AssociationLifecycle: one domain per instance through
// PutIntegration (again on the same domain is no change), DeleteIntegration
// disassociates it (its records are then refused, naming the instance),
// and a deleted domain takes its association with it: the instance's
// records are refused, not kept for a domain created again with its name,
// and the instance may be associated elsewhere.
func TestContacts_AssociationLifecycle(t *testing.T) {
	e := newContactEnv(t)
	ctx := t.Context()
	e.createDomain("sales", "")
	e.createDomain("support", "")
	east := e.createInstance("east")
	at := e.clock.Now().Add(-time.Hour)

	for range 2 { // associating it again with its domain changes nothing
		if err := e.associate("sales", east.Arn); err != nil {
			t.Fatalf("PutIntegration: %v", err)
		}
	}
	if got := e.accountIntegrations(east.Arn); !slices.Equal(got, []string{"sales"}) {
		t.Fatalf("ListAccountIntegrations = %v, want [sales]", got)
	}
	e.mustPost(east.Id, ctr(east.Arn, "a-1", "+12065550100", at))

	// Another instance's record sent for this one (one stream of both
	// instances' records), that instance associated with another domain:
	// refused, not kept in this instance's domain.
	west := e.createInstance("west")
	if err := e.associate("support", west.Arn); err != nil {
		t.Fatalf("PutIntegration west: %v", err)
	}
	e.clock.add(time.Minute)
	res, r := e.post(east.Id, ctr(west.Arn, "w-1", "+12065550177", at), ctr(east.Arn, "a-0", "+12065550100", at.Add(-time.Minute)))
	if r.Status != http.StatusOK || res.Accepted != 1 || res.Failed != 1 || res.Records[0].ErrorCode != "INVALID" || !strings.Contains(res.Records[0].Message, "InstanceARN") {
		t.Fatalf("a record of west sent for east: %d %s; want it refused naming InstanceARN, the other accepted", r.Status, r.Body)
	}
	if got := e.profilesOf("sales", "_phone", "+12065550177"); len(got) != 0 {
		t.Errorf("west's caller has profiles %v in east's domain", got)
	}
	// A record of an instance associated with no domain (east's
	// predecessor, re-created with a new id, its records now sent for
	// east) goes in.
	retired := strings.Replace(east.Arn, east.Id, "00000000-0000-4000-8000-000000000001", 1)
	e.mustPost(east.Id, ctr(retired, "r-1", "+12065550188", at.Add(-2*time.Hour)))
	if got := e.profilesOf("sales", "_phone", "+12065550188"); len(got) != 1 || !slices.Equal(e.history("sales", got[0]), []string{"r-1"}) {
		t.Errorf("a record of a retired instance: profiles %v in sales, want one with its contact", got)
	}

	// Disassociated: refused, nothing kept anywhere.
	if _, err := e.client.DeleteIntegration(ctx, &customerprofiles.DeleteIntegrationInput{DomainName: aws.String("sales"), Uri: aws.String(east.Arn)}); err != nil {
		t.Fatalf("DeleteIntegration: %v", err)
	}
	if got := e.accountIntegrations(east.Arn); len(got) != 0 {
		t.Errorf("ListAccountIntegrations after DeleteIntegration = %v, want none", got)
	}
	_, r = e.post(east.Id, ctr(east.Arn, "a-2", "+12065550100", at))
	checkError(t, r, http.StatusBadRequest, "BadRequestException", east.Arn, "associated with no")
	caller := e.profilesOf("sales", "_phone", "+12065550100")
	if len(caller) != 1 || !slices.Equal(e.history("sales", caller[0]), []string{"a-0", "a-1"}) {
		t.Fatalf("sales after a refused record: profiles %v", caller)
	}

	// Associated with another domain now: its records go there.
	if err := e.associate("support", east.Arn); err != nil {
		t.Fatalf("PutIntegration on support after DeleteIntegration: %v", err)
	}
	e.mustPost(east.Id, ctr(east.Arn, "a-3", "+12065550100", at))
	if got := e.profilesOf("support", "_phone", "+12065550100"); len(got) != 1 || !slices.Equal(e.history("support", got[0]), []string{"a-3"}) {
		t.Errorf("support after association: profiles %v", got)
	}

	// The domain deleted: the association goes with it.
	if _, err := e.client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("support")}); err != nil {
		t.Fatalf("DeleteDomain: %v", err)
	}
	if got := e.accountIntegrations(east.Arn); len(got) != 0 {
		t.Errorf("ListAccountIntegrations after DeleteDomain = %v, want none", got)
	}
	_, r = e.post(east.Id, ctr(east.Arn, "a-4", "+12065550100", at))
	checkError(t, r, http.StatusBadRequest, "BadRequestException", east.Arn, "associated with no")
	var list connect.ListInstancesOutput
	e.mustCLI(&list, 0, "instances", "list", "--output", "json")
	if len(list.InstanceSummaryList) != 2 || list.InstanceSummaryList[0].DomainName != "" || list.InstanceSummaryList[1].DomainName != "" {
		t.Errorf("instances list after its domain was deleted = %+v, want it with no domain", list.InstanceSummaryList)
	}
	// A domain created again with the name is another one: not associated.
	e.createDomain("support", "")
	_, r = e.post(east.Id, ctr(east.Arn, "a-5", "+12065550100", at))
	checkError(t, r, http.StatusBadRequest, "BadRequestException", east.Arn, "associated with no")
	if got := e.profilesOf("support", "_phone", "+12065550100"); len(got) != 0 {
		t.Errorf("the new support domain has profiles %v", got)
	}
	// And the instance may be associated again.
	e.mustCLI(nil, 0, "instances", "switch", "--instance", east.Arn, "--domain", "sales")
	e.mustPost(east.Id, ctr(east.Arn, "a-6", "+12065550100", at.Add(time.Minute)))
	if got := e.history("sales", caller[0]); !slices.Equal(got, []string{"a-6", "a-0", "a-1"}) {
		t.Errorf("sales history after switching back = %v, want [a-6 a-0 a-1]", got)
	}
}

// TestContacts_Callers: which profile each contact lands on, as a contact
// center sees it: one caller's number in its E.164, local and
// international-prefix forms is one profile; withheld numbers and contacts
// with neither number nor email get a profile each (never one shared by
// every anonymous caller); chats are found by their email in any case,
// plus-addressed mail is another address; a transfer (a new ContactId,
// same customer) stays with its caller; contact attributes are kept as
// sent.
func TestContacts_Callers(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-48 * time.Hour)
	n := 0
	post := func(id, address string, set map[string]any) {
		t.Helper()
		n++
		e.mustPost(east.Id, ctrWith(east.Arn, id, address, at.Add(time.Duration(n)*time.Minute), set))
	}
	byContact := func(id string) string {
		t.Helper()
		found := e.profilesOf("sales", "_ctrContactId", id)
		if len(found) != 1 {
			t.Fatalf("profiles of contact %s: %v, want one", id, found)
		}
		return found[0]
	}

	// One caller, several forms of the number.
	for group, forms := range map[string][]string{
		"+12065550100":  {"+12065550100", "+1 (206) 555-0100", "(206) 555-0100", "206.555.0100", "0012065550100"},
		"+33123456789":  {"+33 1 23 45 67 89", "0033 1 23 45 67 89", "+33 (0)1 23 45 67 89"},
		"+442079460958": {"+44 20 7946 0958", "+44 (0)20 7946 0958", "00442079460958"},
	} {
		var ids []string
		for i, f := range forms {
			id := fmt.Sprintf("%s-%d", group, i)
			post(id, f, nil)
			ids = append(ids, byContact(id))
		}
		if distinct := slices.Compact(slices.Sorted(slices.Values(ids))); len(distinct) != 1 {
			t.Errorf("%s in forms %q: profiles %v, want one", group, forms, ids)
		}
		if got := e.profilesOf("sales", "_phone", group); len(got) != 1 || got[0] != ids[0] {
			t.Errorf("_phone=%s finds %v, want %s", group, got, ids[0])
		}
	}

	// Withheld numbers, and contacts with neither number nor email: a
	// profile each.
	anon := map[string]map[string]any{
		"anonymous":         nil,
		"Anonymous":         nil,
		"Restricted":        nil,
		"+0":                nil,
		"":                  nil,
		"no-endpoint-voice": {"CustomerEndpoint": nil},
		"no-endpoint-chat":  {"CustomerEndpoint": nil, "Channel": "CHAT", "InitiationMethod": "API"},
		"chat-no-email":     {"CustomerEndpoint": map[string]string{"Type": "EMAIL_ADDRESS"}, "Channel": "CHAT", "InitiationMethod": "API"},
		"chat-bad-email":    {"CustomerEndpoint": map[string]string{"Type": "EMAIL_ADDRESS", "Address": "not an address"}, "Channel": "CHAT"},
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range anon {
			if !yield(k) {
				return
			}
		}
	}) {
		address := name
		if anon[name] != nil {
			address = "x"
		}
		for i := range 2 {
			id := fmt.Sprintf("anon-%q-%d", name, i)
			post(id, address, anon[name])
			p := byContact(id)
			if other, ok := seen[p]; ok {
				t.Errorf("contact %s landed on profile %s of %s", id, p, other)
			}
			seen[p] = id
			if got := e.history("sales", p); !slices.Equal(got, []string{id}) {
				t.Errorf("history of anonymous contact %s = %v", id, got)
			}
		}
	}

	// Chats by email: case does not matter, plus-addressing is another
	// address (AWS matches addresses as given).
	post("chat-1", "Ana.Silva@Example.COM", nil)
	post("chat-2", "ana.silva@example.com", nil)
	post("chat-3", "ana.silva+billing@example.com", nil)
	if byContact("chat-1") != byContact("chat-2") {
		t.Errorf("one email in two cases: two profiles")
	}
	if byContact("chat-3") == byContact("chat-1") {
		t.Errorf("a plus-addressed email landed on the plain address's profile")
	}
	if got := e.history("sales", byContact("chat-1")); !slices.Equal(got, []string{"chat-2", "chat-1"}) {
		t.Errorf("chat history = %v, want [chat-2 chat-1]", got)
	}

	// A transfer: a new contact, the first one's id as its previous and
	// initial one, the same customer.
	post("call-1", "+13125550142", nil)
	post("call-1-transfer", "+13125550142", map[string]any{"PreviousContactId": "call-1", "InitialContactId": "call-1", "InitiationMethod": "TRANSFER"})
	caller := byContact("call-1")
	if byContact("call-1-transfer") != caller {
		t.Errorf("the transferred contact landed on another profile")
	}
	if got := e.history("sales", caller); !slices.Equal(got, []string{"call-1-transfer", "call-1"}) {
		t.Errorf("history of a transferred call = %v, want [call-1-transfer call-1]", got)
	}

	// Contact attributes are kept as sent.
	post("attrs", "+13125550142", map[string]any{"Attributes": map[string]string{"intent": "refund", "order": "A-1029", "vip": "true"}})
	out, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("sales"),
		ObjectTypeName: aws.String("CTR"), ProfileId: aws.String(caller), MaxResults: aws.Int32(1)})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("ListProfileObjects: %v %v", out, err)
	}
	var rec struct {
		ContactId  string
		Attributes map[string]string
	}
	json.Unmarshal([]byte(aws.ToString(out.Items[0].Object)), &rec)
	if rec.ContactId != "attrs" || rec.Attributes["order"] != "A-1029" || rec.Attributes["vip"] != "true" || len(rec.Attributes) != 3 {
		t.Errorf("newest contact record = %s, want attrs with its attributes", aws.ToString(out.Items[0].Object))
	}
}

// TestContacts_Versions: a contact's records by ContactId. A later version
// updates the one object (and moves it to the top of ListProfileObjects,
// which lists by last update); an older version delivered late replaces
// nothing; contacts delivered late (a backfill) are listed as delivered.
// ListProfileHistoryRecords has one INGESTED record per contact.
func TestContacts_Versions(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-48 * time.Hour)
	v1 := ctrWith(east.Arn, "c-1", "+12065550100", at, map[string]any{"LastUpdateTimestamp": at.Add(time.Minute).Format(time.RFC3339), "DisconnectTimestamp": nil})
	v2 := ctrWith(east.Arn, "c-1", "+12065550100", at, map[string]any{"LastUpdateTimestamp": at.Add(9 * time.Minute).Format(time.RFC3339),
		"Attributes": map[string]string{"intent": "refund"}})
	e.mustPost(east.Id, v1)
	e.mustPost(east.Id, ctr(east.Arn, "c-2", "+12065550100", at.Add(time.Hour)))
	e.mustPost(east.Id, v2)
	p := e.profilesOf("sales", "_phone", "+12065550100")
	if len(p) != 1 {
		t.Fatalf("profiles: %v", p)
	}
	if got := e.history("sales", p[0]); !slices.Equal(got, []string{"c-1", "c-2"}) {
		t.Errorf("objects after c-1's later version = %v, want [c-1 c-2]", got)
	}
	// The first version again, late: stale.
	e.mustPost(east.Id, v1)
	out, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("sales"),
		ObjectTypeName: aws.String("CTR"), ProfileId: aws.String(p[0])})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 || !strings.Contains(aws.ToString(out.Items[0].Object), "refund") {
		t.Errorf("after the older version came late: %d objects, newest %s; want c-1's later version kept", len(out.Items), aws.ToString(out.Items[0].Object))
	}
	// A contact from before, delivered now.
	e.mustPost(east.Id, ctr(east.Arn, "c-0", "+12065550100", at.Add(-time.Hour)))
	if got := e.history("sales", p[0]); !slices.Equal(got, []string{"c-0", "c-1", "c-2"}) {
		t.Errorf("objects after a late contact = %v, want [c-0 c-1 c-2] (by last update)", got)
	}
	h, err := e.client.ListProfileHistoryRecords(t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String("sales"),
		ProfileId: aws.String(p[0]), ObjectTypeName: aws.String("CTR")})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.ProfileHistoryRecords) != 3 {
		t.Errorf("history records = %v, want 3 (one a contact)", historyIDs(h.ProfileHistoryRecords))
	}
}

// TestContacts_ConcurrentNewNumber: contacts from a number never seen,
// arriving at once (in parallel requests, and in one request), make one
// profile, which holds them all.
func TestContacts_ConcurrentNewNumber(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-time.Hour)
	const n = 24
	var wg sync.WaitGroup
	results := make([]connect.Result, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			res, r := e.post(east.Id, ctr(east.Arn, fmt.Sprintf("par-%02d", i), "+14155550123", at.Add(time.Duration(i)*time.Second)))
			results[i], statuses[i] = res, r.Status
		})
	}
	wg.Wait()
	for i := range n {
		if statuses[i] != http.StatusOK || results[i].Accepted != 1 {
			t.Errorf("parallel contact %d: %d %+v", i, statuses[i], results[i])
		}
	}
	if got := e.profilesOf("sales", "_phone", "+14155550123"); len(got) != 1 {
		t.Fatalf("parallel contacts from one new number: profiles %v, want one", got)
	} else if h := e.history("sales", got[0]); len(h) != n {
		t.Errorf("history of the number: %d contacts, want %d", len(h), n)
	}

	// Versions of one new contact at once: one object, the latest
	// version, one history record.
	versions := make([]string, 8)
	for i := range versions {
		versions[i] = ctrWith(east.Arn, "versions", "+14155550188", at, map[string]any{
			"LastUpdateTimestamp": at.Add(time.Duration(i+1) * time.Minute).Format(time.RFC3339), "Attributes": map[string]string{"v": fmt.Sprint(i)}})
	}
	for i := range versions {
		wg.Go(func() {
			if res, r := e.post(east.Id, versions[i]); r.Status != http.StatusOK || res.Accepted != 1 {
				t.Errorf("version %d: %d %s", i, r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	if got := e.profilesOf("sales", "_phone", "+14155550188"); len(got) != 1 {
		t.Errorf("versions of one new contact at once: profiles %v, want one", got)
	} else {
		out, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("sales"),
			ObjectTypeName: aws.String("CTR"), ProfileId: aws.String(got[0])})
		if err != nil || len(out.Items) != 1 || !strings.Contains(aws.ToString(out.Items[0].Object), `"v":"7"`) {
			t.Errorf("objects of the contact: %v %v; want one, its latest version", out, err)
		}
		h, err := e.client.ListProfileHistoryRecords(t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String("sales"),
			ProfileId: aws.String(got[0]), ObjectTypeName: aws.String("CTR")})
		if err != nil || len(h.ProfileHistoryRecords) != 1 {
			t.Errorf("history records of the contact: %v %v; want one", h, err)
		}
	}

	// In one request: the intake ingests its records at once.
	var recs []string
	for i := range n {
		recs = append(recs, ctr(east.Arn, fmt.Sprintf("batch-%02d", i), "batch.caller@example.com", at.Add(time.Duration(i)*time.Second)))
	}
	res, r := e.post(east.Id, recs...)
	if r.Status != http.StatusOK || res.Accepted != n {
		t.Fatalf("one request of %d contacts: %d %s", n, r.Status, r.Body)
	}
	if got := e.profilesOf("sales", "_email", "batch.caller@example.com"); len(got) != 1 {
		t.Fatalf("contacts of one request from one new address: profiles %v, want one", got)
	} else if h := e.history("sales", got[0]); len(h) != n {
		t.Errorf("history of the address: %d contacts, want %d", len(h), n)
	}
}

// TestContacts_NoCTRType: a domain without a CTR object type takes an
// instance's contacts through the built-in template, and they are listed
// under CTR; once the domain defines CTR with another template, new
// contacts follow it and the earlier ones are still listed.
func TestContacts_NoCTRType(t *testing.T) {
	e, east := newSalesEnv(t)
	ctx := t.Context()
	at := e.clock.Now().Add(-time.Hour)
	e.mustPost(east.Id, ctr(east.Arn, "t-1", "+12065550100", at))
	p := e.profilesOf("sales", "_phone", "+12065550100")
	if len(p) != 1 || !slices.Equal(e.history("sales", p[0]), []string{"t-1"}) {
		t.Fatalf("a contact into a domain without CTR: profiles %v", p)
	}
	if _, err := e.client.PutProfileObjectType(ctx, &customerprofiles.PutProfileObjectTypeInput{DomainName: aws.String("sales"),
		ObjectTypeName: aws.String("CTR"), TemplateId: aws.String("CTR-AutoAssociateOnly"), Description: aws.String("contacts")}); err != nil {
		t.Fatalf("PutProfileObjectType: %v", err)
	}
	e.mustPost(east.Id, ctr(east.Arn, "t-2", "+12065550100", at.Add(time.Minute)))
	if got := e.history("sales", p[0]); !slices.Equal(got, []string{"t-2", "t-1"}) {
		t.Errorf("history after CTR was defined = %v, want [t-2 t-1]", got)
	}
	res, r := e.post(east.Id, ctr(east.Arn, "t-3", "+12065550199", at))
	if r.Status != http.StatusOK || res.Failed != 1 || res.Records[0].ErrorCode != profiles.ReasonNoProfile {
		t.Errorf("a new number with CTR-AutoAssociateOnly: %d %s; want %s", r.Status, r.Body, profiles.ReasonNoProfile)
	}
}

// TestContacts_KeyDisabled: an instance associated with a domain whose KMS
// key is disabled: each contact fails with the key's error and is kept in
// the domain's dead-letter queue; enabled again, the replay ingests them.
func TestContacts_KeyDisabled(t *testing.T) {
	e := newContactEnv(t, func(c *main.Config) { c.KMSKeyCheckInterval, c.DataKeyMaxAge = 0, 0 })
	ctx := t.Context()
	k := MustKMSClient(t, e.m)
	key := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))
	queue := mustServiceQueue(t, e.m, "sales-dlq")
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("sales"), DefaultExpirationDays: aws.Int32(30),
		DeadLetterQueueUrl: aws.String(queue), DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	east := e.createInstance("east")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().Add(-time.Hour)
	e.mustPost(east.Id, ctr(east.Arn, "k-1", "+12065550100", at))

	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	locked := []string{ctr(east.Arn, "k-2", "+12065550100", at.Add(time.Minute)), ctr(east.Arn, "k-3", "+12065550111", at.Add(2*time.Minute))}
	res, r := e.post(east.Id, locked...)
	if r.Status != http.StatusOK || res.Accepted != 0 || res.Failed != 2 {
		t.Fatalf("contacts with the domain's key disabled: %d %s; want both failed", r.Status, r.Body)
	}
	for _, rec := range res.Records {
		if rec.ErrorCode != profiles.ReasonKMSKeyState || !strings.Contains(rec.Message, "KMS") {
			t.Errorf("record %s: %s %q, want %s naming KMS", rec.ContactId, rec.ErrorCode, rec.Message, profiles.ReasonKMSKeyState)
		}
	}
	letters, err := e.m.Service.ListDeadLetters(ctx, "sales", 10)
	if err != nil || len(letters) != 2 {
		t.Fatalf("dead letters: %d, %v; want 2", len(letters), err)
	}
	for _, l := range letters {
		if l.Letter == nil {
			t.Fatalf("not a dead letter: %s", l.Body)
		}
		if l.Letter.Source != connect.Source || l.Letter.ObjectTypeName != "CTR" || l.Letter.ErrorCode != profiles.ReasonKMSKeyState {
			t.Errorf("dead letter %+v", l.Letter)
		}
	}

	if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := e.m.Service.ReplayDeadLetters(ctx, "sales", nil, nil); err != nil || replayed != 2 || failed != 0 {
		t.Fatalf("replay with the key enabled: %d replayed, %d failed, %v", replayed, failed, err)
	}
	p := e.profilesOf("sales", "_phone", "+12065550100")
	if len(p) != 1 {
		t.Fatalf("profiles of the caller: %v", p)
	}
	if got := e.history("sales", p[0]); len(got) != 2 || !slices.Contains(got, "k-2") {
		t.Errorf("history after the replay = %v, want k-1 and k-2", got)
	}
	if got := e.profilesOf("sales", "_phone", "+12065550111"); len(got) != 1 {
		t.Errorf("profiles of the second caller after the replay: %v, want one", got)
	}
}

// TestContacts_AssociatedAnewWithAnotherTemplate: an instance associated
// anew with another contact-record template while a contact goes on: the
// contact's later version is stored under the new template's type, the
// first one stays under CTR (ListProfileObjects is by type), and the
// profile page shows the contact once, as its later version says.
func TestContacts_AssociatedAnewWithAnotherTemplate(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-time.Hour)
	e.mustPost(east.Id, ctrWith(east.Arn, "going-on", "+12065550100", at, map[string]any{"DisconnectTimestamp": nil,
		"LastUpdateTimestamp": at.Add(time.Minute).Format(time.RFC3339)}))
	if _, err := e.client.PutIntegration(t.Context(), &customerprofiles.PutIntegrationInput{DomainName: aws.String("sales"),
		Uri: aws.String(east.Arn), ObjectTypeName: aws.String("CTR-NoInferred")}); err != nil {
		t.Fatalf("PutIntegration with CTR-NoInferred: %v", err)
	}
	e.mustPost(east.Id, ctrWith(east.Arn, "going-on", "+12065550100", at, map[string]any{
		"DisconnectTimestamp": at.Add(37 * time.Minute).Format(time.RFC3339), "LastUpdateTimestamp": at.Add(38 * time.Minute).Format(time.RFC3339)}))
	p := e.profilesOf("sales", "_phone", "+12065550100")
	if len(p) != 1 {
		t.Fatalf("profiles of the caller: %v", p)
	}
	for _, typ := range []string{"CTR", "CTR-NoInferred"} {
		out, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("sales"),
			ObjectTypeName: aws.String(typ), ProfileId: aws.String(p[0])})
		if err != nil || len(out.Items) != 1 {
			t.Errorf("ListProfileObjects %s: %v %v; want the contact", typ, out, err)
		}
	}
	page := get(t, mustConsoleSession(t, e.m.URL(), testKeyID, testSecret), e.m.URL()+"/console/domains/sales/profiles/"+p[0])
	if n := strings.Count(page, "Contact going-on"); n != 1 {
		t.Errorf("the profile page shows the contact %d times, want once", n)
	}
	if !strings.Contains(page, `<span class="duration">37`) {
		t.Errorf("the profile page does not show the later version (37 minutes):\n%s", page)
	}
}

// TestContacts_OwnTypeSameContactShownEach: objects of a type of the
// domain's own (not a contact-record template) that read as contacts (a
// ContactId and an InitiationTimestamp) and share a ContactId are
// different objects (each its own unique key, say a callback each of one
// contact): the page shows each, as it did before contacts were kept one
// a contact for their versions under two templates.
func TestContacts_OwnTypeSameContactShownEach(t *testing.T) {
	e := newContactEnv(t)
	e.createDomain("sales", "")
	ctx := t.Context()
	if _, err := e.client.PutProfileObjectType(ctx, &customerprofiles.PutProfileObjectTypeInput{
		DomainName: aws.String("sales"), ObjectTypeName: aws.String("Callbacks"), Description: aws.String("callbacks"),
		AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":    {Source: aws.String("_source.CallbackId"), ContentType: types.FieldContentTypeString},
			"phone": {Source: aws.String("_source.Phone"), Target: aws.String("_profile.PhoneNumber"), ContentType: types.FieldContentTypePhoneNumber},
		},
		Keys: map[string][]types.ObjectTypeKey{
			"_callback": {{FieldNames: []string{"id"}, StandardIdentifiers: []types.StandardIdentifier{types.StandardIdentifierUnique}}},
			"_phone":    {{FieldNames: []string{"phone"}, StandardIdentifiers: []types.StandardIdentifier{types.StandardIdentifierProfile}}},
		},
	}); err != nil {
		t.Fatalf("PutProfileObjectType: %v", err)
	}
	for _, cb := range []string{"cb-1", "cb-2"} {
		obj := `{"CallbackId":"` + cb + `","Phone":"+12065550100","ContactId":"c-1","InitiationTimestamp":"2026-11-01T10:00:00Z"}`
		if _, err := e.client.PutProfileObject(ctx, &customerprofiles.PutProfileObjectInput{DomainName: aws.String("sales"),
			ObjectTypeName: aws.String("Callbacks"), Object: aws.String(obj)}); err != nil {
			t.Fatalf("PutProfileObject %s: %v", cb, err)
		}
	}
	p := e.profilesOf("sales", "_phone", "+12065550100")
	if len(p) != 1 {
		t.Fatalf("profiles: %v", p)
	}
	page := get(t, mustConsoleSession(t, e.m.URL(), testKeyID, testSecret), e.m.URL()+"/console/domains/sales/profiles/"+p[0])
	if n := strings.Count(page, "Contact c-1"); n != 2 {
		t.Errorf("the profile page shows contact c-1 %d times, want twice (two callbacks)", n)
	}
}
