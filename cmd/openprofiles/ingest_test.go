package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles/awssqs"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/dlqtest"
	"github.com/openprofiles/profiles/internal/fauxqs"
	"github.com/openprofiles/profiles/service"
)

// ingestEnv is a running server with one domain.
type ingestEnv struct {
	t      *testing.T
	m      *main.Main
	client *customerprofiles.Client
	domain string
}

func newIngestEnv(t *testing.T, edit ...func(*main.Config)) *ingestEnv {
	t.Helper()
	return newDomainEnv(t, "ingest", edit...)
}

// newDomainEnv is newIngestEnv with a domain of that name.
func newDomainEnv(t *testing.T, domain string, edit ...func(*main.Config)) *ingestEnv {
	t.Helper()
	m := MustRunMain(t, edit...)
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: domain}
	if _, err := e.client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// dlqEnv is an ingestEnv whose domain sends its dead letters to a queue
// (with object type "contact" unless dlqNoType), and the real SQS client
// of that queue.
type dlqEnv struct {
	*ingestEnv
	q         *sqs.Client
	url       string   // the queue's URL
	queueName string   // the queue's name
	kind      string   // "built-in", "fauxqs" or "fauxqs-sampled"
	sqsFlags  []string // what `openprofiles dlq` needs to reach the queue
	key       string   // with dlqKey, the domain's KMS key
	noType    bool
	sampling  *fauxqs.Sampling // of kind "fauxqs-sampled"
}

// dlqSetup is what the options of newDLQEnv change.
type dlqSetup struct {
	edit        []func(*main.Config)
	key, noType bool
}

type dlqOption func(*dlqSetup)

// dlqConfig edits the server's config.
func dlqConfig(edit func(*main.Config)) dlqOption {
	return func(s *dlqSetup) { s.edit = append(s.edit, edit) }
}

// dlqKey encrypts the domain with a new key of the built-in KMS that the
// service may use (dlqEnv.key).
func dlqKey(s *dlqSetup) { s.key = true }

// dlqNoType leaves the domain without an object type.
func dlqNoType(s *dlqSetup) { s.noType = true }

// setAWSEnv sets the standard AWS credentials of the test's key and no
// config files, as `openprofiles` and the server's clients of external
// services read them.
func setAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_REGION", testRegion)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// newDLQEnv starts a server whose dead-letter queues are of kind "built-in"
// (its own), "fauxqs" (an external SQS-compatible server) or
// "fauxqs-sampled" (fauxqs answering short polls as SQS may:
// fauxqs.StartSampling), creates the
// queue queueName there with a policy that lets the service send to it,
// and a domain that sends its dead letters to it.
func newDLQEnv(t *testing.T, kind, domain, queueName string, opts ...dlqOption) *dlqEnv {
	t.Helper()
	var s dlqSetup
	for _, o := range opts {
		o(&s)
	}
	setAWSEnv(t)
	d := &dlqEnv{queueName: queueName, kind: kind, noType: s.noType}
	var m *main.Main
	switch kind {
	case "fauxqs":
		endpoint := fauxqs.Start(t)
		m = MustRunMain(t, append(s.edit, func(c *main.Config) { c.SQSEndpoint = endpoint })...)
		d.q = awssqs.New(endpoint, fauxqs.Region, credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")).Client
		d.sqsFlags = []string{"--sqs-endpoint", endpoint}
	case "fauxqs-sampled":
		// The server and `openprofiles dlq` reach fauxqs through a proxy
		// that answers every other short poll empty, as SQS may; the
		// test's client reaches it directly.
		endpoint, sampling := fauxqs.StartSampling(t)
		m = MustRunMain(t, append(s.edit, func(c *main.Config) { c.SQSEndpoint = endpoint })...)
		d.q = awssqs.New(sampling.Direct, fauxqs.Region, credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")).Client
		d.sqsFlags = []string{"--sqs-endpoint", endpoint}
		d.sampling = sampling
	case "built-in":
		m = MustRunMain(t, s.edit...)
		d.q = MustSQSClient(t, m.URL())
	default:
		t.Fatalf("queue kind %q", kind)
	}
	d.ingestEnv = &ingestEnv{t: t, m: m, client: MustClient(t, m)}
	d.url = d.mustQueue(queueName)
	if s.key {
		d.key = mustServiceKey(t, m)
	}
	d.createDomain(domain, d.url)
	return d
}

// mustQueue creates a queue the service may send dead letters to.
func (d *dlqEnv) mustQueue(name string) string {
	d.t.Helper()
	if d.kind == "fauxqs" || d.kind == "fauxqs-sampled" {
		return mustQueue(d.t, d.q, name, dlqtest.Policy(dlqtest.ServiceStatement("*", "000000000000", dlqtest.DomainARN(testRegion, "000000000000", "*"))))
	}
	return mustQueue(d.t, d.q, name, queuePolicy(name))
}

// createDomain creates the domain (with d's key) that sends its dead letters
// to url, and its object type.
func (d *dlqEnv) createDomain(name, url string) {
	d.t.Helper()
	in := &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(30), DeadLetterQueueUrl: aws.String(url)}
	if d.key != "" {
		in.DefaultEncryptionKey = aws.String(d.key)
	}
	if _, err := d.client.CreateDomain(d.t.Context(), in); err != nil {
		d.t.Fatal(err)
	}
	e := *d.ingestEnv
	e.domain = name
	d.ingestEnv = &e
	if !d.noType {
		d.putType(contactType("contact"))
	}
}

// addDomain creates another domain on d's server, set up as d's, whose
// dead letters go to the queue queueName (d's, or one it creates).
func (d *dlqEnv) addDomain(name, queueName string) *dlqEnv {
	d.t.Helper()
	o := *d
	if queueName != d.queueName {
		o.url, o.queueName = d.mustQueue(queueName), queueName
	}
	o.createDomain(name, o.url)
	return &o
}

// dlqArgs returns the arguments of `openprofiles dlq verb` for d's domain
// and queue.
func (d *dlqEnv) dlqArgs(verb string) []string {
	return append([]string{verb, "--endpoint", d.m.URL(), "--domain", d.domain}, d.sqsFlags...)
}

// send sends dead letters to d's queue.
func (d *dlqEnv) send(letters ...service.DeadLetter) {
	d.t.Helper()
	for _, l := range letters {
		b, _ := json.Marshal(l)
		d.sendBody(string(b))
	}
}

// sendNumbered sends n letters of d's domain whose contacts have ids 0 to
// n-1 and emails <prefix><id>@example.com.
func (d *dlqEnv) sendNumbered(n int, prefix string) {
	d.t.Helper()
	for i := range n {
		d.send(service.DeadLetter{Version: 1, DomainName: d.domain, ObjectTypeName: "contact", ErrorCode: "INTERNAL",
			Object: fmt.Sprintf(`{"id":"%d","email":"%s%d@example.com"}`, i, prefix, i), Attempts: 1})
	}
}

// sendBody sends messages of any body to d's queue.
func (d *dlqEnv) sendBody(bodies ...string) {
	d.t.Helper()
	for _, body := range bodies {
		if _, err := d.q.SendMessage(d.t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(d.url), MessageBody: aws.String(body)}); err != nil {
			d.t.Fatal(err)
		}
	}
}

