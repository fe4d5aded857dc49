package main_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

func TestObjectTypes_CRUD(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	in := contactType("contact")
	in.DomainName = aws.String(e.domain)
	in.ExpirationDays = aws.Int32(90)
	in.EncryptionKey = aws.String(mustServiceKey(t, e.m))
	in.SourceLastUpdatedTimestampFormat = aws.String("yyyy-MM-dd'T'HH:mm:ssXXX")
	in.MaxProfileObjectCount = aws.Int32(50)
	in.SourcePriority = aws.Int32(2)
	in.Tags = map[string]string{"owner": "crm"}
	put, err := e.client.PutProfileObjectType(ctx, in)
	if err != nil {
		t.Fatalf("PutProfileObjectType: %v", err)
	}
	got, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: in.DomainName, ObjectTypeName: in.ObjectTypeName})
	if err != nil {
		t.Fatalf("GetProfileObjectType: %v", err)
	}
	want := &customerprofiles.GetProfileObjectTypeOutput{
		ObjectTypeName: in.ObjectTypeName, Description: in.Description, ExpirationDays: in.ExpirationDays, EncryptionKey: in.EncryptionKey,
		AllowProfileCreation: true, SourceLastUpdatedTimestampFormat: in.SourceLastUpdatedTimestampFormat,
		MaxProfileObjectCount: in.MaxProfileObjectCount, MaxAvailableProfileObjectCount: aws.Int32(50), SourcePriority: in.SourcePriority,
		Fields: in.Fields, Keys: in.Keys, Tags: in.Tags, CreatedAt: put.CreatedAt, LastUpdatedAt: put.LastUpdatedAt,
	}
	opts := []cmp.Option{
		cmpopts.IgnoreFields(customerprofiles.GetProfileObjectTypeOutput{}, "ResultMetadata"),
		cmpopts.IgnoreUnexported(customerprofiles.GetProfileObjectTypeOutput{}, types.ObjectTypeField{}, types.ObjectTypeKey{}),
	}
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Fatalf("GetProfileObjectType (-want +got):\n%s", diff)
	}

	t.Run("ReplaceKeepsCreatedAt", func(t *testing.T) {
		in.Description = aws.String("CRM contacts, v2")
		again, err := e.client.PutProfileObjectType(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !again.CreatedAt.Equal(*put.CreatedAt) || aws.ToString(again.Description) != "CRM contacts, v2" {
			t.Fatalf("replace: CreatedAt %v (was %v), Description %q", again.CreatedAt, put.CreatedAt, aws.ToString(again.Description))
		}
	})
	t.Run("List", func(t *testing.T) {
		e.putType(contactType("another"))
		out, err := e.client.ListProfileObjectTypes(ctx, &customerprofiles.ListProfileObjectTypesInput{DomainName: in.DomainName})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, it := range out.Items {
			names = append(names, aws.ToString(it.ObjectTypeName))
		}
		if diff := cmp.Diff([]string{"another", "contact"}, names); diff != "" {
			t.Fatalf("names (-want +got):\n%s", diff)
		}
	})
	t.Run("DeleteRemovesObjectsAndScrubsFields", func(t *testing.T) {
		e.putType(contactType("other"))
		e.mustPut("contact", map[string]any{"id": "c1", "email": "del@example.com", "name": map[string]any{"first": "Del"}})
		e.mustPut("other", map[string]any{"id": "o1", "email": "del@example.com", "address": map[string]any{"city": "Oslo"}})
		pid := aws.ToString(e.mustOne("_email", "del@example.com").ProfileId)
		// A standard key removed with DeleteProfileKey stays removed
		// through the scrub, which changes another one's field (FirstName:
		// _fullName); the scrub made every standard key again.
		if _, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: in.DomainName, ProfileId: aws.String(pid), AccountNumber: aws.String("ACC-SCRUB")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: in.DomainName, ProfileId: aws.String(pid), KeyName: aws.String("_account"), Values: []string{"ACC-SCRUB"}}); err != nil {
			t.Fatal(err)
		}
		// Its integrations stay (the model: it "disables" them; their
		// records fail into the dead-letter queue until the type exists
		// again, and a template of that name goes on serving them).
		const mine, theirs = "arn:aws:connect:us-east-1:000000000000:instance/11111111-0000-0000-0000-000000000001",
			"arn:aws:connect:us-east-1:000000000000:instance/11111111-0000-0000-0000-000000000002"
		for uri, typ := range map[string]string{mine: "contact", theirs: "other"} {
			if _, err := e.client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: in.DomainName, Uri: aws.String(uri), ObjectTypeName: aws.String(typ)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: in.DomainName, ObjectTypeName: in.ObjectTypeName}); err != nil {
			t.Fatal(err)
		}
		if list, err := e.client.ListIntegrations(ctx, &customerprofiles.ListIntegrationsInput{DomainName: in.DomainName}); err != nil ||
			len(list.Items) != 2 {
			t.Errorf("integrations after deleting type contact: %+v, %v; want both kept", list, err)
		}
		_, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: in.DomainName, ObjectTypeName: in.ObjectTypeName})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("get after delete: %v, want ResourceNotFoundException", err)
		}
		p := e.mustOne("_profileId", pid)
		if p.FirstName != nil || p.Address == nil || aws.ToString(p.Address.City) != "Oslo" {
			t.Fatalf("after deleting type contact: FirstName %v (want scrubbed), Address %+v (want kept)", p.FirstName, p.Address)
		}
		if got := e.search("_fullName", "Del"); len(got) != 0 {
			t.Errorf("_fullName=Del finds %d profiles after the scrub removed FirstName, want none", len(got))
		}
		if got := e.search("_account", "ACC-SCRUB"); len(got) != 0 {
			t.Errorf("_account=ACC-SCRUB finds %d profiles after the scrub, want none (its key was deleted)", len(got))
		}
		e.putType(contactType("contact"))
		if got := len(e.objects("contact", pid)); got != 0 {
			t.Fatalf("%d objects survived their type's deletion", got)
		}
	})
}

