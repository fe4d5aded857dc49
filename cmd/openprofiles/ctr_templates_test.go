package main_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/connect"
)

// TestCTRTemplates sends contact records through an instance whose
// integration names one of the built-in CTR templates as its object type
// (no PutProfileObjectType: the template is used implicitly), and checks
// how each template resolves the customer's profile.
func TestCTRTemplates(t *testing.T) {
	for _, tc := range []struct {
		template string
		// create: the template may create a profile (AllowProfileCreation).
		create bool
		// ambiguousCode: how a record from a phone two profiles hold is
		// refused.
		ambiguousCode string
	}{
		// All three: _ctrContactId (PROFILE UNIQUE) finds no profile in the
		// first round, which says nothing (a new contact's own id); _phone
		// (PROFILE SECONDARY) finds two in the second: every key that says
		// something is ambiguous, and the record is refused as
		// AMBIGUOUS_KEYS (BEHAVIOUR.md §6.2: "several profiles → the
		// record is rejected"), rather than given a third profile with
		// the number, which would make the next call more ambiguous still.
		{template: "CTR", create: true, ambiguousCode: profiles.ReasonAmbiguousKeys},
		{template: "CTR-NoInferred", create: true, ambiguousCode: profiles.ReasonAmbiguousKeys},
		{template: "CTR-AutoAssociateOnly", create: false, ambiguousCode: profiles.ReasonAmbiguousKeys},
	} {
		t.Run(tc.template, func(t *testing.T) {
			e := newContactEnv(t)
			domain := strings.ToLower(tc.template)
			queue := mustServiceQueue(t, e.m, domain+"-dlq")
			e.createDomain(domain, queue)
			inst := e.createInstance(domain)
			// The template's id is a usable object type name; a name that is
			// neither a template nor a type of the domain is not.
			_, err := e.client.PutIntegration(t.Context(), &customerprofiles.PutIntegrationInput{
				DomainName: aws.String(domain), Uri: aws.String(inst.Arn), ObjectTypeName: aws.String(tc.template + "-Nope")})
			wantAPIError(t, err, "ResourceNotFoundException", tc.template+"-Nope")
			if _, err := e.client.PutIntegration(t.Context(), &customerprofiles.PutIntegrationInput{
				DomainName: aws.String(domain), Uri: aws.String(inst.Arn), ObjectTypeName: aws.String(tc.template)}); err != nil {
				t.Fatalf("PutIntegration %s: %v", tc.template, err)
			}
			tv := &templateEnv{contactEnv: e, domain: domain, template: tc.template, inst: inst}
			var wantDead []string // ContactIds that must be dead letters

			// (a) A new voice customer: an unknown number.
			const newPhone = "+12065550100"
			res := tv.send("a-new", newPhone)
			found := e.profilesOf(domain, "_phone", newPhone)
			if tc.create {
				if res.Accepted != 1 || len(found) != 1 {
					t.Fatalf("new caller: result %+v, profiles %v; want accepted, one profile", res, found)
				}
				if got := tv.history(found[0]); !slices.Equal(got, []string{"a-new"}) {
					t.Errorf("new caller's history = %v, want [a-new]", got)
				}
			} else {
				tv.wantRefused(res, profiles.ReasonNoProfile)
				if len(found) != 0 {
					t.Errorf("new caller: profiles %v, want none", found)
				}
				wantDead = append(wantDead, "a-new")
			}

			// (b) A known voice customer: the contact goes to its profile.
			const knownPhone = "+13125550111"
			known := tv.createProfile("Ana", knownPhone, "")
			tv.mustAccept(tv.send("b-known", knownPhone))
			if got := e.profilesOf(domain, "_phone", knownPhone); !slices.Equal(got, []string{known}) {
				t.Errorf("known caller: profiles %v, want only %s", got, known)
			}
			if got := tv.history(known); !slices.Equal(got, []string{"b-known"}) {
				t.Errorf("known caller's history = %v, want [b-known]", got)
			}
			// The agent workspace shows it in the profile's contact history,
			// whichever template the records are stored as.
			page := get(t, mustConsoleSession(t, e.m.URL(), testKeyID, testSecret), e.m.URL()+"/console/domains/"+domain+"/profiles/"+known)
			if !strings.Contains(page, "b-known") {
				t.Errorf("the workspace's profile page does not show the contact b-known")
			}

			// (c) Ambiguous: two profiles share the number (a household).
			const sharedPhone = "+14155550122"
			first, second := tv.createProfile("Ben", sharedPhone, ""), tv.createProfile("Carla", sharedPhone, "")
			res = tv.send("c-shared", sharedPhone)
			found = e.profilesOf(domain, "_phone", sharedPhone)
			for _, id := range []string{first, second} {
				if got := tv.history(id); len(got) != 0 {
					t.Errorf("ambiguous caller: household profile %s got %v", id, got)
				}
			}
			tv.wantRefused(res, tc.ambiguousCode)
			if len(found) != 2 {
				t.Errorf("ambiguous caller: profiles %v, want the two only", found)
			}
			wantDead = append(wantDead, "c-shared")

			// (d) Chat by email: a new customer, then a known one.
			const newEmail, knownEmail = "new.chatter@example.com", "known.chatter@example.org"
			res = tv.send("d-new", newEmail)
			found = e.profilesOf(domain, "_email", newEmail)
			if tc.create {
				if res.Accepted != 1 || len(found) != 1 {
					t.Fatalf("new chatter: result %+v, profiles %v; want accepted, one profile", res, found)
				}
				if got := tv.history(found[0]); !slices.Equal(got, []string{"d-new"}) {
					t.Errorf("new chatter's history = %v, want [d-new]", got)
				}
			} else {
				tv.wantRefused(res, profiles.ReasonNoProfile)
				if len(found) != 0 {
					t.Errorf("new chatter: profiles %v, want none", found)
				}
				wantDead = append(wantDead, "d-new")
			}
			chatter := tv.createProfile("Dana", "", knownEmail)
			tv.mustAccept(tv.send("d-known", knownEmail))
			if got := e.profilesOf(domain, "_email", knownEmail); !slices.Equal(got, []string{chatter}) {
				t.Errorf("known chatter: profiles %v, want only %s", got, chatter)
			}
			if got := tv.history(chatter); !slices.Equal(got, []string{"d-known"}) {
				t.Errorf("known chatter's history = %v, want [d-known]", got)
			}

			// The refused records are dead letters, as they were sent.
			var dead []string
			for _, dl := range deadLetters(t, MustSQSClient(t, e.m.URL()), queue) {
				if dl.DomainName != domain || dl.ObjectTypeName != tc.template || dl.Source != "contact" {
					t.Errorf("dead letter %+v", dl)
				}
				dead = append(dead, contactIDOf(dl.Object))
			}
			slices.Sort(dead)
			slices.Sort(wantDead)
			if !slices.Equal(dead, wantDead) {
				t.Errorf("dead letters for %v, want %v", dead, wantDead)
			}
		})
	}
}