// letters receives every message of d's queue as a dead letter (hiding
// them for a minute).
func (d *dlqEnv) letters() []service.DeadLetter {
	d.t.Helper()
	return deadLetters(d.t, d.q, d.url)
}

// bodies receives every message of d's queue (hiding them for a minute).
func (d *dlqEnv) bodies() []string {
	d.t.Helper()
	return receiveAll(d.t, d.q, d.url)
}

// depth returns the approximate numbers of visible and hidden messages of
// d's queue.
func (d *dlqEnv) depth() (visible, hidden string) {
	d.t.Helper()
	attrs, err := d.q.GetQueueAttributes(d.t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(d.url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		d.t.Fatal(err)
	}
	return attrs.Attributes["ApproximateNumberOfMessages"], attrs.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

func field(source, target, ct string) types.ObjectTypeField {
	f := types.ObjectTypeField{Source: aws.String(source), ContentType: types.FieldContentType(ct)}
	if target != "" {
		f.Target = aws.String(target)
	}
	return f
}

func key(fields []string, ids ...types.StandardIdentifier) []types.ObjectTypeKey {
	return []types.ObjectTypeKey{{StandardIdentifiers: ids, FieldNames: fields}}
}

// contactType maps a CRM-like contact: id (UNIQUE), email (PROFILE), phone
// (PROFILE SECONDARY), names and city into the profile.
func contactType(name string) *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName:       aws.String(name),
		Description:          aws.String("CRM contacts"),
		AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":                          field("_source.id", "", "STRING"),
			"email":                       field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"phone":                       field("_source.phone", "_profile.PhoneNumber", "PHONE_NUMBER"),
			"first":                       field("_source.name.first", "_profile.FirstName", "NAME"),
			"last":                        field("_source.name.last", "_profile.LastName", "NAME"),
			"city":                        field("_source.address.city", "_profile.Address.City", "STRING"),
			"tier":                        field("_source.tier", "_profile.Attributes.tier", "STRING"),
			"_sourceLastUpdatedTimestamp": field("_source.updated", "", "STRING"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"contactId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":    key([]string{"email"}, types.StandardIdentifierProfile),
			"_phone":    key([]string{"phone"}, types.StandardIdentifierProfile, types.StandardIdentifierSecondary),
		},
	}
}

