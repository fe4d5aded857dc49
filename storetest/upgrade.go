package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The migration tests of each store open a database of an earlier schema
// version that holds UpgradeData (a fixture of rows, testdata/schemaN.sql
// of the store's package, which the store of version N wrote) and check
// with CheckUpgrade that the upgraded store reads it back and works on it.
// When a migration is added, the fixture of the version before it is made
// the same way: run the store of that version on UpgradeData, dump its
// rows as INSERT statements (sqlite3 .dump; pg_dump --data-only
// --column-inserts) without schema_migrations.

// UpgradeData returns what the previous-schema fixtures of the stores
// (testdata/schema*.sql of packages sqlite and postgres) hold, as the
// store of that version wrote it (with no Sealer): a domain, an object
// type, a profile with a key, an object and a history record.
func UpgradeData() (*profiles.Domain, *profiles.ObjectType, *profiles.Profile, profiles.Key, *profiles.ProfileObject, *profiles.HistoryRecord) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 123_000_000, time.UTC)
	d := &profiles.Domain{Name: "upgrade", DefaultExpirationDays: 30, DeadLetterQueueURL: "http://127.0.0.1:8720/000000000000/dlq",
		RuleBasedMatching: &profiles.RuleBasedMatchingSettings{Enabled: true, MatchingRules: [][]string{{"EmailAddress"}}},
		Tags:              map[string]string{"team": "ops"}, CreatedAt: at, LastUpdatedAt: at}
	t := &profiles.ObjectType{DomainName: "upgrade", Name: "contact", Description: "CRM contacts", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{
			"id":    {Source: "_source.id", ContentType: "STRING"},
			"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: "EMAIL_ADDRESS"},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"contactId": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}},
			"_email":    {{StandardIdentifiers: []string{"PROFILE"}, FieldNames: []string{"email"}}},
		},
		Tags: map[string]string{"k": "v"}, CreatedAt: at, LastUpdatedAt: at}
	p := &profiles.Profile{DomainName: "upgrade", ID: "0123456789abcdef0123456789abcdef",
		Fields:    map[string]string{"EmailAddress": "zoe@example.com", "FirstName": "Zoë"},
		Sources:   map[string]profiles.FieldSource{"EmailAddress": {ObjectType: "contact", UpdatedAt: at}},
		CreatedAt: at, LastUpdatedAt: at}
	k := profiles.Key{DomainName: "upgrade", Name: "_email", Value: "zoe@example.com", ProfileID: p.ID, Origin: "contact", ObjectKey: "contact_contactId_c1"}
	o := &profiles.ProfileObject{DomainName: "upgrade", ObjectTypeName: "contact", UniqueKey: "contact_contactId_c1", ProfileID: p.ID,
		Data: []byte(`{"id":"c1","email":"zoe@example.com"}`), SourceLastUpdated: at, CreatedAt: at, UpdatedAt: at, ExpiresAt: at.AddDate(1, 0, 0)}
	h := &profiles.HistoryRecord{DomainName: "upgrade", ProfileID: p.ID, ID: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", ActionType: "INGESTED",
		ObjectTypeName: "contact", ObjectKey: o.UniqueKey, PerformedBy: "contact", Content: o.Data, CreatedAt: at, LastUpdatedAt: at}
	return d, t, p, k, o, h
}

// UpgradeClock is a clock for the store under CheckUpgrade: after the
// fixture was written, before its object expires.
func UpgradeClock() time.Time { return time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC) }

// PutUpgradeData writes UpgradeData into s, as the fixtures hold it.
func PutUpgradeData(tb testing.TB, s profiles.Store) {
	tb.Helper()
	ctx := context.Background()
	d, t, p, k, o, h := UpgradeData()
	if err := s.CreateDomain(ctx, d, 0); err != nil {
		tb.Fatalf("CreateDomain: %v", err)
	}
	mustUpdate(tb, ctx, s, func(tx profiles.Tx) error {
		if err := tx.PutObjectType(ctx, t, 0); err != nil {
			return err
		}
		if err := tx.PutProfile(ctx, p); err != nil {
			return err
		}
		if err := tx.PutObject(ctx, o); err != nil {
			return err
		}
		if err := tx.PutKeys(ctx, []profiles.Key{k}); err != nil {
			return err
		}
		return tx.PutHistory(ctx, h)
	})
}

