package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/service"
)

// recordingStreams is a profiles.StreamDestinations that keeps what it is
// sent, and fails every call to the streams in down. The end-to-end tests
// use a real Kinesis protocol server (cmd/openprofiles); this one counts
// calls and sizes, which a real server does not tell.
type recordingStreams struct {
	mu   sync.Mutex
	down map[string]bool
	// refuse, when set, picks records the streams refuse one by one (as
	// Kinesis refuses a throttled record of a call that it otherwise
	// takes).
	refuse func(profiles.StreamRecord) bool
	calls  map[string][]int // stream ARN -> bytes of each call's records
	got    map[string][]profiles.StreamRecord
}

func (r *recordingStreams) CheckStream(ctx context.Context, arn string) error { return nil }

func (r *recordingStreams) PutRecords(ctx context.Context, arn string, records []profiles.StreamRecord) ([]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range records {
		n += len(rec.Data) + len(rec.PartitionKey)
	}
	r.calls[arn] = append(r.calls[arn], n)
	if r.down[arn] {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "stream %s not found", arn)
	}
	var failed []int
	for i, rec := range records {
		if r.refuse != nil && r.refuse(rec) {
			failed = append(failed, i)
			continue
		}
		r.got[arn] = append(r.got[arn], rec)
	}
	return failed, nil
}

func (r *recordingStreams) count(arn string) (calls, records int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls[arn]), len(r.got[arn])
}

const (
	brokenARN = "arn:aws:kinesis:us-east-1:000000000000:stream/broken"
	okARN     = "arn:aws:kinesis:us-east-1:000000000000:stream/ok"
)

func openDelivery(t testing.TB) (*service.Service, *recordingStreams, *time.Time) {
	t.Helper()
	s, _ := MustOpenEncrypted(t, service.DefaultCryptConfig)
	dest := &recordingStreams{down: map[string]bool{}, calls: map[string][]int{}, got: map[string][]profiles.StreamRecord{}}
	now := time.Now().UTC()
	s.Now = func() time.Time { return now }
	s.Streams, s.Outbox, s.Configs = dest, s.Store.(profiles.EventOutbox), s.Store.(profiles.ConfigStore)
	s.EventRetryInterval = time.Minute
	return s, dest, &now
}