func (e *ingestEnv) putType(in *customerprofiles.PutProfileObjectTypeInput) {
	e.t.Helper()
	in.DomainName = aws.String(e.domain)
	if _, err := e.client.PutProfileObjectType(e.t.Context(), in); err != nil {
		e.t.Fatalf("PutProfileObjectType %s: %v", aws.ToString(in.ObjectTypeName), err)
	}
}

func (e *ingestEnv) put(objectType string, obj any) (string, error) {
	e.t.Helper()
	b, _ := json.Marshal(obj)
	out, err := e.client.PutProfileObject(e.t.Context(), &customerprofiles.PutProfileObjectInput{
		DomainName: aws.String(e.domain), ObjectTypeName: aws.String(objectType), Object: aws.String(string(b)),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ProfileObjectUniqueKey), nil
}

func (e *ingestEnv) mustPut(objectType string, obj any) string {
	e.t.Helper()
	k, err := e.put(objectType, obj)
	if err != nil {
		e.t.Fatalf("PutProfileObject %s %v: %v", objectType, obj, err)
	}
	return k
}

// search returns the profiles found by one key.
func (e *ingestEnv) search(keyName string, values ...string) []types.Profile {
	e.t.Helper()
	out, err := e.client.SearchProfiles(e.t.Context(), &customerprofiles.SearchProfilesInput{
		DomainName: aws.String(e.domain), KeyName: aws.String(keyName), Values: values, MaxResults: aws.Int32(100),
	})
	if err != nil {
		e.t.Fatalf("SearchProfiles %s=%v: %v", keyName, values, err)
	}
	return out.Items
}

// mustOne returns the one profile found by a key.
func (e *ingestEnv) mustOne(keyName string, values ...string) types.Profile {
	e.t.Helper()
	ps := e.search(keyName, values...)
	if len(ps) != 1 {
		e.t.Fatalf("SearchProfiles %s=%v found %d profiles, want 1", keyName, values, len(ps))
	}
	return ps[0]
}

func (e *ingestEnv) objects(objectType, profileID string) []types.ListProfileObjectsItem {
	e.t.Helper()
	out, err := e.client.ListProfileObjects(e.t.Context(), &customerprofiles.ListProfileObjectsInput{
		DomainName: aws.String(e.domain), ObjectTypeName: aws.String(objectType), ProfileId: aws.String(profileID), MaxResults: aws.Int32(100),
	})
	if err != nil {
		e.t.Fatalf("ListProfileObjects: %v", err)
	}
	return out.Items
}

func wantAPIError(t *testing.T, err error, code string, words ...string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err=%v, want %s", err, code)
	}
	for _, w := range words {
		if !strings.Contains(ae.ErrorMessage(), w) {
			t.Errorf("message %q does not contain %q", ae.ErrorMessage(), w)
		}
	}
}

func TestIngest_ProfileResolution(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))

	k1 := e.mustPut("contact", map[string]any{"id": "c1", "email": "Ann@Example.com", "phone": "+1 (555) 123-4567", "name": map[string]any{"first": "Ann", "last": "Lee"}, "address": map[string]any{"city": "Lyon"}, "tier": "gold"})
	p := e.mustOne("_email", "ann@example.com")
	if got, want := aws.ToString(p.FirstName), "Ann"; got != want {
		t.Errorf("FirstName=%q, want %q", got, want)
	}
	if p.Address == nil || aws.ToString(p.Address.City) != "Lyon" || p.Attributes["tier"] != "gold" {
		t.Errorf("address/attributes not mapped: %+v %+v", p.Address, p.Attributes)
	}
	id := aws.ToString(p.ProfileId)
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Errorf("ProfileId %q is not 32 lower-case hex characters", id)
	}

	t.Run("UniqueKeyUpdatesTheObject", func(t *testing.T) {
		k2 := e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "tier": "platinum"})
		if k2 != k1 {
			t.Fatalf("same UNIQUE value gave key %q, then %q", k1, k2)
		}
		objs := e.objects("contact", id)
		if len(objs) != 1 || !strings.Contains(aws.ToString(objs[0].Object), "platinum") {
			t.Fatalf("objects=%v, want the one updated object", objs)
		}
	})
	t.Run("ProfileKeyFindsTheProfile", func(t *testing.T) {
		e.mustPut("contact", map[string]any{"id": "c2", "email": "ANN@example.com "})
		if got := len(e.objects("contact", id)); got != 2 {
			t.Fatalf("profile has %d objects, want 2", got)
		}
	})
	t.Run("SecondaryKeyIsTriedAfterProfileKeys", func(t *testing.T) {
		// No email: the phone (SECONDARY), written differently, finds Ann.
		e.mustPut("contact", map[string]any{"id": "c3", "phone": "15551234567"})
		if got := len(e.objects("contact", id)); got != 3 {
			t.Fatalf("profile has %d objects, want 3", got)
		}
		// An unknown email and a known phone: the email finds nothing, so
		// the phone decides.
		e.mustPut("contact", map[string]any{"id": "c4", "email": "other@example.com", "phone": "555.123.4567"})
		if got := len(e.objects("contact", id)); got != 4 {
			t.Fatalf("profile has %d objects, want 4", got)
		}
	})
	t.Run("NewKeysCreateAProfile", func(t *testing.T) {
		e.mustPut("contact", map[string]any{"id": "c5", "email": "bob@example.com", "name": map[string]any{"first": "Bob"}})
		bob := e.mustOne("_email", "BOB@example.com")
		if aws.ToString(bob.ProfileId) == id {
			t.Fatal("a new email attached to the existing profile")
		}
	})
	t.Run("FoundByItems", func(t *testing.T) {
		p := e.mustOne("_email", "ann@example.com")
		if len(p.FoundByItems) != 1 || aws.ToString(p.FoundByItems[0].KeyName) != "_email" {
			t.Fatalf("FoundByItems=%+v", p.FoundByItems)
		}
	})
}

