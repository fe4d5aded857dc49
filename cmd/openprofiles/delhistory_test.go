package main_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// getRecord returns one history record of profile id through
// GetProfileHistoryRecord.
func (e *ingestEnv) getRecord(id string, rec *string) *customerprofiles.GetProfileHistoryRecordOutput {
	e.t.Helper()
	got, err := e.client.GetProfileHistoryRecord(e.t.Context(), &customerprofiles.GetProfileHistoryRecordInput{
		DomainName: aws.String(e.domain), ProfileId: aws.String(id), Id: rec})
	if err != nil {
		e.t.Fatalf("GetProfileHistoryRecord(%s): %v", aws.ToString(rec), err)
	}
	return got
}

// TestDelete_ObjectClearsItsHistory: DeleteProfileObject (a customer's
// deletion, for a privacy request say) takes the object out of the
// profile's history too: its INGESTED records (one for each version) stay,
// without their content, and a DELETED_BY_CUSTOMER record of the object
// (its type and key, the caller, no content) tells of the deletion. The
// profile's other records keep theirs.
func TestDelete_ObjectClearsItsHistory(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	e.putType(contactType("contact"))
	e.putType(contactType("other"))
	key := e.mustPut("contact", map[string]any{"id": "c1", "email": "del@example.com", "secret": "first version"})
	e.mustPut("contact", map[string]any{"id": "c1", "email": "del@example.com", "secret": "second version"})
	e.mustPut("other", map[string]any{"id": "o1", "email": "del@example.com", "note": "stays"})
	pid := aws.ToString(e.mustOne("_email", "del@example.com").ProfileId)
	before := map[string]string{}
	for _, h := range e.history(pid) {
		before[aws.ToString(h.Id)] = aws.ToString(e.getRecord(pid, h.Id).Content)
	}

	if _, err := e.client.DeleteProfileObject(ctx, &customerprofiles.DeleteProfileObjectInput{DomainName: aws.String(e.domain),
		ProfileId: aws.String(pid), ObjectTypeName: aws.String("contact"), ProfileObjectUniqueKey: aws.String(key)}); err != nil {
		t.Fatalf("DeleteProfileObject: %v", err)
	}

	all := e.history(pid)
	if got, want := actions(all), []string{"CREATED", "DELETED_BY_CUSTOMER", "INGESTED", "INGESTED", "INGESTED"}; !slices.Equal(got, want) {
		t.Fatalf("history actions = %v, want %v", got, want)
	}
	var created types.ProfileHistoryRecord
	for _, h := range all {
		if h.ActionType == types.ActionTypeCreated {
			created = h
		}
	}
	cleared := 0
	for _, h := range all {
		got := e.getRecord(pid, h.Id)
		content := aws.ToString(got.Content)
		switch {
		case h.ActionType == types.ActionTypeDeletedByCustomer:
			if aws.ToString(h.ObjectTypeName) != "contact" || aws.ToString(h.ProfileObjectUniqueKey) != key {
				t.Errorf("DELETED_BY_CUSTOMER record of %s/%s, want contact/%s", aws.ToString(h.ObjectTypeName), aws.ToString(h.ProfileObjectUniqueKey), key)
			}
			if by := aws.ToString(h.PerformedBy); by == "" || by != aws.ToString(created.PerformedBy) {
				t.Errorf("DELETED_BY_CUSTOMER PerformedBy = %q, want the caller %q", by, aws.ToString(created.PerformedBy))
			}
			if got.Content != nil {
				t.Errorf("DELETED_BY_CUSTOMER record holds %s, want no content", content)
			}
		case aws.ToString(h.ObjectTypeName) == "contact":
			cleared++
			if got.Content != nil {
				t.Errorf("INGESTED record of the deleted object still holds %s", content)
			}
			if !strings.Contains(before[aws.ToString(h.Id)], "version") {
				t.Errorf("INGESTED record %s held %q before the deletion, want the object", aws.ToString(h.Id), before[aws.ToString(h.Id)])
			}
			if got.ActionType != types.ActionTypeIngested || aws.ToString(got.ProfileObjectUniqueKey) != key {
				t.Errorf("cleared record: %s %s, want INGESTED %s (kept)", got.ActionType, aws.ToString(got.ProfileObjectUniqueKey), key)
			}
		default: // the other object's INGESTED, the profile's CREATED
			if content == "" || content != before[aws.ToString(h.Id)] {
				t.Errorf("%s record of %s: content %q, want it as before (%q)", h.ActionType, aws.ToString(h.ObjectTypeName), content, before[aws.ToString(h.Id)])
			}
		}
	}
	if cleared != 2 {
		t.Errorf("%d INGESTED records of the deleted object, want 2 (one a version)", cleared)
	}
}

