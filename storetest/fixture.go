package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/openprofiles/profiles"
)

// storedTime returns what a store returns for t: t to the millisecond, in UTC.
func storedTime(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// profileID returns the i-th profile id: 32 lower-case hex characters.
func profileID(i int) string { return fmt.Sprintf("%032x", i) }

// fullObjectType returns an object type with every field set to a value
// that is not its zero value, times below the millisecond and outside UTC.
func fullObjectType(domain, name string) *profiles.ObjectType {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.ObjectType{
		DomainName:                       domain,
		Name:                             name,
		Description:                      "Contact records — « CTR » \"quoted\" <b>",
		TemplateID:                       "CTR-NoPhone",
		ExpirationDays:                   366,
		EncryptionKey:                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		AllowProfileCreation:             true,
		SourceLastUpdatedTimestampFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
		MaxProfileObjectCount:            50,
		SourcePriority:                   2,
		Fields: map[string]profiles.ObjectTypeField{
			"phone":     {Source: "_source.CustomerEndpoint.Address", Target: "_profile.PhoneNumber", ContentType: profiles.ContentPhone},
			"email":     {Source: "_source.Email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
			"name":      {Source: "{{_source.first}} {{_source.last}}", Target: "_profile.FirstName", ContentType: profiles.ContentName},
			"city":      {Source: "_source.Adresse.Ville", Target: "_profile.Address.City"},
			"tier":      {Source: "_source.tier", Target: "_profile.Attributes.tier", ContentType: profiles.ContentNumber},
			"contactId": {Source: "_source.ContactId", ContentType: profiles.ContentString},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"_phone":    {{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{"phone"}}},
			"contactId": {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"contactId"}}},
			"nameEmail": {
				{StandardIdentifiers: []string{profiles.IdentifierLookupOnly, profiles.IdentifierSecondary}, FieldNames: []string{"name", "email"}},
				{StandardIdentifiers: []string{profiles.IdentifierNewOnly}, FieldNames: []string{"email"}},
			},
		},
		Tags:          map[string]string{"team": "support", "empty": "", "ünï": "✓"},
		CreatedAt:     time.Date(2025, 3, 4, 5, 6, 7, 891234567, east),
		LastUpdatedAt: time.Date(2025, 9, 8, 7, 6, 5, 432198765, east),
	}
}

// storedObjectType returns what a store returns for ot.
func storedObjectType(ot *profiles.ObjectType) *profiles.ObjectType {
	out := *ot
	out.CreatedAt, out.LastUpdatedAt = storedTime(ot.CreatedAt), storedTime(ot.LastUpdatedAt)
	return &out
}

// fullProfile returns a profile with standard, address and attribute
// fields, values that JSON escapes, an empty value, and sources (one with a
// zero time), times below the millisecond and outside UTC.
func fullProfile(domain, id string) *profiles.Profile {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.Profile{
		DomainName: domain,
		ID:         id,
		Fields: map[string]string{
			"FirstName":             "Zoë",
			"LastName":              "O'Brien \"the\" <Great> & co\\",
			"PhoneNumber":           "+33612345678",
			"EmailAddress":          "zoe@example.com",
			"Address.City":          "Saint-Étienne",
			"Address.Address1":      "1 rue du Four\n2e étage\t\u0001",
			"Attributes.tier":       "gold",
			"Attributes.ключ":       "значение 🎉",
			"AdditionalInformation": "",
		},
		Sources: map[string]profiles.FieldSource{
			"FirstName":    {ObjectType: "CTR", Priority: 0, UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 678912345, east)},
			"PhoneNumber":  {ObjectType: "CTR", Priority: 2, UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)},
			"Address.City": {ObjectType: "Orders", Priority: 1},
		},
		CreatedAt:     time.Date(2025, 1, 1, 0, 0, 0, 999999, east),
		LastUpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 678912345, east),
	}
}

// storedProfile returns what a store returns for p.
func storedProfile(p *profiles.Profile) *profiles.Profile {
	out := *p
	out.Sources = nil
	for k, s := range p.Sources {
		if out.Sources == nil {
			out.Sources = map[string]profiles.FieldSource{}
		}
		s.UpdatedAt = storedTime(s.UpdatedAt)
		out.Sources[k] = s
	}
	out.CreatedAt, out.LastUpdatedAt = storedTime(p.CreatedAt), storedTime(p.LastUpdatedAt)
	return &out
}