// drain delivers until no event is left to claim.
func drain(t testing.TB, s *service.Service) {
	t.Helper()
	for {
		n, err := s.DeliverEvents(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func mustCreateStream(t testing.TB, s *service.Service, name, arn string) {
	t.Helper()
	if _, err := s.CreateEventStream(t.Context(), &profiles.EventStream{DomainName: "enc", Name: name, Uri: arn}); err != nil {
		t.Fatal(err)
	}
}

// TestDeliverEvents_BrokenDestinationWaits: once a destination fails, its
// stream's events are claimed and left alone until the retry interval has
// passed (one call, not one per claim), and the other streams' events go.
func TestDeliverEvents_BrokenDestinationWaits(t *testing.T) {
	s, dest, now := openDelivery(t)
	ctx := t.Context()
	mustCreateStream(t, s, "broken", brokenARN)
	dest.down[brokenARN] = true
	for range 150 { // 150 events of the broken stream, before the other exists
		if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Ann"}); err != nil {
			t.Fatal(err)
		}
	}
	mustCreateStream(t, s, "ok", okARN)
	for range 150 { // 150 more for each
		if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Bob"}); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s)
	if calls, _ := dest.count(brokenARN); calls != 1 {
		t.Errorf("the broken destination was called %d times in one retry interval, want 1", calls)
	}
	if _, records := dest.count(okARN); records != 150 {
		t.Errorf("the healthy stream got %d records, want 150", records)
	}
	es, err := s.GetEventStream(ctx, "enc", "broken")
	if err != nil || es.Status != profiles.DestinationUnhealthy || !strings.Contains(es.Message, "does not exist") {
		t.Fatalf("broken stream: %+v, %v", es, err)
	}

	// After the retry interval, with the destination back: every event.
	*now = now.Add(time.Minute)
	dest.down[brokenARN] = false
	drain(t, s)
	if _, records := dest.count(brokenARN); records != 300 {
		t.Errorf("the broken stream got %d records after it came back, want 300", records)
	}
	if es, _ := s.GetEventStream(ctx, "enc", "broken"); es.Status != profiles.DestinationHealthy || es.Message != "" {
		t.Errorf("broken stream after: %+v", es)
	}
}

// TestDeliverEvents_RequestSize: records go in calls of at most 5 MiB.
func TestDeliverEvents_RequestSize(t *testing.T) {
	s, dest, _ := openDelivery(t)
	ctx := t.Context()
	mustCreateStream(t, s, "ok", okARN)
	if _, err := s.PutObjectType(ctx, contactType("enc")); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 200_000)
	for i := range 40 { // ~8 MB of object events, and 40 small profile events
		if _, err := s.PutProfileObject(ctx, "enc", "contact", fmt.Sprintf(`{"id":"c%d","email":"p%d@example.com","notes":%q}`, i, i, big)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeliverEvents(ctx); err != nil {
		t.Fatal(err)
	}
	dest.mu.Lock()
	calls := append([]int(nil), dest.calls[okARN]...)
	got := len(dest.got[okARN])
	dest.mu.Unlock()
	if len(calls) < 2 || got != 80 {
		t.Fatalf("calls of %v bytes delivering %d records; want 80 records in at least 2 calls", calls, got)
	}
	for _, n := range calls {
		if n > 5<<20 {
			t.Errorf("a call of %d bytes: more than 5 MiB", n)
		}
	}
	var ev profiles.StreamEventPayload
	if err := json.Unmarshal(dest.got[okARN][0].Data, &ev); err != nil || ev.ObjectTypeName != "_profile" {
		t.Errorf("record: %v, %+v", err, ev)
	}
}

// TestDeliverEvents_StreamMadeAgain: a node that still knows an event
// stream deleted and made again under the same name (for up to a second)
// writes its events under the old one's generation: they go nowhere, not
// to the new stream's destination.
func TestDeliverEvents_StreamMadeAgain(t *testing.T) {
	s, dest, _ := openDelivery(t)
	ctx := t.Context()
	// A second node on the same store, whose clock (and so its cache of
	// the domain's streams) stands still.
	other := service.New(s.Store, "us-east-1", "000000000000", []byte("secret-secret-secret-secret-0123"))
	other.Keys, other.DefaultKey, other.Now = s.Keys, s.DefaultKey, s.Now
	other.Configs, other.Outbox, other.Streams = s.Configs, s.Outbox, s.Streams
	other.SetIngestRate(0, 1)

	const first, second = "arn:aws:kinesis:us-east-1:000000000000:stream/first", "arn:aws:kinesis:us-east-1:000000000000:stream/second"
	mustCreateStream(t, s, "s", first)
	if _, err := other.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeliverEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEventStream(ctx, "enc", "s"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // another creation time
	mustCreateStream(t, s, "s", second)
	if _, err := other.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Bob"}); err != nil { // the old generation's
		t.Fatal(err)
	}
	if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Cy"}); err != nil { // the new one's
		t.Fatal(err)
	}
	if _, err := s.DeliverEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if _, n := dest.count(first); n != 1 {
		t.Errorf("the first destination got %d records, want 1 (Ann's)", n)
	}
	dest.mu.Lock()
	got := dest.got[second]
	dest.mu.Unlock()
	if len(got) != 1 || !strings.Contains(string(got[0].Data), `"FirstName":"Cy"`) {
		t.Errorf("the second destination got %d records, want Cy's only", len(got))
	}
}

// TestEventStreams_TypeKeys: a stream sends the objects of the object types
// that had their own EncryptionKey when it was created (its creator was
// checked for kms:Decrypt on them), not those of a type given its own key
// later: their readers were never checked. A stream created after the key
// was set sends them.
func TestEventStreams_TypeKeys(t *testing.T) {
	s, dest, _ := openDelivery(t)
	ctx := t.Context()
	newKey := func() string { return mustServiceKeys(t, s.Keys.(*localkms.KMS), 1)[0] }
	typ := func(name, key string) {
		ot := contactType("enc")
		ot.Name, ot.EncryptionKey = name, key
		if _, err := s.PutObjectType(ctx, ot); err != nil {
			t.Fatalf("PutObjectType %s: %v", name, err)
		}
	}
	typ("plain", "")
	typ("keyed", newKey())
	typ("later", "")
	const before, after = "arn:aws:kinesis:us-east-1:000000000000:stream/before", "arn:aws:kinesis:us-east-1:000000000000:stream/after"
	mustCreateStream(t, s, "before", before)
	typ("later", newKey())
	mustCreateStream(t, s, "after", after)
	for i, name := range []string{"plain", "keyed", "later"} {
		if _, err := s.PutProfileObject(ctx, "enc", name, contact(i, i)); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, s)
	objectTypes := func(arn string) []string {
		dest.mu.Lock()
		defer dest.mu.Unlock()
		var names []string
		for _, r := range dest.got[arn] {
			var ev struct{ ObjectTypeName string }
			json.Unmarshal(r.Data, &ev)
			if ev.ObjectTypeName != "_profile" {
				names = append(names, ev.ObjectTypeName)
			}
		}
		slices.Sort(names)
		return names
	}
	if got := objectTypes(before); !slices.Equal(got, []string{"keyed", "plain"}) {
		t.Errorf("the stream created before type later had its key sent objects of %v, want keyed and plain", got)
	}
	if got := objectTypes(after); !slices.Equal(got, []string{"keyed", "later", "plain"}) {
		t.Errorf("the stream created after sent objects of %v, want all three", got)
	}
}

// TestEventStreams_TypeKeyOfTheOldDomainKey: a type whose own key is the
// domain's when the stream is created goes on being streamed after the
// domain's key changes (its creator was checked for that key).
func TestEventStreams_TypeKeyOfTheOldDomainKey(t *testing.T) {
	s, dest, _ := openDelivery(t)
	ctx := t.Context()
	keys := mustServiceKeys(t, s.Keys.(*localkms.KMS), 2)
	one := keys[0]
	if _, err := s.UpdateDomain(ctx, "enc", &profiles.DomainUpdate{DefaultEncryptionKey: &one}); err != nil {
		t.Fatal(err)
	}
	ot := contactType("enc")
	ot.Name, ot.EncryptionKey = "same", keys[0]
	if _, err := s.PutObjectType(ctx, ot); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	mustCreateStream(t, s, "s", arn)
	two := keys[1]
	if _, err := s.UpdateDomain(ctx, "enc", &profiles.DomainUpdate{DefaultEncryptionKey: &two}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "enc", "same", contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	drain(t, s)
	dest.mu.Lock()
	defer dest.mu.Unlock()
	n := 0
	for _, r := range dest.got[arn] {
		if strings.Contains(string(r.Data), `"ObjectTypeName":"same"`) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d events of type same, want 1", n)
	}
}

// TestDeliverEvents_RefusedRecordNotOvertaken: Kinesis refuses one record
// of a call (throttled) and takes the next one, a later change of the same
// profile. The refused record is sent again, and so is that later one,
// after it: the profile's last record on the stream is its latest change,
// not the older one that was refused.
func TestDeliverEvents_RefusedRecordNotOvertaken(t *testing.T) {
	s, dest, _ := openDelivery(t)
	ctx := t.Context()
	mustCreateStream(t, s, "ok", okARN)
	p, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProfile(ctx, "enc", p.ID, map[string]string{"FirstName": "Anne"}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	dest.refuse = func(r profiles.StreamRecord) bool {
		if refused == 0 && r.PartitionKey == p.ID {
			refused++
			return true // Ann's CREATED, once
		}
		return false
	}
	drain(t, s)
	var ann []string
	bob := 0
	for _, r := range dest.got[okARN] {
		var ev profiles.StreamEventPayload
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(ev.Object, &obj); err != nil {
			t.Fatal(err)
		}
		switch r.PartitionKey {
		case p.ID:
			ann = append(ann, fmt.Sprint(ev.EventType, " ", obj["FirstName"]))
		case other.ID:
			bob++
		}
	}
	if refused != 1 || len(ann) == 0 || ann[len(ann)-1] != "UPDATED Anne" || !slices.Contains(ann, "CREATED Ann") {
		t.Errorf("Ann's records on the stream: %v; want CREATED Ann (refused once, sent again) and, last, UPDATED Anne", ann)
	}
	if bob != 1 {
		t.Errorf("Bob's records: %d, want 1 (another profile's record taken in that call is not sent again)", bob)
	}
}