// TestDelete_ProfileClearsItsHistory: DeleteProfile takes every piece of
// the profile's data out of its history: its fields (CREATED, UPDATED,
// MERGED records), its objects as ingested (INGESTED), its keys' values
// (ADDED_PROFILE_KEY); the records stay, with their action, times, object
// type and key, and performer, and the DELETED_BY_CUSTOMER record has no
// content either.
func TestDelete_ProfileClearsItsHistory(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "gone@example.com", "secret": "ingested data"})
	pid := aws.ToString(e.mustOne("_email", "gone@example.com").ProfileId)
	if _, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(pid),
		FirstName: aws.String("Private"), Attributes: map[string]string{"ssn": "123-45-6789"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AddProfileKey(ctx, &customerprofiles.AddProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(pid),
		KeyName: aws.String("_phone"), Values: []string{"+15550100"}}); err != nil {
		t.Fatal(err)
	}
	merged := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Twin")})
	if _, err := e.client.MergeProfiles(ctx, &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain),
		MainProfileId: aws.String(pid), ProfileIdsToBeMerged: []string{merged}}); err != nil {
		t.Fatalf("MergeProfiles: %v", err)
	}
	before := e.history(pid)
	for _, h := range before {
		if e.getRecord(pid, h.Id).Content == nil {
			t.Fatalf("%s record without content before the deletion", h.ActionType)
		}
	}

	if _, err := e.client.DeleteProfile(ctx, &customerprofiles.DeleteProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(pid)}); err != nil {
		t.Fatal(err)
	}

	after := e.history(pid)
	if got, want := actions(after), []string{"ADDED_PROFILE_KEY", "CREATED", "DELETED_BY_CUSTOMER", "INGESTED", "MERGED", "UPDATED"}; !slices.Equal(got, want) {
		t.Fatalf("history actions after DeleteProfile = %v, want %v", got, want)
	}
	was := map[string]types.ProfileHistoryRecord{}
	for _, h := range before {
		was[aws.ToString(h.Id)] = h
	}
	for _, h := range after {
		got := e.getRecord(pid, h.Id)
		if got.Content != nil {
			t.Errorf("%s record still holds %s after DeleteProfile", h.ActionType, aws.ToString(got.Content))
		}
		if h.ActionType == types.ActionTypeDeletedByCustomer {
			if aws.ToString(h.ObjectTypeName) != "_profile" || aws.ToString(h.PerformedBy) == "" {
				t.Errorf("DELETED_BY_CUSTOMER record: type %q, performer %q", aws.ToString(h.ObjectTypeName), aws.ToString(h.PerformedBy))
			}
			continue
		}
		// The rest are the records of before, as they were but for their
		// content.
		w, ok := was[aws.ToString(h.Id)]
		if !ok {
			t.Errorf("record %s %s was not there before", h.ActionType, aws.ToString(h.Id))
			continue
		}
		if got.ActionType != w.ActionType || aws.ToString(got.ObjectTypeName) != aws.ToString(w.ObjectTypeName) ||
			aws.ToString(got.ProfileObjectUniqueKey) != aws.ToString(w.ProfileObjectUniqueKey) ||
			aws.ToString(got.PerformedBy) != aws.ToString(w.PerformedBy) || !aws.ToTime(got.CreatedAt).Equal(aws.ToTime(w.CreatedAt)) {
			t.Errorf("record %s changed: %+v, was %+v", aws.ToString(h.Id), got, w)
		}
	}
}