// CheckUpgrade checks that s, whose clock is UpgradeClock, holds
// UpgradeData, and that it writes on it: a second object, an ingest bucket
// (migration 0008) of the profile, and a whole copy of a dead letter of the
// domain (migration 0014).
func CheckUpgrade(tb testing.TB, s profiles.Store) {
	tb.Helper()
	ctx := context.Background()
	d, t, p, k, o, h := UpgradeData()
	got, err := s.FindDomain(ctx, d.Name)
	if err != nil {
		tb.Fatalf("FindDomain: %v", err)
	}
	checkDomain(tb, "FindDomain", got, d)
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		if got, err := tx.FindObjectType(ctx, d.Name, t.Name); err != nil {
			tb.Errorf("FindObjectType: %v", err)
		} else {
			checkEqual(tb, "FindObjectType", t, got)
		}
		if got, err := tx.FindProfile(ctx, d.Name, p.ID); err != nil {
			tb.Errorf("FindProfile: %v", err)
		} else {
			checkEqual(tb, "FindProfile", p, got)
		}
		if ids, err := tx.FindProfileIDs(ctx, d.Name, k.Name, k.Value); err != nil {
			tb.Errorf("FindProfileIDs: %v", err)
		} else {
			checkEqual(tb, "FindProfileIDs", []string{p.ID}, ids)
		}
		if got, err := tx.FindObject(ctx, d.Name, o.ObjectTypeName, o.UniqueKey); err != nil {
			tb.Errorf("FindObject: %v", err)
		} else {
			checkEqual(tb, "FindObject", o, got)
		}
		if got, err := tx.FindHistory(ctx, d.Name, p.ID, h.ID); err != nil {
			tb.Errorf("FindHistory: %v", err)
		} else {
			checkEqual(tb, "FindHistory", h, got)
		}
		return nil
	})

	o2 := newObject(d.Name, o.ObjectTypeName, "contact_contactId_c2", p.ID, UpgradeClock())
	bucket := &profiles.IngestBucket{DomainName: d.Name, ProfileID: p.ID, Tokens: 7.5, UpdatedAt: UpgradeClock()}
	mustUpdate(tb, ctx, s, func(tx profiles.Tx) error {
		if err := tx.PutObject(ctx, o2); err != nil {
			return err
		}
		return tx.PutIngestBucket(ctx, bucket)
	})
	if got, err := findBucket(tb, ctx, s, d.Name, p.ID); err != nil {
		tb.Errorf("FindIngestBucket: %v", err)
	} else {
		checkEqual(tb, "FindIngestBucket", bucket, got)
	}
	stats, err := s.DomainStats(ctx, d.Name)
	if err != nil {
		tb.Fatalf("DomainStats: %v", err)
	}
	if stats.ProfileCount != 1 || stats.ObjectCount != 2 {
		tb.Errorf("DomainStats: %d profiles, %d objects; want 1 and 2", stats.ProfileCount, stats.ObjectCount)
	}

	cs, ok := s.(profiles.DeadLetterCopyStore)
	if !ok {
		tb.Fatalf("%T is no profiles.DeadLetterCopyStore", s)
	}
	c := &profiles.DeadLetterCopy{DomainName: d.Name, Name: "0123456789abcdef0123456789abcdef", Data: []byte("sealed\x00copy")}
	if err := cs.PutDeadLetterCopy(ctx, c); err != nil {
		tb.Fatalf("PutDeadLetterCopy: %v", err)
	}
	want := &profiles.DeadLetterCopy{DomainName: d.Name, Name: c.Name, Data: []byte("sealed\x00copy"), CreatedAt: UpgradeClock()}
	if got, err := cs.FindDeadLetterCopy(ctx, d.Name, c.Name); err != nil {
		tb.Errorf("FindDeadLetterCopy: %v", err)
	} else {
		checkEqual(tb, "FindDeadLetterCopy", want, got)
	}
	if n, err := cs.DeleteDeadLetterCopiesBefore(ctx, UpgradeClock().Add(time.Millisecond), 0); err != nil || n != 1 {
		tb.Errorf("DeleteDeadLetterCopiesBefore = %d, %v; want 1", n, err)
	}
}

