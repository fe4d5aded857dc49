// Package storetest is the conformance suite of profiles.Store: every
// implementation runs the same cases from its own tests.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(tb testing.TB, now func() time.Time) profiles.Store {
//			return MustOpenDB(tb, now) // a new, empty store whose clock is now
//		})
//	}
//
// Every store is opened with a clock of the suite's (now): it starts at
// 2026-06-01T12:00:00Z and moves only when a case moves it, which is how the
// cases test expiry. A store must use it wherever the contract says "the
// store's current time" or "the store's clock".
//
// Besides the contract written on profiles.Store and profiles.Tx, the suite
// holds every store to these rules, so that the service sees the same
// behaviour whatever the store:
//
//   - Times are kept to the millisecond and read back in UTC: a stored
//     time t reads back as t.Truncate(time.Millisecond).UTC(). The zero
//     time reads back as the zero time.
//   - Empty slices and maps may read back as nil, and nil or empty Tags
//     both mean "no tags".
//   - A limit <= 0 means no limit (ListDomains, ListObjectTypes,
//     ListObjects, ListHistory, DeleteExpired).
//
// Domains:
//
//   - CreateDomain sets a zero CreatedAt to the store's current time and a
//     zero LastUpdatedAt to CreatedAt, and on success leaves in d the times
//     as stored. Other fields, and UpdateDomain results, are stored as given.
//   - Nil settings (Matching, RuleBasedMatching, DataStore and any nested
//     pointer) read back as nil.
//   - UpdateDomain returns the domain as FindDomain would return it, and
//     returns EINVALID, changing nothing, if fn changes the name.
//   - DomainStats: TotalSize is the sum of len(Data) of the domain's live
//     objects plus, for each profile, the sum of len(name)+len(value) of its
//     Fields. MeteringProfileCount counts each profile as
//     max(1, ⌈live objects/100⌉) profiles: 1 for 0–100 objects, 2 for
//     101–200, 3 for 201–300.
//
// Transactions (Update, View, Tx):
//
//   - Every Tx method returns ENOTFOUND for a missing domain, whose message
//     names the domain, even where it would otherwise return nothing
//     (ListObjectTypes, FindProfileIDs, ListKeys, DeleteKeys,
//     DeleteKeyValues, ListObjects, ProfileUsage, ListHistory). A Find or Delete of a missing item returns ENOTFOUND
//     naming the item. A missing profile is not an error where the profile
//     is only a filter: it has no keys, no objects and no usage.
//   - After a Find returns ENOTFOUND, fn may go on using tx (find or
//     create). After a writing method returns an error, fn returns an
//     error: a store may have aborted its transaction (PostgreSQL does on
//     a constraint violation). The suite never goes on.
//   - Writing methods in View return an error (any code) and change nothing.
//   - Put methods set CreatedAt and LastUpdatedAt (UpdatedAt) of their
//     argument to the times as stored. PutObjectType keeps the CreatedAt of
//     the type it replaces; PutProfile and PutObject store CreatedAt as
//     given, but a zero one keeps that of the row replaced, or becomes the
//     store's current time for a new row. A zero LastUpdatedAt (UpdatedAt)
//     becomes the store's current time.
//   - PutProfile replaces Fields and Sources as a whole. PutObject replaces
//     every field of an object of the same type and unique key, profile
//     included, and leaves keys alone; ListObjects then lists it under its
//     new profile only.
//   - An object is expired when its ExpiresAt is not zero and is at or
//     before the store's clock. Reads do not see it, nor the keys it
//     produced (keys with Origin its type and ObjectKey its UniqueKey), nor
//     its data in usage and statistics; DeleteObject returns ENOTFOUND.
//     PutObject over an expired object first drops it and its keys, as
//     DeleteExpired would have. DeleteExpired compares with its argument
//     now, not with the clock.
//   - DeleteObject deletes the keys its object produced on its profile;
//     DeleteObjectType deletes the type's definition only, and returns
//     ENOTFOUND for a type with no definition (a template used by name);
//     DeleteTypeObjects deletes objects of a type (defined or not) page by
//     page, with the keys they produced.
//   - DeleteKeys deleting nothing is not an error. ListKeys returns keys in
//     an order of the store's; the suite sorts them.
//   - ListObjects with a FilterKey and no FilterValues returns nothing. A
//     filter matches keys of the listed profile only.
//   - DeleteKeyValues counts the keys it deleted that reads saw: keys of
//     expired objects are not counted (whether they are deleted then or by
//     DeleteExpired is the store's choice). No values delete nothing.
//   - MoveProfileData moves every object of from (expired ones too, with
//     their keys) and keeps the objects' times; it returns EINVALID when
//     from is to, and ENOTFOUND naming the missing domain or profile.
//
// History:
//
//   - PutHistory does not need the profile to exist; DeleteProfile keeps
//     the profile's history, DeleteDomain deletes it. A record's id already
//     held by the same domain and profile gives ECONFLICT. Zero times
//     become the store's current time, and the stored times are written
//     back into the record. Content reads back byte for byte.
//   - ListHistory pages like ListObjects: newest (CreatedAt, then ID, both
//     descending) first, strictly after the position AfterCreatedAt/AfterID
//     when either is set. Its filters compare whole values, case-sensitively.
//
// Concurrency cases are named Concurrent…; run them alone, many times, with
// e.g. go test -race -count=20 -run 'Store//Concurrent'.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/openprofiles/profiles"
)