func TestObjectTypes_InvalidMappings(t *testing.T) {
	e := newIngestEnv(t)
	tests := []struct {
		name  string
		edit  func(in *customerprofiles.PutProfileObjectTypeInput)
		words []string
	}{
		{"UnknownTarget", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.Fields["first"] = field("_source.name.first", "_profile.FirstNaem", "NAME")
		}, []string{"first", "_profile.FirstNaem"}},
		{"BadSource", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.Fields["first"] = field("name.first", "_profile.FirstName", "NAME")
		}, []string{"first", "name.first"}},
		{"TwoUniqueKeys", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.Keys["other"] = key([]string{"email"}, types.StandardIdentifierUnique)
		}, []string{"UNIQUE", "contactId", "other"}},
		{"NoUniqueKey", func(in *customerprofiles.PutProfileObjectTypeInput) {
			delete(in.Keys, "contactId")
		}, []string{"UNIQUE"}},
		{"KeyOverMissingField", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.Keys["_phone"] = key([]string{"mobile"}, types.StandardIdentifierProfile)
		}, []string{"_phone", "mobile"}},
		{"TooManyKeys", func(in *customerprofiles.PutProfileObjectTypeInput) {
			for i := range 9 {
				in.Keys[fmt.Sprintf("k%d", i)] = key([]string{"email"}, types.StandardIdentifierProfile)
			}
		}, []string{"10"}},
		{"ReservedName", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.ObjectTypeName = aws.String("_custom")
		}, []string{"_custom"}},
		{"TemplateWithFields", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.TemplateId = aws.String("CTR")
		}, []string{"CTR", "Fields"}},
		{"UnknownTemplate", func(in *customerprofiles.PutProfileObjectTypeInput) {
			in.TemplateId, in.Fields, in.Keys = aws.String("Nope"), nil, nil
		}, []string{"Nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := contactType("bad")
			in.DomainName = aws.String(e.domain)
			tt.edit(in)
			_, err := e.client.PutProfileObjectType(t.Context(), in)
			wantAPIError(t, err, "BadRequestException", tt.words...)
		})
	}

	t.Run("HundredTypesPerDomain", func(t *testing.T) {
		for i := range 100 {
			e.putType(contactType(fmt.Sprintf("t%03d", i)))
		}
		in := contactType("t100")
		in.DomainName = aws.String(e.domain)
		_, err := e.client.PutProfileObjectType(t.Context(), in)
		wantAPIError(t, err, "BadRequestException", "100")
		// Replacing one of the hundred is still fine.
		e.putType(contactType("t042"))
	})
}