// UpgradeStreamEvents returns the events of an event stream the fixtures
// of schema version 12 and later hold besides UpgradeData, as the store of
// that version wrote them (PutStreamEvents), before a ClaimStreamEvents at
// the first event's CreatedAt with a limit of one: the first was claimed
// (Attempts 1), the second never was. Version 12 kept the claim on the
// event (a lease of two hours: past UpgradeClock; migration 0013 drops
// it); version 13 keeps it on the stream, and its fixture's claim (a lease
// of 30 minutes) lapsed before UpgradeClock.
func UpgradeStreamEvents() []*profiles.StreamEvent {
	at := time.Date(2026, 5, 1, 10, 0, 0, 123_000_000, time.UTC)
	const profile = "0123456789abcdef0123456789abcdef"
	return []*profiles.StreamEvent{
		{DomainName: "upgrade", StreamName: "orders#01", ID: "e1e1e1e1-0000-4000-8000-000000000001", Seq: 1, PartitionKey: profile,
			Data: []byte(`{"EventId":"e1"}`), CreatedAt: at, Attempts: 1},
		{DomainName: "upgrade", StreamName: "orders#01", ID: "e2e2e2e2-0000-4000-8000-000000000002", Seq: 2, PartitionKey: profile,
			Data: []byte(`{"EventId":"e2"}`), CreatedAt: at.Add(time.Millisecond)},
	}
}

// CheckUpgradeStreamEvents checks that s, whose clock is UpgradeClock and
// which was upgraded from a fixture holding UpgradeStreamEvents, delivers
// them: a claim at UpgradeClock takes both, in order, with one more
// attempt each (the claim an event held before the upgrade is gone: the
// event goes again, at least once), finishing the claim leaves none, and a
// new event takes a Seq after theirs.
func CheckUpgradeStreamEvents(tb testing.TB, s profiles.Store) {
	tb.Helper()
	ctx := context.Background()
	out, ok := s.(profiles.EventOutbox)
	if !ok {
		tb.Fatalf("%T is no profiles.EventOutbox", s)
	}
	now, lease := UpgradeClock(), 30*time.Second
	want := UpgradeStreamEvents()
	for _, e := range want {
		e.Attempts++
		e.ClaimedUntil = now.Add(lease)
	}
	got, dropped, err := out.ClaimStreamEvents(ctx, now, lease, 24*time.Hour, 10)
	if err != nil {
		tb.Fatalf("ClaimStreamEvents: %v", err)
	}
	if dropped != 0 {
		tb.Errorf("ClaimStreamEvents dropped %d events, want 0", dropped)
	}
	checkEqual(tb, "ClaimStreamEvents", want, got)
	if len(got) == 0 {
		return
	}
	if err := out.FinishStreamClaim(ctx, "upgrade", "orders#01", got[0].ClaimedUntil, []int64{1, 2}, true); err != nil {
		tb.Fatalf("FinishStreamClaim: %v", err)
	}
	if n, err := out.CountStreamEvents(ctx, "upgrade", "orders#01"); err != nil || n != 0 {
		tb.Errorf("CountStreamEvents after delivery = %d, %v; want 0", n, err)
	}
	e := &profiles.StreamEvent{DomainName: "upgrade", StreamName: "orders#01", ID: "e3", PartitionKey: "p", Data: []byte(`{}`), CreatedAt: now}
	mustUpdate(tb, ctx, s, func(tx profiles.Tx) error { return tx.PutStreamEvents(ctx, []*profiles.StreamEvent{e}) })
	if e.Seq <= 2 {
		tb.Errorf("a new event's Seq = %d, want more than 2 (the fixture's)", e.Seq)
	}
}