// OpenFunc returns a new, empty store whose clock is now. The suite calls
// it once per case and closes the store.
type OpenFunc func(tb testing.TB, now func() time.Time) profiles.Store

// Run runs the suite.
func Run(t *testing.T, open OpenFunc) {
	t.Run("Ping", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := mustOpen(t, open)
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		})
	})
	t.Run("CreateDomain", func(t *testing.T) { testCreateDomain(t, open) })
	t.Run("FindDomain", func(t *testing.T) { testFindDomain(t, open) })
	t.Run("UpdateDomain", func(t *testing.T) { testUpdateDomain(t, open) })
	t.Run("DeleteDomain", func(t *testing.T) { testDeleteDomain(t, open) })
	t.Run("DomainPurge", func(t *testing.T) { testDomainPurge(t, open) })
	t.Run("ListDomains", func(t *testing.T) { testListDomains(t, open) })
	t.Run("DomainStats", func(t *testing.T) { testDomainStats(t, open) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, open) })
	t.Run("View", func(t *testing.T) { testView(t, open) })
	t.Run("ObjectType", func(t *testing.T) { testObjectType(t, open) })
	t.Run("Profile", func(t *testing.T) { testProfile(t, open) })
	t.Run("Key", func(t *testing.T) { testKey(t, open) })
	t.Run("Object", func(t *testing.T) { testObject(t, open) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, open) })
	t.Run("MoveProfileData", func(t *testing.T) { testMoveProfileData(t, open) })
	t.Run("History", func(t *testing.T) { testHistory(t, open) })
	t.Run("KMS", func(t *testing.T) { testKMS(t, open) })
	t.Run("IAM", func(t *testing.T) { testIAM(t, open) })
	t.Run("Queue", func(t *testing.T) { testQueue(t, open) })
	t.Run("Integration", func(t *testing.T) { testIntegration(t, open) })
	t.Run("Config", func(t *testing.T) { testConfig(t, open) })
	t.Run("StreamEvents", func(t *testing.T) { testStreamEvents(t, open) })
	t.Run("DeadLetterCopies", func(t *testing.T) { testDeadLetterCopies(t, open) })
	t.Run("ServerSettings", func(t *testing.T) { testServerSettings(t, open) })
	t.Run("IngestBucket", func(t *testing.T) { testIngestBucket(t, open) })
	t.Run("TakeIngestToken", func(t *testing.T) { testTakeIngestToken(t, open) })
}