func TestTemplates(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	out, err := e.client.ListProfileObjectTypeTemplates(ctx, &customerprofiles.ListProfileObjectTypeTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, it := range out.Items {
		ids[aws.ToString(it.TemplateId)] = true
	}
	for _, id := range []string{"CTR", "CTR-NoInferred", "CTR-AutoAssociateOnly", "Salesforce-Account", "Salesforce-Contact", "Zendesk-users", "ServiceNow-sys_user", "Marketo-leads", "Segment-Identify", "Shopify-Customer",
		"ServiceNow-task", "ServiceNow-incident", "Shopify-DraftOrder"} {
		if !ids[id] {
			t.Errorf("template %s not listed", id)
		}
	}
	tpl, err := e.client.GetProfileObjectTypeTemplate(ctx, &customerprofiles.GetProfileObjectTypeTemplateInput{TemplateId: aws.String("Salesforce-Contact")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tpl.Keys["_salesforceContactId"]; !ok || aws.ToString(tpl.SourceName) == "" {
		t.Fatalf("Salesforce-Contact template: %+v", tpl)
	}
	_, err = e.client.GetProfileObjectTypeTemplate(ctx, &customerprofiles.GetProfileObjectTypeTemplateInput{TemplateId: aws.String("Nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown template: %v", err)
	}

	t.Run("TypeFromTemplate", func(t *testing.T) {
		e.putType(&customerprofiles.PutProfileObjectTypeInput{ObjectTypeName: aws.String("sfcontact"), Description: aws.String("contacts"), TemplateId: aws.String("Salesforce-Contact")})
		got, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("sfcontact")})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Fields) != len(tpl.Fields) || aws.ToString(got.TemplateId) != "Salesforce-Contact" || got.AllowProfileCreation != aws.ToBool(&tpl.AllowProfileCreation) {
			t.Fatalf("type from template: %d fields (template %d), TemplateId %q", len(got.Fields), len(tpl.Fields), aws.ToString(got.TemplateId))
		}
		e.mustPut("sfcontact", map[string]any{"Id": "003A000001", "AccountId": "001A000001", "FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com", "LastModifiedDate": "2024-05-01T10:00:00.000+0000"})
		p := e.mustOne("_salesforceContactId", "003A000001")
		if aws.ToString(p.FirstName) != "Grace" || aws.ToString(p.EmailAddress) != "grace@example.com" {
			t.Fatalf("profile from Salesforce-Contact: %+v", p)
		}
	})
	t.Run("ImplicitTemplateType", func(t *testing.T) {
		// CTR is usable without PutProfileObjectType: a voice contact creates
		// an inferred profile found by the caller's number.
		got, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("CTR")})
		if err != nil || aws.ToString(got.TemplateId) != "CTR" {
			t.Fatalf("implicit CTR type: %v %v", got, err)
		}
		e.mustPut("CTR", map[string]any{"ContactId": "11111111-2222-3333-4444-555555555555", "Channel": "VOICE", "InitiationMethod": "INBOUND",
			"CustomerEndpoint": map[string]any{"Address": "+1 555 0100 200", "Type": "TELEPHONE_NUMBER"}})
		p := e.mustOne("_phone", "(555) 0100-200")
		if aws.ToString(p.PhoneNumber) == "" {
			t.Fatalf("inferred profile has no PhoneNumber: %+v", p)
		}
		if got := e.search("_email", "+1 555 0100 200"); len(got) != 0 {
			t.Fatalf("a phone number became an email key")
		}
	})
}

