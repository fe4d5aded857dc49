package connect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/connect"
)

const (
	instanceID  = "11111111-2222-3333-4444-555555555555"
	instanceARN = "arn:aws:connect:us-east-1:000000000000:instance/" + instanceID
)

// fakeIntegrations is an in-memory IntegrationService: instances by id and
// their associations by instance ARN.
type fakeIntegrations struct {
	mu        sync.Mutex
	instances []*profiles.Instance
	byURI     map[string]*profiles.Integration
	domains   map[string]bool // the domains that exist
}

var _ profiles.IntegrationService = (*fakeIntegrations)(nil)

func newFakeIntegrations(domains ...string) *fakeIntegrations {
	f := &fakeIntegrations{byURI: map[string]*profiles.Integration{}, domains: map[string]bool{}}
	for _, d := range domains {
		f.domains[d] = true
	}
	return f
}

func (f *fakeIntegrations) PutIntegration(ctx context.Context, in *profiles.Integration) (*profiles.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old := f.byURI[in.URI]; old != nil && old.DomainName != in.DomainName {
		return nil, profiles.Errorf(profiles.ECONFLICT, "%s is associated with domain %s", in.URI, old.DomainName)
	}
	c := *in
	f.byURI[in.URI] = &c
	return &c, nil
}

func (f *fakeIntegrations) GetIntegration(ctx context.Context, domain, uri string) (*profiles.Integration, error) {
	return nil, profiles.Errorf(profiles.ENOTIMPLEMENTED, "GetIntegration")
}

func (f *fakeIntegrations) ListIntegrations(ctx context.Context, domain string, page profiles.Page) ([]*profiles.Integration, string, error) {
	return nil, "", profiles.Errorf(profiles.ENOTIMPLEMENTED, "ListIntegrations")
}

func (f *fakeIntegrations) DeleteIntegration(ctx context.Context, domain, uri string) error {
	return profiles.Errorf(profiles.ENOTIMPLEMENTED, "DeleteIntegration")
}

func (f *fakeIntegrations) ListAccountIntegrations(ctx context.Context, uri string, page profiles.Page) ([]*profiles.Integration, string, error) {
	return nil, "", profiles.Errorf(profiles.ENOTIMPLEMENTED, "ListAccountIntegrations")
}

func (f *fakeIntegrations) CreateInstance(ctx context.Context, alias string) (*profiles.Instance, error) {
	if alias == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "InstanceAlias is required.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(f.instances)+1)
	in := &profiles.Instance{ID: id, ARN: "arn:aws:connect:us-east-1:000000000000:instance/" + id, Alias: alias,
		CreatedAt: time.Date(2026, 6, 1, 12, 0, len(f.instances), 0, time.UTC)}
	f.instances = append(f.instances, in)
	return in, nil
}

func (f *fakeIntegrations) ListInstances(ctx context.Context) ([]*profiles.InstanceView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*profiles.InstanceView
	for _, in := range f.instances {
		v := &profiles.InstanceView{Instance: *in}
		if integ := f.byURI[in.ARN]; integ != nil {
			v.DomainName = integ.DomainName
		}
		out = append(out, v)
	}
	return out, nil
}

func (f *fakeIntegrations) SwitchInstance(ctx context.Context, arn, domain string) (*profiles.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.domains[domain] {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Domain %s not found.", domain)
	}
	integ := f.byURI[arn]
	if integ == nil {
		integ = &profiles.Integration{URI: arn, ObjectTypeName: "CTR"}
		f.byURI[arn] = integ
	}
	integ.DomainName = domain
	c := *integ
	return &c, nil
}

func (f *fakeIntegrations) InstanceIntegration(ctx context.Context, id string) (*profiles.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	integ := f.byURI["arn:aws:connect:us-east-1:000000000000:instance/"+id]
	if integ == nil {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Instance %s is associated with no Customer Profiles domain.", id)
	}
	c := *integ
	return &c, nil
}

// associate associates the test instance with a domain.
func (f *fakeIntegrations) associate(domain string, integ profiles.Integration) {
	integ.DomainName, integ.URI = domain, instanceARN
	f.byURI[instanceARN] = &integ
}