func TestIngest_Identifiers(t *testing.T) {
	e := newIngestEnv(t)
	// The brief's ticket example: _email PROFILE+LOOKUP_ONLY, ticketEmail
	// PROFILE+SECONDARY+NEW_ONLY on the same field, uniqueTicket UNIQUE.
	e.putType(&customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("ticket"), Description: aws.String("tickets"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":    field("_source.id", "", "STRING"),
			"email": field("_source.email", "", "EMAIL_ADDRESS"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"uniqueTicket": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":       key([]string{"email"}, types.StandardIdentifierProfile, types.StandardIdentifierLookupOnly),
			"ticketEmail":  key([]string{"email"}, types.StandardIdentifierProfile, types.StandardIdentifierSecondary, types.StandardIdentifierNewOnly),
		},
	})
	e.putType(contactType("contact"))

	t.Run("LookupOnlyIsNotStored", func(t *testing.T) {
		e.mustPut("ticket", map[string]any{"id": "t1", "email": "new@example.com"})
		// The ticket created an inferred profile with the email copied in.
		if got := e.search("_email", "new@example.com"); len(got) != 1 || aws.ToString(got[0].EmailAddress) != "new@example.com" {
			t.Fatalf("inferred profile not found by its standard _email key: %+v", got)
		}
		p := e.mustOne("ticketEmail", "new@example.com")
		objs, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{
			DomainName: aws.String(e.domain), ObjectTypeName: aws.String("ticket"), ProfileId: p.ProfileId,
			ObjectFilter: &types.ObjectFilter{KeyName: aws.String("_email"), Values: []string{"new@example.com"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs.Items) != 0 {
			t.Fatalf("the LOOKUP_ONLY key _email was stored with the object")
		}
	})
	t.Run("NewOnlyOnlyOnCreatedProfiles", func(t *testing.T) {
		e.mustPut("contact", map[string]any{"id": "c1", "email": "known@example.com"})
		known := e.mustOne("_email", "known@example.com")
		// The ticket finds the known profile through _email: ticketEmail is not added.
		e.mustPut("ticket", map[string]any{"id": "t2", "email": "known@example.com"})
		if got := len(e.objects("ticket", aws.ToString(known.ProfileId))); got != 1 {
			t.Fatalf("known profile has %d tickets, want 1", got)
		}
		if got := e.search("ticketEmail", "known@example.com"); len(got) != 0 {
			t.Fatalf("NEW_ONLY key stored on a profile the object did not create: %d found", len(got))
		}
	})
	t.Run("AmbiguousLookupKeyFallsBackToSecondary", func(t *testing.T) {
		// Two profiles share an email through the contact type (different ids)...
		e.putType(&customerprofiles.PutProfileObjectTypeInput{
			ObjectTypeName: aws.String("lead"), Description: aws.String("leads"), AllowProfileCreation: true,
			Fields: map[string]types.ObjectTypeField{"id": field("_source.id", "", "STRING"), "email": field("_source.email", "", "EMAIL_ADDRESS")},
			Keys: map[string][]types.ObjectTypeKey{
				"leadId": key([]string{"id"}, types.StandardIdentifierUnique, types.StandardIdentifierProfile),
				"_email": key([]string{"email"}, types.StandardIdentifierProfile, types.StandardIdentifierSecondary),
			},
		})
		e.mustPut("lead", map[string]any{"id": "l1", "email": "shared@example.com"})
		e.mustPut("lead", map[string]any{"id": "l2"})
		e.mustPut("lead", map[string]any{"id": "l2", "email": "shared@example.com"}) // same object, now with the email
		if got := len(e.search("_email", "shared@example.com")); got != 2 {
			t.Fatalf("%d profiles hold the shared email, want 2", got)
		}
		// ...so _email is ambiguous: the ticket creates a new inferred profile
		// keyed by ticketEmail, and the next ticket from that address goes there.
		e.mustPut("ticket", map[string]any{"id": "t3", "email": "shared@example.com"})
		p := e.mustOne("ticketEmail", "shared@example.com")
		e.mustPut("ticket", map[string]any{"id": "t4", "email": "shared@example.com"})
		if got := len(e.objects("ticket", aws.ToString(p.ProfileId))); got != 2 {
			t.Fatalf("ticket profile has %d tickets, want 2", got)
		}
	})
}

func TestIngest_Errors(t *testing.T) {
	e := newIngestEnv(t, func(c *main.Config) { c.IngestRate, c.IngestBurst = 1, 3 })
	e.putType(contactType("contact"))
	noCreate := contactType("nocreate")
	noCreate.AllowProfileCreation = false
	e.putType(noCreate)

	t.Run("UniqueKeyMissing", func(t *testing.T) {
		_, err := e.put("contact", map[string]any{"email": "x@example.com"})
		wantAPIError(t, err, "BadRequestException", "The UNIQUE key or PROFILE key doesn't exist in the profile object")
	})
	t.Run("ProfileKeyMissing", func(t *testing.T) {
		_, err := e.put("contact", map[string]any{"id": "nokeys"})
		wantAPIError(t, err, "BadRequestException", "The UNIQUE key or PROFILE key doesn't exist in the profile object")
	})
	t.Run("NotAnObject", func(t *testing.T) {
		_, err := e.client.PutProfileObject(t.Context(), &customerprofiles.PutProfileObjectInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), Object: aws.String(`["a"]`)})
		wantAPIError(t, err, "BadRequestException", "JSON object")
	})
	t.Run("TooLarge", func(t *testing.T) {
		// 200,000 characters pass the model's length check, but 400,000 bytes do not pass ours.
		_, err := e.put("contact", map[string]any{"id": "big", "email": "big@example.com", "tier": strings.Repeat("é", 200_000)})
		wantAPIError(t, err, "BadRequestException", "Your data contains a profile object larger than 256000 bytes")
	})
	t.Run("NoProfileAndNoCreation", func(t *testing.T) {
		_, err := e.put("nocreate", map[string]any{"id": "n1", "email": "nobody@example.com"})
		wantAPIError(t, err, "BadRequestException", "does not allow profile creation")
	})
	t.Run("UnknownObjectType", func(t *testing.T) {
		_, err := e.put("nope", map[string]any{"id": "n1"})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "nope") {
			t.Fatalf("err=%v, want ResourceNotFoundException naming the type", err)
		}
	})
	t.Run("AllKeysLinkedToMultipleProfiles", func(t *testing.T) {
		e.mustPut("contact", map[string]any{"id": "a1", "email": "a@example.com"})
		e.mustPut("contact", map[string]any{"id": "b1", "email": "b@example.com"})
		// A phone held by both profiles.
		e.mustPut("contact", map[string]any{"id": "a2", "email": "a@example.com", "phone": "+33 1 23 45 67 89"})
		e.mustPut("contact", map[string]any{"id": "b2", "email": "b@example.com", "phone": "0033123456789"})
		_, err := e.put("contact", map[string]any{"id": "z1", "phone": "+33123456789"})
		wantAPIError(t, err, "BadRequestException", "All the keys in this object are linked to multiple profiles")
	})
	t.Run("RateExceeded", func(t *testing.T) {
		var err error
		for i := range 10 {
			if _, err = e.put("contact", map[string]any{"id": fmt.Sprintf("r%d", i), "email": "rate@example.com"}); err != nil {
				break
			}
		}
		wantAPIError(t, err, "ThrottlingException", "Too many objects ingested to the profile per second")
	})
}