// clock is the clock of a store under test. It starts at clockStart and
// moves only when a case moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// clockStart is where every store's clock starts.
func clockStart() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set sets the clock to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// mustOpen opens a store and closes it when t ends.
func mustOpen(t *testing.T, open OpenFunc) profiles.Store {
	t.Helper()
	s, _ := mustOpenClock(t, open)
	return s
}

// mustOpenClock opens a store and closes it when t ends, and returns its clock.
func mustOpenClock(t *testing.T, open OpenFunc) (profiles.Store, *clock) {
	t.Helper()
	c := &clock{now: clockStart()}
	s := open(t, c.Now)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, c
}

// fullDomain returns a domain named name with every field set to a value
// that is not its zero value (CreateDomain/OK checks that it stays so when
// Domain grows), times below the millisecond and outside UTC.
func fullDomain(name string) *profiles.Domain {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.Domain{
		Name:                  name,
		DefaultExpirationDays: 366,
		DefaultEncryptionKey:  "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		DeadLetterQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/" + name + "-dlq",
		Matching: &profiles.MatchingSettings{
			Enabled:     true,
			JobSchedule: &profiles.JobSchedule{DayOfTheWeek: "SUNDAY", Time: "03:30"},
			AutoMerging: &profiles.AutoMerging{
				Enabled: true,
				Consolidation: &profiles.Consolidation{MatchingAttributesList: [][]string{
					{"PhoneNumber"},
					{"EmailAddress", "FirstName", "LastName"},
				}},
				ConflictResolution:                  &profiles.ConflictResolution{ConflictResolvingModel: "SOURCE", SourceName: "CTR"},
				MinAllowedConfidenceScoreForMerging: new(0.30000000000000004), // needs 17 digits
			},
			ExportingConfig: &profiles.ExportingConfig{S3Exporting: &profiles.S3Exporting{
				S3BucketName: "matches", S3KeyName: "exports/" + name + "/",
			}},
		},
		RuleBasedMatching: &profiles.RuleBasedMatchingSettings{
			Enabled:                        true,
			MatchingRules:                  [][]string{{"Address.City", "PhoneNumber"}, {"EmailAddress"}},
			Status:                         "ACTIVE",
			MaxAllowedRuleLevelForMerging:  new(1),
			MaxAllowedRuleLevelForMatching: new(2),
			AttributeTypesSelector: &profiles.AttributeTypesSelector{
				AttributeMatchingModel: "MANY_TO_MANY",
				Address:                []string{"Address", "ShippingAddress"},
				PhoneNumber:            []string{"PhoneNumber", "MobilePhoneNumber"},
				EmailAddress:           []string{"EmailAddress", "PersonalEmailAddress"},
			},
			ConflictResolution: &profiles.ConflictResolution{ConflictResolvingModel: "RECENCY", SourceName: "web"},
			ExportingConfig: &profiles.ExportingConfig{S3Exporting: &profiles.S3Exporting{
				S3BucketName: "rules", S3KeyName: "rules/",
			}},
		},
		DataStore: &profiles.DataStoreSettings{
			Enabled:   true,
			Readiness: &profiles.Readiness{ProgressPercentage: new(0), Message: "préparation… \"quoted\""},
		},
		Tags:          map[string]string{"team": "support", "env": "prod", "empty": "", "ünï": "✓"},
		CreatedAt:     time.Date(2024, 2, 29, 23, 59, 58, 123456789, east),
		LastUpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 987654321, east),
	}
}

// stored returns what a store returns for d: times to the millisecond in UTC.
func stored(d *profiles.Domain) *profiles.Domain {
	out := *d
	out.CreatedAt = d.CreatedAt.Truncate(time.Millisecond).UTC()
	out.LastUpdatedAt = d.LastUpdatedAt.Truncate(time.Millisecond).UTC()
	return &out
}