// templateEnv is a contactEnv with one domain, its instance and the
// template its integration names.
type templateEnv struct {
	*contactEnv
	domain, template string
	inst             connect.InstanceInfo
}

// send posts one record (a minute later on the server's clock) and returns
// the result of the request, which must be a 200.
func (tv *templateEnv) send(contactID, address string) connect.Result {
	tv.t.Helper()
	tv.clock.add(time.Minute)
	res, r := tv.post(tv.inst.Id, ctr(tv.inst.Arn, contactID, address, tv.clock.Now().Add(-10*time.Minute)))
	if r.Status != http.StatusOK || len(res.Records) != 1 || res.Records[0].ContactId != contactID {
		tv.t.Fatalf("post %s: %d %s", contactID, r.Status, r.Body)
	}
	return res
}

func (tv *templateEnv) mustAccept(res connect.Result) {
	tv.t.Helper()
	if res.Accepted != 1 || res.Failed != 0 || res.Records[0].ProfileObjectUniqueKey == "" {
		tv.t.Fatalf("%s: result %+v, want the record accepted", res.Records[0].ContactId, res)
	}
}

func (tv *templateEnv) wantRefused(res connect.Result, code string) {
	tv.t.Helper()
	if res.Accepted != 0 || res.Failed != 1 || res.Records[0].ErrorCode != code || res.Records[0].ProfileObjectUniqueKey != "" {
		tv.t.Fatalf("%s: result %+v, want it refused with %s", res.Records[0].ContactId, res, code)
	}
}

// createProfile creates a profile with CreateProfile and checks that its
// phone (or email) finds it.
func (tv *templateEnv) createProfile(first, phone, email string) string {
	tv.t.Helper()
	in := &customerprofiles.CreateProfileInput{DomainName: aws.String(tv.domain), FirstName: aws.String(first)}
	if phone != "" {
		in.PhoneNumber = aws.String(phone)
	}
	if email != "" {
		in.EmailAddress = aws.String(email)
	}
	out, err := tv.client.CreateProfile(tv.t.Context(), in)
	if err != nil {
		tv.t.Fatalf("CreateProfile %s: %v", first, err)
	}
	id := aws.ToString(out.ProfileId)
	key, value := "_phone", phone
	if phone == "" {
		key, value = "_email", email
	}
	if !slices.Contains(tv.profilesOf(tv.domain, key, value), id) {
		tv.t.Fatalf("%s=%s does not find the profile %s just created", key, value, id)
	}
	return id
}

// history returns the ContactIds of a profile's objects of the template's
// type.
func (tv *templateEnv) history(profileID string) []string {
	tv.t.Helper()
	out, err := tv.client.ListProfileObjects(tv.t.Context(), &customerprofiles.ListProfileObjectsInput{
		DomainName: aws.String(tv.domain), ObjectTypeName: aws.String(tv.template), ProfileId: aws.String(profileID), MaxResults: aws.Int32(100)})
	if err != nil {
		tv.t.Fatalf("ListProfileObjects %s %s: %v", tv.template, profileID, err)
	}
	var ids []string
	for _, it := range out.Items {
		ids = append(ids, contactIDOf(aws.ToString(it.Object)))
	}
	return ids
}

func contactIDOf(rec string) string {
	var v struct{ ContactId string }
	json.Unmarshal([]byte(rec), &v)
	return v.ContactId
}