func TestIngest_SourceLastUpdated(t *testing.T) {
	e := newIngestEnv(t)
	ct := contactType("contact")
	e.putType(ct)
	e.mustPut("contact", map[string]any{"id": "c1", "email": "s@example.com", "name": map[string]any{"first": "New"}, "updated": "2024-06-02T00:00:00Z"})
	e.mustPut("contact", map[string]any{"id": "c2", "email": "s@example.com", "name": map[string]any{"first": "Old"}, "updated": "2024-06-01T00:00:00Z"})
	if got := aws.ToString(e.mustOne("_email", "s@example.com").FirstName); got != "New" {
		t.Fatalf("FirstName=%q: an older object overwrote a newer value", got)
	}
	e.mustPut("contact", map[string]any{"id": "c3", "email": "s@example.com", "name": map[string]any{"first": "Newest"}, "updated": "2024-06-03T00:00:00Z"})
	p := e.mustOne("_email", "s@example.com")
	if got := aws.ToString(p.FirstName); got != "Newest" {
		t.Fatalf("FirstName=%q, want Newest", got)
	}
	// An older version of the same object is ignored entirely.
	e.mustPut("contact", map[string]any{"id": "c3", "email": "s@example.com", "name": map[string]any{"first": "Stale"}, "updated": "2024-05-01T00:00:00Z"})
	objs := e.objects("contact", aws.ToString(p.ProfileId))
	for _, o := range objs {
		if strings.Contains(aws.ToString(o.Object), "Stale") {
			t.Fatalf("a stale version replaced object c3")
		}
	}
}