// fakeIngest is an in-memory IngestService: objects by ContactId; what
// fails is kept as a dead letter, as the service's IngestAsync does.
type fakeIngest struct {
	mu          sync.Mutex
	objects     map[string]string // unique key -> object
	calls       []string          // "domain objectType source"
	deadLetters []string          // "code object"
	fail        error             // every call fails with it when set
}

var _ profiles.IngestService = (*fakeIngest)(nil)

func newFakeIngest() *fakeIngest { return &fakeIngest{objects: map[string]string{}} }

func (f *fakeIngest) IngestAsync(ctx context.Context, domain, objectType, obj, source string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, domain+" "+objectType+" "+source)
	key, err := f.put(obj)
	if err != nil {
		code := profiles.ErrorReason(err)
		if code == "" {
			code = profiles.ErrorCode(err)
		}
		f.deadLetters = append(f.deadLetters, code+" "+obj)
	}
	return key, err
}

func (f *fakeIngest) put(obj string) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(obj), &v); err != nil {
		return "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonInvalidObject, "The object must be a JSON object: %v", err)
	}
	id, _ := v["ContactId"].(string)
	if id == "" {
		return "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonKeyMissing, profiles.MsgKeyMissing)
	}
	key := "ctr-" + id
	f.objects[key] = obj
	return key, nil
}

func (f *fakeIngest) PutProfileObject(ctx context.Context, domain, objectType, obj string) (string, error) {
	return "", profiles.Errorf(profiles.ENOTIMPLEMENTED, "PutProfileObject")
}

func (f *fakeIngest) PutProfileObjects(ctx context.Context, domain, objectType string, objs []string) ([]string, []error, error) {
	return nil, nil, profiles.Errorf(profiles.ENOTIMPLEMENTED, "PutProfileObjects")
}

func (f *fakeIngest) ListProfileObjects(ctx context.Context, domain, objectType, profileID, filterKey string, filterValues []string, page profiles.Page) ([]*profiles.ProfileObject, string, error) {
	return nil, "", profiles.Errorf(profiles.ENOTIMPLEMENTED, "ListProfileObjects")
}

func (f *fakeIngest) DeleteProfileObject(ctx context.Context, domain, objectType, profileID, uniqueKey string) error {
	return profiles.Errorf(profiles.ENOTIMPLEMENTED, "DeleteProfileObject")
}

func record(id, channel, address string) string {
	typ := "TELEPHONE_NUMBER"
	if channel == "CHAT" {
		typ = "EMAIL_ADDRESS"
	}
	b, _ := json.Marshal(map[string]any{"ContactId": id, "Channel": channel, "InstanceARN": instanceARN,
		"CustomerEndpoint": map[string]string{"Type": typ, "Address": address}})
	return string(b)
}