// checkDomain reports how got differs from want, and a time not in UTC.
func checkDomain(tb testing.TB, op string, got, want *profiles.Domain) {
	tb.Helper()
	if got == nil {
		tb.Errorf("%s: got nil domain, want %q", op, want.Name)
		return
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("%s: domain mismatch (-want +got):\n%s", op, diff)
	}
	if loc := got.CreatedAt.Location(); loc != time.UTC {
		tb.Errorf("%s: CreatedAt location=%v, want UTC", op, loc)
	}
	if loc := got.LastUpdatedAt.Location(); loc != time.UTC {
		tb.Errorf("%s: LastUpdatedAt location=%v, want UTC", op, loc)
	}
}

// checkCode fails tb unless err has the error code want.
func checkCode(tb testing.TB, op string, err error, want string) {
	tb.Helper()
	if got := profiles.ErrorCode(err); got != want {
		tb.Fatalf("%s: code=%q, want %q (err: %v)", op, got, want, err)
	}
}

// mustCreateDomain creates d with no limit or fails tb.
func mustCreateDomain(tb testing.TB, ctx context.Context, s profiles.Store, d *profiles.Domain) {
	tb.Helper()
	if err := s.CreateDomain(ctx, d, 0); err != nil {
		tb.Fatalf("CreateDomain(%q): %v", d.Name, err)
	}
}

// mustFindDomain returns the named domain or fails tb.
func mustFindDomain(tb testing.TB, ctx context.Context, s profiles.Store, name string) *profiles.Domain {
	tb.Helper()
	d, err := s.FindDomain(ctx, name)
	if err != nil {
		tb.Fatalf("FindDomain(%q): %v", name, err)
	}
	return d
}

// mustCreateDomains creates domains of the given names, with no settings.
func mustCreateDomains(tb testing.TB, ctx context.Context, s profiles.Store, names ...string) {
	tb.Helper()
	for _, name := range names {
		mustCreateDomain(tb, ctx, s, &profiles.Domain{Name: name, DefaultExpirationDays: 7})
	}
}

// listNames returns the names of all domains, listed in one call.
func listNames(tb testing.TB, ctx context.Context, s profiles.Store) []string {
	tb.Helper()
	ds, err := s.ListDomains(ctx, "", 0)
	if err != nil {
		tb.Fatalf("ListDomains: %v", err)
	}
	return names(ds)
}

func names(ds []*profiles.Domain) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

// concurrently calls f(0) … f(n-1) in n goroutines released at once, and
// counts the error codes of the results ("" for success).
func concurrently(n int, f func(i int) error) (codes map[string]int, errs []error) {
	errs = make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	codes = map[string]int{}
	for _, err := range errs {
		codes[profiles.ErrorCode(err)]++
	}
	return codes, errs
}

// checkCodes fails tb unless codes are want, and logs unexpected errors.
func checkCodes(tb testing.TB, op string, codes, want map[string]int, errs []error) {
	tb.Helper()
	if diff := cmp.Diff(want, codes); diff != "" {
		for _, err := range errs {
			if code := profiles.ErrorCode(err); want[code] == 0 {
				tb.Logf("%s: unexpected error: %v", op, err)
			}
		}
		tb.Fatalf("%s: error codes mismatch (-want +got):\n%s", op, diff)
	}
}

// zeroFields returns the paths of the fields of v, recursively through
// pointers to structs, structs and slices, that hold their zero value or
// are empty.
func zeroFields(path string, v reflect.Value) []string {
	if v.IsZero() || ((v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0) {
		return []string{path}
	}
	var out []string
	switch v.Kind() {
	case reflect.Pointer: // a pointer to a zero number is set
		if v.Elem().Kind() == reflect.Struct {
			out = zeroFields(path, v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return nil
		}
		for i := range v.NumField() {
			out = append(out, zeroFields(path+"."+v.Type().Field(i).Name, v.Field(i))...)
		}
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, zeroFields(fmt.Sprintf("%s[%d]", path, i), v.Index(i))...)
		}
	}
	return out
}