// newObject returns an object of profile id with data naming it, updated
// at updated, created an hour before, and expiring never.
func newObject(domain, objectType, uniqueKey, id string, updated time.Time) *profiles.ProfileObject {
	return &profiles.ProfileObject{
		DomainName:        domain,
		ObjectTypeName:    objectType,
		UniqueKey:         uniqueKey,
		ProfileID:         id,
		Data:              fmt.Appendf(nil, `{"type":%q,"key":%q}`, objectType, uniqueKey),
		SourceLastUpdated: updated.Add(-time.Minute),
		CreatedAt:         updated.Add(-time.Hour),
		UpdatedAt:         updated,
	}
}

// storedObject returns what a store returns for o.
func storedObject(o *profiles.ProfileObject) *profiles.ProfileObject {
	out := *o
	out.SourceLastUpdated = storedTime(o.SourceLastUpdated)
	out.CreatedAt, out.UpdatedAt = storedTime(o.CreatedAt), storedTime(o.UpdatedAt)
	if !o.ExpiresAt.IsZero() {
		out.ExpiresAt = storedTime(o.ExpiresAt)
	}
	return &out
}

// objectKey returns a key produced by object o.
func objectKey(o *profiles.ProfileObject, name, value string) profiles.Key {
	return profiles.Key{DomainName: o.DomainName, Name: name, Value: value, ProfileID: o.ProfileID, Origin: o.ObjectTypeName, ObjectKey: o.UniqueKey}
}

// checkEqual reports how got differs from want, treating empty and nil
// slices and maps as equal, and times not in UTC.
func checkEqual(tb testing.TB, op string, want, got any) {
	tb.Helper()
	if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("%s: mismatch (-want +got):\n%s", op, diff)
	}
	for _, tm := range times(got) {
		if loc := tm.Location(); loc != time.UTC {
			tb.Errorf("%s: time %v in %v, want UTC", op, tm, loc)
		}
	}
}

// times returns the times held by v, a result of a Tx method.
func times(v any) []time.Time {
	var out []time.Time
	switch v := v.(type) {
	case time.Time:
		out = append(out, v)
	case *profiles.ObjectType:
		if v != nil {
			out = append(out, v.CreatedAt, v.LastUpdatedAt)
		}
	case []*profiles.ObjectType:
		for _, ot := range v {
			out = append(out, times(ot)...)
		}
	case *profiles.Profile:
		if v != nil {
			out = append(out, v.CreatedAt, v.LastUpdatedAt)
			for _, s := range v.Sources {
				out = append(out, s.UpdatedAt)
			}
		}
	case *profiles.ProfileObject:
		if v != nil {
			out = append(out, v.SourceLastUpdated, v.CreatedAt, v.UpdatedAt)
			if !v.ExpiresAt.IsZero() {
				out = append(out, v.ExpiresAt)
			}
		}
	case []*profiles.ProfileObject:
		for _, o := range v {
			out = append(out, times(o)...)
		}
	case *profiles.HistoryRecord:
		if v != nil {
			out = append(out, v.CreatedAt, v.LastUpdatedAt)
		}
	case []*profiles.HistoryRecord:
		for _, r := range v {
			out = append(out, times(r)...)
		}
	}
	return out
}

// checkNotFound fails tb unless err is ENOTFOUND with a message holding
// each of words.
func checkNotFound(tb testing.TB, op string, err error, words ...string) {
	tb.Helper()
	checkCode(tb, op, err, profiles.ENOTFOUND)
	for _, w := range words {
		if msg := profiles.ErrorMessage(err); !strings.Contains(msg, w) {
			tb.Errorf("%s: message %q does not name %q", op, msg, w)
		}
	}
}