func TestIngest_Concurrency(t *testing.T) {
	e := newIngestEnv(t, func(c *main.Config) { c.IngestRate = 0 })
	e.putType(contactType("contact"))
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.put("contact", map[string]any{"id": fmt.Sprintf("c%02d", i), "email": "same@example.com"}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("put: %v", err)
	}
	p := e.mustOne("_email", "same@example.com")
	if got := len(e.objects("contact", aws.ToString(p.ProfileId))); got != n {
		t.Fatalf("profile holds %d objects, want %d", got, n)
	}
	d, err := e.client.GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Stats.ProfileCount != 1 || d.Stats.ObjectCount != n {
		t.Fatalf("stats %+v, want 1 profile and %d objects", d.Stats, n)
	}
}

func TestIngest_ObjectsAndQuotas(t *testing.T) {
	e := newIngestEnv(t, func(c *main.Config) { c.IngestRate = 0 })
	ct := contactType("contact")
	e.putType(ct)
	capped := contactType("capped")
	capped.MaxProfileObjectCount = aws.Int32(2)
	e.putType(capped)

	var keys []string
	for i := range 5 {
		keys = append(keys, e.mustPut("contact", map[string]any{"id": fmt.Sprintf("c%d", i), "email": "o@example.com", "phone": fmt.Sprintf("+1555000000%d", i)}))
		time.Sleep(2 * time.Millisecond) // distinct update times, which order the objects listed
	}
	p := e.mustOne("_email", "o@example.com")
	pid := aws.ToString(p.ProfileId)

	t.Run("NewestFirstWithPaging", func(t *testing.T) {
		var got []string
		var token *string
		for {
			out, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{
				DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), ProfileId: aws.String(pid), MaxResults: aws.Int32(2), NextToken: token,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Items {
				got = append(got, aws.ToString(o.ProfileObjectUniqueKey))
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		want := slices.Clone(keys)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Fatalf("objects %v, want newest first %v", got, want)
		}
	})
	t.Run("ObjectFilter", func(t *testing.T) {
		out, err := e.client.ListProfileObjects(t.Context(), &customerprofiles.ListProfileObjectsInput{
			DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), ProfileId: aws.String(pid),
			ObjectFilter: &types.ObjectFilter{KeyName: aws.String("_phone"), Values: []string{"(555) 000-0003"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != 1 || aws.ToString(out.Items[0].ProfileObjectUniqueKey) != keys[3] {
			t.Fatalf("filtered objects %+v, want only c3", out.Items)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if _, err := e.client.DeleteProfileObject(t.Context(), &customerprofiles.DeleteProfileObjectInput{
			DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), ProfileId: aws.String(pid), ProfileObjectUniqueKey: aws.String(keys[0]),
		}); err != nil {
			t.Fatal(err)
		}
		if got := len(e.objects("contact", pid)); got != 4 {
			t.Fatalf("%d objects after delete, want 4", got)
		}
		_, err := e.client.DeleteProfileObject(t.Context(), &customerprofiles.DeleteProfileObjectInput{
			DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), ProfileId: aws.String(pid), ProfileObjectUniqueKey: aws.String(keys[0]),
		})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("second delete: err=%v, want ResourceNotFoundException", err)
		}
		d, _ := e.client.GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
		if d.Stats.ObjectCount != 4 || d.Stats.TotalSize <= 0 {
			t.Fatalf("stats %+v, want 4 objects", d.Stats)
		}
	})
	t.Run("MaxProfileObjectCount", func(t *testing.T) {
		e.mustPut("capped", map[string]any{"id": "k1", "email": "o@example.com"})
		e.mustPut("capped", map[string]any{"id": "k2", "email": "o@example.com"})
		e.mustPut("capped", map[string]any{"id": "k2", "email": "o@example.com", "tier": "x"}) // replacing is fine
		_, err := e.put("capped", map[string]any{"id": "k3", "email": "o@example.com"})
		wantAPIError(t, err, "BadRequestException", "MaxProfileObjectCount")
	})
	t.Run("ThousandObjectsPerProfile", func(t *testing.T) {
		for i := range 1000 {
			if _, err := e.put("contact", map[string]any{"id": fmt.Sprintf("m%04d", i), "email": "many@example.com"}); err != nil {
				t.Fatalf("object %d: %v", i, err)
			}
		}
		_, err := e.put("contact", map[string]any{"id": "m1000", "email": "many@example.com"})
		wantAPIError(t, err, "BadRequestException", "maximum of 1000 objects")
		d, _ := e.client.GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
		// many@ counts 10 (1000 objects); o@ counts 1.
		if got, want := d.Stats.MeteringProfileCount, int64(11); got != want {
			t.Errorf("MeteringProfileCount=%d, want %d", got, want)
		}
	})
}

// TestIngest_Expiry moves the server's clock past the objects' expiry.
func TestIngest_Expiry(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newIngestEnvClock(t, clock)
	ct := contactType("contact")
	ct.ExpirationDays = aws.Int32(2)
	e.putType(ct)
	long := contactType("longlived")
	e.putType(long)
	e.mustPut("contact", map[string]any{"id": "c1", "email": "exp@example.com"})
	e.mustPut("longlived", map[string]any{"id": "l1", "email": "exp@example.com"})
	pid := aws.ToString(e.mustOne("_email", "exp@example.com").ProfileId)

	clock.add(3 * 24 * time.Hour)
	if got := len(e.objects("contact", pid)); got != 0 {
		t.Fatalf("%d expired objects still listed", got)
	}
	if got := len(e.objects("longlived", pid)); got != 1 {
		t.Fatalf("%d objects of the type that expires after 30 days (domain default), want 1", got)
	}
	d, _ := e.client.GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
	if d.Stats.ObjectCount != 1 {
		t.Fatalf("ObjectCount=%d after expiry, want 1", d.Stats.ObjectCount)
	}
	n, err := e.m.Service.Sweep(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d (%v), want 1", n, err)
	}
	clock.add(30 * 24 * time.Hour)
	if n, _ := e.m.Service.Sweep(t.Context()); n != 1 {
		t.Fatalf("second Sweep deleted %d, want 1", n)
	}
}

// TestIngest_ExpiryRecordsHistory: the sweep that deletes an expired
// object writes its EXPIRED history record on the object's profile,
// naming the object, by the service, without the object's data, and
// removes the data from the object's INGESTED records (each version's),
// which stay; the objects that do not expire get none, and keep theirs.
func TestIngest_ExpiryRecordsHistory(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newIngestEnvClock(t, clock)
	ct := contactType("contact")
	ct.ExpirationDays = aws.Int32(2)
	e.putType(ct)
	e.putType(contactType("longlived"))
	gone := e.mustPut("contact", map[string]any{"id": "c1", "email": "hist@example.com", "secret": "do not keep"})
	clock.add(time.Minute) // a newer version of the object: an INGESTED record of each
	e.mustPut("contact", map[string]any{"id": "c1", "email": "hist@example.com", "secret": "do not keep either"})
	e.mustPut("longlived", map[string]any{"id": "l1", "email": "hist@example.com"})
	pid := aws.ToString(e.mustOne("_email", "hist@example.com").ProfileId)
	expired := func() []types.ProfileHistoryRecord {
		t.Helper()
		out, err := e.client.ListProfileHistoryRecords(t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(pid), ActionType: types.ActionTypeExpired})
		if err != nil {
			t.Fatalf("ListProfileHistoryRecords EXPIRED: %v", err)
		}
		return out.ProfileHistoryRecords
	}
	get := func(id *string) *customerprofiles.GetProfileHistoryRecordOutput {
		t.Helper()
		got, err := e.client.GetProfileHistoryRecord(t.Context(), &customerprofiles.GetProfileHistoryRecordInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(pid), Id: id})
		if err != nil {
			t.Fatalf("GetProfileHistoryRecord(%s): %v", aws.ToString(id), err)
		}
		return got
	}
	// The INGESTED records as they were before the sweep.
	before := map[string]*customerprofiles.GetProfileHistoryRecordOutput{}
	for _, h := range e.history(pid) {
		if h.ActionType == types.ActionTypeIngested {
			before[aws.ToString(h.Id)] = get(h.Id)
		}
	}

	clock.add(3 * 24 * time.Hour)
	if got := expired(); len(got) != 0 {
		t.Fatalf("EXPIRED records before the sweep: %+v", got)
	}
	if n, err := e.m.Service.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("Sweep deleted %d (%v), want 1", n, err)
	}
	recs := expired()
	if len(recs) != 1 {
		t.Fatalf("EXPIRED records after the sweep: %d, want 1", len(recs))
	}
	r := recs[0]
	if got := aws.ToString(r.ObjectTypeName); got != "contact" {
		t.Errorf("ObjectTypeName=%q, want contact", got)
	}
	if got := aws.ToString(r.ProfileObjectUniqueKey); got != gone {
		t.Errorf("ProfileObjectUniqueKey=%q, want %q (the expired object's)", got, gone)
	}
	if got := aws.ToString(r.PerformedBy); got != "openprofiles" {
		t.Errorf("PerformedBy=%q, want openprofiles", got)
	}
	if got, want := aws.ToTime(r.CreatedAt), clock.Now(); got.Sub(want).Abs() > time.Second {
		t.Errorf("CreatedAt=%v, want the sweep's time %v", got, want)
	}
	if got := get(r.Id); got.ActionType != types.ActionTypeExpired || got.Content != nil {
		t.Errorf("GetProfileHistoryRecord: ActionType %s, Content %v; want EXPIRED and no content (the data expired)",
			got.ActionType, aws.ToString(got.Content))
	}
	// The profile's other records are those of before: CREATED and the
	// three INGESTED. Those of the expired object (both its versions) are
	// kept without their content: the object as ingested expired with it.
	// The other object's keeps its.
	all := e.history(pid)
	if got, want := actions(all), []string{"CREATED", "EXPIRED", "INGESTED", "INGESTED", "INGESTED"}; !slices.Equal(got, want) {
		t.Errorf("history actions = %v, want %v", got, want)
	}
	cleared := 0
	for _, h := range all {
		if h.ActionType != types.ActionTypeIngested {
			continue
		}
		was, got := before[aws.ToString(h.Id)], get(h.Id)
		if was == nil {
			t.Fatalf("INGESTED record %s not in the history before the sweep", aws.ToString(h.Id))
		}
		if aws.ToString(got.ProfileObjectUniqueKey) != gone {
			if aws.ToString(got.Content) != aws.ToString(was.Content) || got.Content == nil {
				t.Errorf("INGESTED record of the live object: Content %q, want %q as before the sweep", aws.ToString(got.Content), aws.ToString(was.Content))
			}
			continue
		}
		cleared++
		if !strings.Contains(aws.ToString(was.Content), "do not keep") {
			t.Errorf("INGESTED record of the object before the sweep: Content %q, want the object", aws.ToString(was.Content))
		}
		if got.Content != nil {
			t.Errorf("INGESTED record of the expired object: Content %q, want none (the data expired)", aws.ToString(got.Content))
		}
		// The rest of the record is as it was: what happened, when, by whom.
		if got.ActionType != was.ActionType || aws.ToString(got.ObjectTypeName) != "contact" ||
			aws.ToString(got.PerformedBy) != aws.ToString(was.PerformedBy) || aws.ToString(got.PerformedBy) == "" ||
			!aws.ToTime(got.CreatedAt).Equal(aws.ToTime(was.CreatedAt)) || !aws.ToTime(got.LastUpdatedAt).Equal(aws.ToTime(was.LastUpdatedAt)) {
			t.Errorf("INGESTED record of the expired object: %+v, want %+v without Content", got, was)
		}
	}
	if cleared != 2 {
		t.Errorf("%d INGESTED records of the expired object, want 2 (one a version)", cleared)
	}
	if n, err := e.m.Service.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("second Sweep deleted %d (%v), want 0", n, err)
	}
	if got := expired(); len(got) != 1 {
		t.Errorf("EXPIRED records after a second sweep: %d, want 1", len(got))
	}
}