func TestDetectProfileObjectType(t *testing.T) {
	e := newIngestEnv(t)
	out, err := e.client.DetectProfileObjectType(t.Context(), &customerprofiles.DetectProfileObjectTypeInput{
		DomainName: aws.String(e.domain),
		Objects: []string{
			`{"id":"u1","email":"ann@example.com","phone":"+1 555 123 4567","firstName":"Ann","lastName":"Lee","updatedAt":"2024-06-01T10:00:00Z"}`,
			`{"id":"u2","email":"bob@example.com","phone":"+1 555 765 4321","firstName":"Bob","lastName":"Ray","updatedAt":"2024-06-02T10:00:00Z"}`,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DetectedProfileObjectTypes) != 1 {
		t.Fatalf("%d proposals, want 1", len(out.DetectedProfileObjectTypes))
	}
	d := out.DetectedProfileObjectTypes[0]
	targets := map[string]bool{}
	for _, f := range d.Fields {
		targets[aws.ToString(f.Target)] = true
	}
	for _, want := range []string{"_profile.EmailAddress", "_profile.PhoneNumber", "_profile.FirstName", "_profile.LastName"} {
		if !targets[want] {
			t.Errorf("no field targets %s: %+v", want, d.Fields)
		}
	}
	if _, ok := d.Keys["_email"]; !ok {
		t.Errorf("no _email key proposed: %+v", d.Keys)
	}
	// The proposal is a valid object type as it is.
	e.putType(&customerprofiles.PutProfileObjectTypeInput{ObjectTypeName: aws.String("detected"), Description: aws.String("detected"), Fields: d.Fields, Keys: d.Keys, AllowProfileCreation: true, SourceLastUpdatedTimestampFormat: d.SourceLastUpdatedTimestampFormat})

	_, err = e.client.DetectProfileObjectType(t.Context(), &customerprofiles.DetectProfileObjectTypeInput{DomainName: aws.String(e.domain), Objects: []string{`"just a string"`}})
	wantAPIError(t, err, "BadRequestException")
}

// TestObjectTypes_DeleteUnderLoad: deleting a type whose objects set the
// fields of many profiles goes through while other profiles are written
// (on PostgreSQL, one transaction over the whole domain conflicted with
// every concurrent profile write until its retries gave up; then pages of
// 500 profiles did, now and then, with writers of another domain), and
// clears those fields on every profile: in the call, or, past its budget,
// in the sweep.
func TestObjectTypes_DeleteUnderLoad(t *testing.T) {
	e := newIngestEnv(t, func(c *main.Config) { c.SweepInterval = 100 * time.Millisecond })
	ctx := t.Context()
	e.putType(contactType("busy"))
	const n = 1200 // more than two pages of the scrub
	for i := 0; i < n; i += profiles.MaxBatchObjects {
		var objs []string
		for j := i; j < i+profiles.MaxBatchObjects; j++ {
			objs = append(objs, fmt.Sprintf(`{"id":"b%d","email":"busy%d@example.com","name":{"first":"Busy"}}`, j, j))
		}
		if _, errs, err := e.m.Service.PutProfileObjects(ctx, e.domain, "busy", objs); err != nil || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
			t.Fatalf("PutProfileObjects: %v %v", err, errs)
		}
	}
	var sample []string
	for _, i := range []int{0, n / 2, n - 1} {
		sample = append(sample, aws.ToString(e.mustOne("_email", fmt.Sprintf("busy%d@example.com", i)).ProfileId))
	}
	other := &ingestEnv{t: t, m: e.m, client: e.client, domain: "elsewhere"}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(other.domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	other.putType(contactType("contact"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				other.put("contact", map[string]any{"id": fmt.Sprintf("w%d-%d", w, i%50), "email": fmt.Sprintf("w%d-%d@example.com", w, i%50), "name": map[string]any{"first": fmt.Sprint(i)}})
			}
		})
	}
	_, err := e.client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("busy")})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("DeleteProfileObjectType while another domain is written: %v", err)
	}
	waitScrubDone(t, e.m, e.domain, "busy")
	for _, id := range sample {
		if p := e.mustOne("_profileId", id); p.FirstName != nil || p.EmailAddress != nil {
			t.Errorf("profile %s keeps fields its deleted type set: %q %q", id, aws.ToString(p.FirstName), aws.ToString(p.EmailAddress))
		}
	}
}