// mustUpdate runs fn in s.Update or fails tb.
func mustUpdate(tb testing.TB, ctx context.Context, s profiles.Store, fn func(tx profiles.Tx) error) {
	tb.Helper()
	if err := s.Update(ctx, fn); err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

// mustView runs fn in s.View or fails tb.
func mustView(tb testing.TB, ctx context.Context, s profiles.Store, fn func(tx profiles.Tx) error) {
	tb.Helper()
	if err := s.View(ctx, fn); err != nil {
		tb.Fatalf("View: %v", err)
	}
}

// mustPut stores, in one Update, object types (limit 0), profiles, keys and
// objects, in this order, or fails tb. The values get the stored times.
func mustPut(tb testing.TB, ctx context.Context, s profiles.Store, values ...any) {
	tb.Helper()
	mustUpdate(tb, ctx, s, func(tx profiles.Tx) error {
		for _, pass := range []func(v any) error{
			func(v any) error {
				if ot, ok := v.(*profiles.ObjectType); ok {
					return tx.PutObjectType(ctx, ot, 0)
				}
				return nil
			},
			func(v any) error {
				if p, ok := v.(*profiles.Profile); ok {
					return tx.PutProfile(ctx, p)
				}
				return nil
			},
			func(v any) error {
				switch v := v.(type) {
				case profiles.Key:
					return tx.PutKeys(ctx, []profiles.Key{v})
				case []profiles.Key:
					return tx.PutKeys(ctx, v)
				}
				return nil
			},
			func(v any) error {
				if o, ok := v.(*profiles.ProfileObject); ok {
					return tx.PutObject(ctx, o)
				}
				return nil
			},
		} {
			for _, v := range values {
				if err := pass(v); err != nil {
					return fmt.Errorf("put %T: %w", v, err)
				}
			}
		}
		return nil
	})
}

// mustFindProfileIDs returns FindProfileIDs(domain, name, value) or fails tb.
func mustFindProfileIDs(tb testing.TB, ctx context.Context, s profiles.Store, domain, name, value string) []string {
	tb.Helper()
	var ids []string
	mustView(tb, ctx, s, func(tx profiles.Tx) (err error) {
		ids, err = tx.FindProfileIDs(ctx, domain, name, value)
		return err
	})
	return ids
}

// mustListKeys returns the keys of a profile, sorted, or fails tb.
func mustListKeys(tb testing.TB, ctx context.Context, s profiles.Store, domain, id string) []profiles.Key {
	tb.Helper()
	var keys []profiles.Key
	mustView(tb, ctx, s, func(tx profiles.Tx) (err error) {
		keys, err = tx.ListKeys(ctx, domain, id)
		return err
	})
	sortKeys(keys)
	return keys
}

// sortKeys sorts keys by every field.
func sortKeys(keys []profiles.Key) {
	slices.SortFunc(keys, func(a, b profiles.Key) int {
		return cmp.Or(cmp.Compare(a.DomainName, b.DomainName), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Value, b.Value),
			cmp.Compare(a.ProfileID, b.ProfileID), cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.ObjectKey, b.ObjectKey))
	})
}

// sortedKeys returns keys sorted, as mustListKeys returns them.
func sortedKeys(keys ...profiles.Key) []profiles.Key {
	out := slices.Clone(keys)
	sortKeys(out)
	return out
}

// findObject returns FindObject's results in a View.
func findObject(tb testing.TB, ctx context.Context, s profiles.Store, domain, objectType, uniqueKey string) (*profiles.ProfileObject, error) {
	tb.Helper()
	var o *profiles.ProfileObject
	var ferr error
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		o, ferr = tx.FindObject(ctx, domain, objectType, uniqueKey)
		return nil
	})
	return o, ferr
}

// mustListObjects returns ListObjects(q) or fails tb.
func mustListObjects(tb testing.TB, ctx context.Context, s profiles.Store, q profiles.ObjectQuery) []*profiles.ProfileObject {
	tb.Helper()
	var os []*profiles.ProfileObject
	mustView(tb, ctx, s, func(tx profiles.Tx) (err error) {
		os, err = tx.ListObjects(ctx, q)
		return err
	})
	return os
}

// uniqueKeys returns the unique keys of os.
func uniqueKeys(os []*profiles.ProfileObject) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.UniqueKey)
	}
	return out
}