// TestIngest_ExpiredReplacedClearsHistory: an expired object received
// again before the sweep came (ingestion replaces it as a new object)
// loses its data from its INGESTED record as the sweep would have; the
// new object's record holds it.
func TestIngest_ExpiredReplacedClearsHistory(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newIngestEnvClock(t, clock)
	ct := contactType("contact")
	ct.ExpirationDays = aws.Int32(2)
	e.putType(ct)
	key := e.mustPut("contact", map[string]any{"id": "c1", "email": "again@example.com", "secret": "first version"})
	pid := aws.ToString(e.mustOne("_email", "again@example.com").ProfileId)
	clock.add(3 * 24 * time.Hour)
	if again := e.mustPut("contact", map[string]any{"id": "c1", "email": "again@example.com", "secret": "second version"}); again != key {
		t.Fatalf("object key %q, want %q", again, key)
	}
	contents := map[string]int{}
	for _, h := range e.history(pid) {
		if h.ActionType != types.ActionTypeIngested {
			continue
		}
		got, err := e.client.GetProfileHistoryRecord(t.Context(), &customerprofiles.GetProfileHistoryRecordInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(pid), Id: h.Id})
		if err != nil {
			t.Fatalf("GetProfileHistoryRecord: %v", err)
		}
		if aws.ToString(got.ProfileObjectUniqueKey) != key {
			t.Errorf("INGESTED record of object %q, want %q", aws.ToString(got.ProfileObjectUniqueKey), key)
		}
		switch c := aws.ToString(got.Content); {
		case got.Content == nil:
			contents["none"]++
		case strings.Contains(c, "second version"):
			contents["second"]++
		default:
			t.Errorf("INGESTED record holds %q; want the second version or nothing", c)
		}
	}
	if want := map[string]int{"none": 1, "second": 1}; !maps.Equal(contents, want) {
		t.Errorf("INGESTED records' contents: %v, want %v (the expired version's emptied)", contents, want)
	}
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newIngestEnvClock(t *testing.T, clock *testClock, edit ...func(*main.Config)) *ingestEnv {
	t.Helper()
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
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "ingest"}
	if _, err := e.client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	return e
}