// TestObjectTypes_DeleteScrubResumes: a DeleteProfileObjectType whose
// clearing of the profile fields stops after the type is deleted (here the
// domain's key is disabled, so no profile opens; a node killed there is
// the same) leaves that work recorded, and the sweep finishes it, after a
// restart too: the fields the deleted type set do not stay on the
// profiles forever, with no type left to delete again. A type of the same
// name created again keeps what its own objects set.
func TestObjectTypes_DeleteScrubResumes(t *testing.T) {
	fast := func(c *main.Config) {
		c.KMSKeyCheckInterval, c.DataKeyMaxAge, c.SweepInterval = 0, 0, 100*time.Millisecond
	}
	m := MustRunMain(t, fast)
	ctx := t.Context()
	key := mustServiceKey(t, m)
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "scrub"}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("busy"))
	const n = 1200 // more than two pages of the scrub
	for i := 0; i < n; i += profiles.MaxBatchObjects {
		var objs []string
		for j := i; j < i+profiles.MaxBatchObjects; j++ {
			objs = append(objs, fmt.Sprintf(`{"id":"b%d","email":"busy%d@example.com","name":{"first":"Busy"}}`, j, j))
		}
		if _, errs, err := m.Service.PutProfileObjects(ctx, e.domain, "busy", objs); err != nil || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
			t.Fatalf("PutProfileObjects: %v %v", err, errs)
		}
	}
	var sample []string
	for _, i := range []int{0, n / 2, n - 1} {
		sample = append(sample, aws.ToString(e.mustOne("_email", fmt.Sprintf("busy%d@example.com", i)).ProfileId))
	}

	if _, err := MustKMSClient(t, m).DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("busy")}); err != nil {
		t.Errorf("DeleteProfileObjectType (the type is deleted; its fields are cleared later): %v", err)
	}
	if _, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("busy")}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Fatalf("GetProfileObjectType after the delete: %v, want ResourceNotFoundException", err)
	}

	// The server restarts; the key is enabled again.
	m.Close()
	m = MustOpenMain(t, m.Config)
	e.m, e.client = m, MustClient(t, m)
	if _, err := MustKMSClient(t, m).EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range sample {
		for {
			p := e.mustOne("_profileId", id)
			if p.FirstName == nil && p.EmailAddress == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("profile %s keeps fields its deleted type set: %q %q", id, aws.ToString(p.FirstName), aws.ToString(p.EmailAddress))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Created again, the type's new objects set fields that stay.
	e.putType(contactType("busy"))
	if _, err := e.put("busy", map[string]any{"id": "b0", "email": "busy0@example.com", "name": map[string]any{"first": "Again"}}); err != nil {
		t.Fatalf("PutProfileObject into the type created again: %v", err)
	}
	// The scrub of the deleted type is over (creating the type again
	// finishes it), and a sweep of the scrubs runs: neither clears what the
	// new type's objects set.
	waitScrubDone(t, m, e.domain, "busy")
	if _, err := m.Service.RunTypeScrubs(ctx); err != nil {
		t.Fatalf("RunTypeScrubs: %v", err)
	}
	if p := e.mustOne("_email", "busy0@example.com"); aws.ToString(p.FirstName) != "Again" {
		t.Errorf("profile of the type created again: FirstName %q, want Again", aws.ToString(p.FirstName))
	}
}

// TestObjectTypes_DeleteWhileIngesting: DeleteProfileObjectType goes
// through while objects of that type, and of another type of the domain,
// are being ingested (on PostgreSQL every ingestion of the type, reading
// the type and writing what the deletion reads, made the deletion fail its
// serialization until its retries gave up); once it returned no ingestion
// into the type succeeds, no object or key of the type is left, and the
// other type's objects are all there.
func TestObjectTypes_DeleteWhileIngesting(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	e.putType(contactType("doomed"))
	e.putType(contactType("kept"))
	const writers, others, warm = 10, 2, 20
	var deleted atomic.Bool
	stop := make(chan struct{})
	var mu sync.Mutex
	keptKeys := map[string]bool{}
	var ready, wg sync.WaitGroup
	ready.Add(writers + others)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == warm {
					ready.Done()
				}
				select {
				case <-stop: // the deletion failed
					return
				default:
				}
				gone := deleted.Load() // read before the put starts
				_, err := e.m.Service.PutProfileObject(ctx, e.domain, "doomed", fmt.Sprintf(`{"id":"d%d-%d","email":"d%d-%d@example.com"}`, w, i, w, i%20))
				switch {
				case err == nil && gone:
					t.Errorf("an object of the type was ingested after DeleteProfileObjectType returned")
				case profiles.ErrorCode(err) == profiles.ENOTFOUND:
				case profiles.ErrorCode(err) == profiles.ETHROTTLED:
					// PostgreSQL gave up on a serialization conflict of
					// these writers' shared profiles (a ThrottlingException,
					// which a client retries): the next put retries.
					continue
				case err != nil:
					t.Errorf("PutProfileObject doomed: %v", err)
				default:
					continue
				}
				if i < warm {
					ready.Done()
				}
				return
			}
		})
	}
	for w := range others {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == warm {
					ready.Done()
				}
				select {
				case <-stop:
					if i < warm {
						ready.Done()
					}
					return
				default:
				}
				k, err := e.m.Service.PutProfileObject(ctx, e.domain, "kept", fmt.Sprintf(`{"id":"k%d-%d","email":"k%d-%d@example.com"}`, w, i, w, i%20))
				if profiles.ErrorCode(err) == profiles.ETHROTTLED {
					continue // as for doomed: a client retries
				}
				if err != nil {
					t.Errorf("PutProfileObject kept: %v", err)
					if i < warm {
						ready.Done()
					}
					return
				}
				mu.Lock()
				keptKeys[k] = true
				mu.Unlock()
			}
		})
	}
	ready.Wait() // every writer has ingested warm objects, and goes on
	_, err := e.client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("doomed")},
		func(o *customerprofiles.Options) { o.RetryMaxAttempts = 1 })
	deleted.Store(err == nil)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("DeleteProfileObjectType while its objects are ingested: %v", err)
	}

	var doomedObjects, doomedKeys int
	kept := map[string]bool{}
	err = e.m.Service.Store.View(ctx, func(tx profiles.Tx) error {
		ids, err := tx.ListProfileIDs(ctx, e.domain, "", 0)
		if err != nil {
			return err
		}
		for _, id := range ids {
			for _, typ := range []string{"doomed", "kept"} {
				objs, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: e.domain, ObjectType: typ, ProfileID: id, Limit: 1000})
				if err != nil {
					return err
				}
				for _, o := range objs {
					if typ == "doomed" {
						doomedObjects++
					} else {
						kept[o.UniqueKey] = true
					}
				}
			}
			keys, err := tx.ListKeys(ctx, e.domain, id)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if k.Origin == "doomed" {
					doomedKeys++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doomedObjects != 0 || doomedKeys != 0 {
		t.Errorf("%d objects and %d keys of the deleted type left", doomedObjects, doomedKeys)
	}
	for k := range keptKeys {
		if !kept[k] {
			t.Errorf("object %s of the other type missing", k)
		}
	}
	if len(kept) != len(keptKeys) {
		t.Errorf("%d objects of the other type stored, %d ingested", len(kept), len(keptKeys))
	}
}

// typeLeftovers counts what objects of type typ left in a domain: their
// objects, their keys, and the profile fields they set.
func typeLeftovers(t *testing.T, m *main.Main, domain, typ string) (objects, keys, fields int) {
	t.Helper()
	ctx := t.Context()
	err := m.Service.Store.View(ctx, func(tx profiles.Tx) error {
		ids, err := tx.ListProfileIDs(ctx, domain, "", 0)
		if err != nil {
			return err
		}
		for _, id := range ids {
			objs, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: domain, ObjectType: typ, ProfileID: id, Limit: 1000})
			if err != nil {
				return err
			}
			objects += len(objs)
			ks, err := tx.ListKeys(ctx, domain, id)
			if err != nil {
				return err
			}
			for _, k := range ks {
				if k.Origin == typ {
					keys++
				}
			}
			p, err := tx.FindProfile(ctx, domain, id)
			if err != nil {
				return err
			}
			for _, src := range p.Sources {
				if src.ObjectType == typ {
					fields++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return objects, keys, fields
}

// waitScrubDone waits until the record of the deletion of type typ is
// gone: its objects and the fields they set are all removed.
func waitScrubDone(t *testing.T, m *main.Main, domain, typ string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		_, err := m.Service.Configs.FindConfig(t.Context(), domain, profiles.ConfigTypeScrub, typ)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deletion of %s is not finished after a minute", typ)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestObjectTypes_DeleteLargeWhileOthersIngest: deleting a type with
// 5,000 objects goes through while another type is ingested, through the
// server, into the same profiles (on PostgreSQL the deletion's one
// transaction read every key of the domain, so such ingestion failed its
// serialization until its retries gave up), and removes every object, key
// and profile field of the type, none of the other type's.
func TestObjectTypes_DeleteLargeWhileOthersIngest(t *testing.T) {
	e := newIngestEnv(t, func(c *main.Config) { c.SweepInterval = 100 * time.Millisecond })
	ctx := t.Context()
	e.putType(contactType("big"))
	e.putType(contactType("other"))
	const n, people = 5000, 500
	for i := 0; i < n; i += profiles.MaxBatchObjects {
		var objs []string
		for j := i; j < i+profiles.MaxBatchObjects; j++ {
			objs = append(objs, fmt.Sprintf(`{"id":"b%d","email":"p%d@example.com","name":{"last":"Big"},"tier":"gold"}`, j, j%people))
		}
		if _, errs, err := e.m.Service.PutProfileObjects(ctx, e.domain, "big", objs); err != nil || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
			t.Fatalf("PutProfileObjects: %v %v", err, errs)
		}
	}
	const writers, warm = 5, 10
	stop := make(chan struct{})
	var mu sync.Mutex
	otherKeys := map[string]bool{}
	var ready, wg sync.WaitGroup
	ready.Add(writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == warm {
					ready.Done()
				}
				select {
				case <-stop:
					return
				default:
				}
				k, err := e.put("other", map[string]any{"id": fmt.Sprintf("o%d-%d", w, i), "email": fmt.Sprintf("p%d@example.com", (w*97+i*7)%people), "name": map[string]any{"first": "Other"}})
				if err != nil {
					t.Errorf("PutProfileObject other: %v", err)
					if i < warm {
						ready.Done()
					}
					return
				}
				mu.Lock()
				otherKeys[k] = true
				mu.Unlock()
			}
		})
	}
	ready.Wait()
	_, err := e.client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("big")},
		func(o *customerprofiles.Options) { o.RetryMaxAttempts = 1 })
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("DeleteProfileObjectType while another type is ingested into its profiles: %v", err)
	}
	waitScrubDone(t, e.m, e.domain, "big")
	if objects, keys, fields := typeLeftovers(t, e.m, e.domain, "big"); objects+keys+fields != 0 {
		t.Errorf("the deleted type left %d objects, %d keys, %d profile fields", objects, keys, fields)
	}
	err = e.m.Service.Store.View(ctx, func(tx profiles.Tx) error {
		for k := range otherKeys {
			if _, err := tx.FindObject(ctx, e.domain, "other", k); err != nil {
				return fmt.Errorf("object %s of the other type: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if len(otherKeys) < writers*warm {
		t.Errorf("%d objects of the other type ingested, want at least %d", len(otherKeys), writers*warm)
	}
}

// TestObjectTypes_DeleteObjectsResume: a node killed while it deletes the
// objects of a deleted type (here: after its first page) leaves that
// recorded, and the sweep of the restarted server deletes the rest, their
// keys and the profile fields they set.
func TestObjectTypes_DeleteObjectsResume(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.SweepInterval = 100 * time.Millisecond })
	ctx := t.Context()
	e := &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "resume"}
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("big"))
	e.putType(contactType("other"))
	const n = 1200 // three pages of objects
	for i := 0; i < n; i += profiles.MaxBatchObjects {
		var objs []string
		for j := i; j < i+profiles.MaxBatchObjects; j++ {
			objs = append(objs, fmt.Sprintf(`{"id":"b%04d","email":"p%d@example.com","name":{"last":"Big"}}`, j, j%300))
		}
		if _, errs, err := m.Service.PutProfileObjects(ctx, e.domain, "big", objs); err != nil || slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
			t.Fatalf("PutProfileObjects: %v %v", err, errs)
		}
	}
	kept := e.mustPut("other", map[string]any{"id": "o1", "email": "p1@example.com", "name": map[string]any{"first": "Other"}})

	// What a node killed after the first page of objects leaves: the
	// type's row gone, 500 objects deleted, the record of where it was,
	// its lease run out.
	var last string
	err := m.Service.Store.Update(ctx, func(tx profiles.Tx) error {
		if err := tx.DeleteObjectType(ctx, e.domain, "big"); err != nil {
			return err
		}
		var err error
		last, err = tx.DeleteTypeObjects(ctx, e.domain, "big", "", time.Time{}, 500)
		return err
	})
	if err != nil || last == "" {
		t.Fatalf("first page of objects: %q, %v", last, err)
	}
	doc := fmt.Sprintf(`{"objects":true,"objectsAfter":%q,"cutoff":%q}`, last, time.Now().Format(time.RFC3339Nano))
	if err := m.Service.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: e.domain, Kind: profiles.ConfigTypeScrub, Name: "big", Data: []byte(doc)}, 0); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m = MustOpenMain(t, m.Config)
	e.m, e.client = m, MustClient(t, m)

	waitScrubDone(t, m, e.domain, "big")
	if objects, keys, fields := typeLeftovers(t, m, e.domain, "big"); objects+keys+fields != 0 {
		t.Errorf("the deleted type left %d objects, %d keys, %d profile fields", objects, keys, fields)
	}
	if items := e.objects("other", aws.ToString(e.mustOne("_email", "p1@example.com").ProfileId)); len(items) != 1 || aws.ToString(items[0].ProfileObjectUniqueKey) != kept {
		t.Errorf("objects of the other type: %v, want %s", items, kept)
	}
}