// mustUsage returns ProfileUsage or fails tb.
func mustUsage(tb testing.TB, ctx context.Context, s profiles.Store, domain, id, objectType string) profiles.ProfileUsage {
	tb.Helper()
	var u profiles.ProfileUsage
	mustView(tb, ctx, s, func(tx profiles.Tx) (err error) {
		u, err = tx.ProfileUsage(ctx, domain, id, objectType)
		return err
	})
	return u
}

// mustStats returns DomainStats or fails tb.
func mustStats(tb testing.TB, ctx context.Context, s profiles.Store, domain string) profiles.DomainStats {
	tb.Helper()
	st, err := s.DomainStats(ctx, domain)
	if err != nil {
		tb.Fatalf("DomainStats(%q): %v", domain, err)
	}
	return *st
}

// profileBytes is what p counts in DomainStats.TotalSize.
func profileBytes(p *profiles.Profile) int64 {
	var n int64
	for k, v := range p.Fields {
		n += int64(len(k) + len(v))
	}
	return n
}

// historyID returns the i-th history record id: 32 lower-case hex
// characters, unlike any profileID.
func historyID(i int) string { return fmt.Sprintf("%032x", 0xa1_0000+i) }

// fullHistory returns a history record with every field set to a value
// that is not its zero value, content that is neither JSON nor UTF-8 and
// holds a NUL byte, times below the millisecond and outside UTC.
func fullHistory(domain, profileID, id string) *profiles.HistoryRecord {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.HistoryRecord{
		DomainName:     domain,
		ProfileID:      profileID,
		ID:             id,
		ActionType:     profiles.ActionIngested,
		ObjectTypeName: "CTR",
		ObjectKey:      "contact-1 « é »",
		PerformedBy:    "arn:aws:iam::123456789012:role/Agent",
		Content:        []byte("{\"a\": \"é\\u00e9\"}\x00\xff\xfe not JSON \x80"),
		CreatedAt:      time.Date(2026, 5, 1, 8, 0, 0, 123456789, east),
		LastUpdatedAt:  time.Date(2026, 5, 1, 8, 0, 1, 999999, east),
	}
}

// newHistory returns a record of a profile with the given action, object
// type and performer, created at created.
func newHistory(domain, profileID, id, action, objectType, performedBy string, created time.Time) *profiles.HistoryRecord {
	return &profiles.HistoryRecord{
		DomainName: domain, ProfileID: profileID, ID: id,
		ActionType: action, ObjectTypeName: objectType, PerformedBy: performedBy,
		Content:   fmt.Appendf(nil, `{"id":%q}`, id),
		CreatedAt: created, LastUpdatedAt: created,
	}
}

// storedHistory returns what a store returns for r.
func storedHistory(r *profiles.HistoryRecord) *profiles.HistoryRecord {
	out := *r
	out.CreatedAt, out.LastUpdatedAt = storedTime(r.CreatedAt), storedTime(r.LastUpdatedAt)
	return &out
}

// findHistory returns FindHistory's results in a View.
func findHistory(tb testing.TB, ctx context.Context, s profiles.Store, domain, profileID, id string) (*profiles.HistoryRecord, error) {
	tb.Helper()
	var r *profiles.HistoryRecord
	var ferr error
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		r, ferr = tx.FindHistory(ctx, domain, profileID, id)
		return nil
	})
	return r, ferr
}

// mustListHistory returns ListHistory(q) or fails tb.
func mustListHistory(tb testing.TB, ctx context.Context, s profiles.Store, q profiles.HistoryQuery) []*profiles.HistoryRecord {
	tb.Helper()
	var rs []*profiles.HistoryRecord
	mustView(tb, ctx, s, func(tx profiles.Tx) (err error) {
		rs, err = tx.ListHistory(ctx, q)
		return err
	})
	return rs
}

// mustPutHistory adds records in one Update or fails tb. The records get
// the stored times.
func mustPutHistory(tb testing.TB, ctx context.Context, s profiles.Store, rs ...*profiles.HistoryRecord) {
	tb.Helper()
	mustUpdate(tb, ctx, s, func(tx profiles.Tx) error {
		for _, r := range rs {
			if err := tx.PutHistory(ctx, r); err != nil {
				return fmt.Errorf("PutHistory(%q): %w", r.ID, err)
			}
		}
		return nil
	})
}

// historyIDs returns the ids of rs.
func historyIDs(rs []*profiles.HistoryRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