func TestSplit(t *testing.T) {
	a, b := record("a", "VOICE", "+12065550100"), record("b", "CHAT", "ana@example.com")
	pretty := "{\n  \"ContactId\": \"a\",\n  \"Channel\": \"VOICE\"\n}\n"
	for _, tt := range []struct {
		name, body string
		want       []string
		err        string
	}{
		{name: "one record", body: a, want: []string{a}},
		{name: "pretty-printed", body: pretty, want: []string{`{"ContactId":"a","Channel":"VOICE"}`}},
		{name: "array", body: "[" + a + ",\n " + b + "]", want: []string{a, b}},
		{name: "array with a non-object", body: `[` + a + `,"oops",42]`, want: []string{a, `"oops"`, "42"}},
		{name: "JSON Lines", body: a + "\n\n" + b + "\n", want: []string{a, b}},
		{name: "JSON Lines with a malformed line", body: a + "\n{\"ContactId\": \"x\",\n" + b, want: []string{a, `{"ContactId": "x",`, b}},
		{name: "one malformed record", body: "{\"ContactId\": \"x\",\n\"Channel\": VOICE}", want: []string{"{\"ContactId\": \"x\",\n\"Channel\": VOICE}"}},
		{name: "pretty-printed malformed record with a line of JSON", body: "{\n  \"ContactId\": \"x\"\n  \"Channel\": \"VOICE\",\n  \"MediaStreams\":\n  {\"Type\": \"AUDIO\"}\n}",
			want: []string{"{\n  \"ContactId\": \"x\"\n  \"Channel\": \"VOICE\",\n  \"MediaStreams\":\n  {\"Type\": \"AUDIO\"}\n}"}},
		{name: "JSON Lines, the second malformed", body: a + "\n{\"ContactId\": \"x\",", want: []string{a, `{"ContactId": "x",`}},
		{name: "JSON Lines, the first malformed", body: "{\"ContactId\": \"x\",\n" + a, want: []string{`{"ContactId": "x",`, a}},
		{name: "not JSON", body: "hello", want: []string{"hello"}},
		{name: "stray brace", body: a + "}", want: []string{a + "}"}},
		{name: "empty", body: " \n", err: "no contact record"},
		{name: "empty array", body: "[]", err: "no contact record"},
		{name: "broken array", body: "[" + a, err: "not a JSON array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := connect.Split([]byte(tt.body))
			if tt.err != "" {
				if profiles.ErrorCode(err) != profiles.EINVALID || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want EINVALID mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObjectType(t *testing.T) {
	for _, tt := range []struct {
		integ profiles.Integration
		want  string
	}{
		{profiles.Integration{ObjectTypeName: "MyCTR"}, "MyCTR"},
		{profiles.Integration{ObjectTypeNames: map[string]string{"other": "B", "CTR": "Contacts"}}, "Contacts"},
		{profiles.Integration{ObjectTypeNames: map[string]string{"z": "Z", "a": "A"}}, "A"},
		{profiles.Integration{}, "CTR"},
	} {
		if got := connect.ObjectType(&tt.integ); got != tt.want {
			t.Errorf("ObjectType(%+v) = %q, want %q", tt.integ, got, tt.want)
		}
	}
}

func TestAccept(t *testing.T) {
	integ, ingest := newFakeIntegrations("sales"), newFakeIngest()
	integ.associate("sales", profiles.Integration{ObjectTypeName: "CTR"})
	in := &connect.Intake{Integrations: integ, Ingest: ingest}
	body := strings.Join([]string{
		record("c1", "VOICE", "+12065550100"),
		`{"ContactId": "broken"`,
		record("c2", "CHAT", "ana@example.com"),
		`{"Channel":"VOICE"}`,
	}, "\n")
	res, err := in.Accept(t.Context(), instanceID, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &connect.Result{Accepted: 2, Failed: 2, Records: []connect.RecordResult{
		{Index: 0, ContactId: "c1", ProfileObjectUniqueKey: "ctr-c1"},
		{Index: 1, ErrorCode: profiles.ReasonInvalidObject, Message: "The object must be a JSON object: unexpected end of JSON input"},
		{Index: 2, ContactId: "c2", ProfileObjectUniqueKey: "ctr-c2"},
		{Index: 3, ErrorCode: profiles.ReasonKeyMissing, Message: profiles.MsgKeyMissing},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if got, want := ingest.calls, slices.Repeat([]string{"sales CTR contact"}, 4); !slices.Equal(got, want) {
		t.Errorf("IngestAsync calls = %q, want %q", got, want)
	}
	// The malformed record went as it was, to be dead-lettered (records of
	// one body are ingested concurrently: in any order).
	if got, want := slices.Sorted(slices.Values(ingest.deadLetters)), []string{`INVALID_OBJECT {"ContactId": "broken"`, `KEY_MISSING {"Channel":"VOICE"}`}; !slices.Equal(got, want) {
		t.Errorf("dead letters = %q, want %q", got, want)
	}

	// The same ContactId again updates the record.
	again := strings.Replace(record("c1", "VOICE", "+12065550100"), "VOICE", "CHAT", 1)
	res, err = in.Accept(t.Context(), instanceID, []byte(again))
	if err != nil || res.Accepted != 1 || res.Records[0].ProfileObjectUniqueKey != "ctr-c1" {
		t.Fatalf("resend = %+v, %v; want accepted as ctr-c1", res, err)
	}
	if len(ingest.objects) != 2 || ingest.objects["ctr-c1"] != again {
		t.Errorf("objects = %v, want c1 replaced", ingest.objects)
	}
}

// TestAccept_OtherInstance: a record whose InstanceARN names another
// instance, associated with another domain, than the one it is sent for
// (a stream of several instances' records sent to one address) is refused
// and not ingested, nor kept in this domain's dead-letter queue: it is the
// other domain's customer. The ARN's region and account do not matter, its
// instance id does. A record naming an instance associated with no domain
// (its instance re-created with a new id, the stream now sent for the new
// one), with this domain, or no instance at all, or without InstanceARN
// goes in, as it did before instances were compared.
func TestAccept_OtherInstance(t *testing.T) {
	integ, ingest := newFakeIntegrations("sales", "support"), newFakeIngest()
	integ.associate("sales", profiles.Integration{ObjectTypeName: "CTR"})
	other := "arn:aws:connect:us-east-1:000000000000:instance/99999999-2222-3333-4444-555555555555"
	integ.byURI[other] = &profiles.Integration{DomainName: "support", URI: other, ObjectTypeName: "CTR"}
	sibling := "arn:aws:connect:us-east-1:000000000000:instance/88888888-2222-3333-4444-555555555555"
	integ.byURI[sibling] = &profiles.Integration{DomainName: "sales", URI: sibling, ObjectTypeName: "CTR"}
	retired := "arn:aws:connect:us-east-1:000000000000:instance/77777777-2222-3333-4444-555555555555"
	in := &connect.Intake{Integrations: integ, Ingest: ingest}
	sameElsewhere := strings.Replace(strings.Replace(instanceARN, "us-east-1", "eu-west-3", 1), "000000000000", "123456789012", 1)
	theirsElsewhere := strings.Replace(other, "us-east-1", "eu-west-3", 1)
	body := strings.Join([]string{
		record("own", "VOICE", "+12065550100"),
		strings.Replace(record("theirs", "VOICE", "+12065550111"), instanceARN, other, 1),
		strings.Replace(record("elsewhere", "VOICE", "+12065550122"), instanceARN, sameElsewhere, 1),
		strings.Replace(record("none", "VOICE", "+12065550133"), `"InstanceARN":"`+instanceARN+`",`, "", 1),
		strings.Replace(record("garbage", "VOICE", "+12065550144"), instanceARN, "instance-1", 1),
		strings.Replace(record("retired", "VOICE", "+12065550155"), instanceARN, retired, 1),
		strings.Replace(record("sibling", "VOICE", "+12065550166"), instanceARN, sibling, 1),
		strings.Replace(record("theirs-elsewhere", "VOICE", "+12065550177"), instanceARN, theirsElsewhere, 1),
	}, "\n")
	res, err := in.Accept(t.Context(), instanceID, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 6 || res.Failed != 2 {
		t.Fatalf("result %+v, want 6 accepted and 2 failed", res)
	}
	for _, r := range res.Records {
		refused := r.ContactId == "theirs" || r.ContactId == "theirs-elsewhere"
		if got := r.ErrorCode != ""; got != refused {
			t.Errorf("record %s: %+v, refused = %v, want %v", r.ContactId, r, got, refused)
		}
		if refused && (r.ErrorCode != "INVALID" || !strings.Contains(r.Message, "InstanceARN") || !strings.Contains(r.Message, instanceID) || strings.Contains(r.Message, "support")) {
			t.Errorf("record %s: %s %q, want INVALID naming InstanceARN and %s, not the other domain", r.ContactId, r.ErrorCode, r.Message, instanceID)
		}
	}
	if _, ok := ingest.objects["ctr-theirs"]; ok || len(ingest.deadLetters) != 0 || len(ingest.calls) != 6 {
		t.Errorf("objects %v, dead letters %q, %d calls: want the other domain's records neither ingested nor dead-lettered", ingest.objects, ingest.deadLetters, len(ingest.calls))
	}
	for _, c := range ingest.calls {
		if c != "sales CTR contact" {
			t.Errorf("call %q, want every record ingested into sales", c)
		}
	}
}

func TestAccept_NoAssociation(t *testing.T) {
	ingest := newFakeIngest()
	in := &connect.Intake{Integrations: newFakeIntegrations("sales"), Ingest: ingest}
	res, err := in.Accept(t.Context(), instanceID, []byte(record("c1", "VOICE", "+12065550100")))
	if res != nil || profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("Accept = %v, %v; want EINVALID", res, err)
	}
	for _, w := range []string{instanceID, "associated with no", "nothing was ingested"} {
		if !strings.Contains(profiles.ErrorMessage(err), w) {
			t.Errorf("message %q does not mention %q", profiles.ErrorMessage(err), w)
		}
	}
	if len(ingest.calls) != 0 {
		t.Errorf("IngestAsync called %d times", len(ingest.calls))
	}
}

func TestAccept_DomainGone(t *testing.T) {
	integ, ingest := newFakeIntegrations("sales"), newFakeIngest()
	integ.associate("sales", profiles.Integration{ObjectTypeNames: map[string]string{"CTR": "Contacts"}})
	ingest.fail = profiles.Errorf(profiles.ENOTFOUND, "Domain sales not found.")
	in := &connect.Intake{Integrations: integ, Ingest: ingest}
	var records []string
	for i := range 300 {
		records = append(records, record(fmt.Sprintf("c%d", i), "VOICE", "+1"))
	}
	_, err := in.Accept(t.Context(), instanceID, []byte(strings.Join(records, "\n")))
	if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("err = %v, want ENOTFOUND", err)
	}
	// Records are ingested up to 64 at once; once one has failed so, no
	// further record is taken: each of the 64 workers fails at its first.
	if n := len(ingest.calls); n < 1 || n > 64 || ingest.calls[0] != "sales Contacts contact" {
		t.Errorf("calls = %d (%q…), want 1 to 64 (stop after the first failure)", n, ingest.calls[0])
	}
}

// barrierIngest answers no record until n are being ingested at once, and
// remembers the most it saw at once. Should they never all arrive (records
// ingested one by one), the first to wait gives up after 30 s and lets every
// record through, for the test to fail on most rather than hang.
type barrierIngest struct {
	*fakeIngest
	n        int
	mu       sync.Mutex
	now      int
	most     int
	arrived  chan struct{} // closed (once: released) when they are
	released bool
}

func (b *barrierIngest) IngestAsync(ctx context.Context, domain, objectType, obj, source string) (string, error) {
	b.mu.Lock()
	b.now++
	b.most = max(b.most, b.now)
	if b.now == b.n {
		b.release()
	}
	b.mu.Unlock()
	select {
	case <-b.arrived:
	case <-time.After(30 * time.Second):
		b.mu.Lock()
		b.release()
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.now--
	b.mu.Unlock()
	return b.fakeIngest.IngestAsync(ctx, domain, objectType, obj, source)
}

// release lets every record through; b.mu is held.
func (b *barrierIngest) release() {
	if !b.released {
		b.released = true
		close(b.arrived)
	}
}

// TestAccept_RecordsAtOnce: the records of one body are ingested
// concurrently (so that they share the store's group commits), and each is
// answered in the body's order.
func TestAccept_RecordsAtOnce(t *testing.T) {
	integ := newFakeIntegrations("sales")
	integ.associate("sales", profiles.Integration{})
	ingest := &barrierIngest{fakeIngest: newFakeIngest(), n: 16, arrived: make(chan struct{})}
	in := &connect.Intake{Integrations: integ, Ingest: ingest}
	var records []string
	for i := range 16 {
		records = append(records, record(fmt.Sprintf("c%d", i), "VOICE", "+1"))
	}
	res, err := in.Accept(t.Context(), instanceID, []byte(strings.Join(records, "\n")))
	if err != nil || res.Accepted != 16 {
		t.Fatalf("Accept = %+v, %v; want 16 accepted", res, err)
	}
	if ingest.most != 16 {
		t.Errorf("at most %d records ingested at once, want all 16", ingest.most)
	}
	for i, r := range res.Records {
		if r.Index != i || r.ContactId != fmt.Sprintf("c%d", i) || r.ProfileObjectUniqueKey != fmt.Sprintf("ctr-c%d", i) {
			t.Errorf("record %d answered as %+v", i, r)
		}
	}
}
