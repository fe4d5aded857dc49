package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles/awskinesis/kinesalite"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// streamEvent is a record an event stream wrote, decoded.
type streamEvent struct {
	PartitionKey           string
	SchemaVersion          *int
	EventID                string `json:"EventId"`
	EventTimestamp         string
	EventType              string
	DomainName             string
	ObjectTypeName         string
	AssociatedProfileID    string `json:"AssociatedProfileId"`
	ProfileObjectUniqueKey string
	Object                 map[string]any
	IsMessageRealTime      bool
}

// streamsEnv is a server whose event streams write to kinesalite, a
// Kinesis emulator on loopback.
type streamsEnv struct {
	*ingestEnv
	kinesis string // kinesalite's endpoint
}

func newStreamsEnv(t *testing.T, edit ...func(*main.Config)) *streamsEnv {
	t.Helper()
	endpoint := kinesalite.StartIn(t, testRegion, "000000000000")
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	e := newIngestEnv(t, append([]func(*main.Config){func(c *main.Config) { c.KinesisEndpoint = endpoint }}, edit...)...)
	return &streamsEnv{ingestEnv: e, kinesis: endpoint}
}

func (e *streamsEnv) createEventStream(name, uri string) (*customerprofiles.CreateEventStreamOutput, error) {
	return e.client.CreateEventStream(e.t.Context(), &customerprofiles.CreateEventStreamInput{DomainName: aws.String(e.domain),
		EventStreamName: aws.String(name), Uri: aws.String(uri), Tags: map[string]string{"team": "crm"}})
}

// events returns the records of a Kinesis stream once it holds at least
// n, decoded; it fails the test after 20 s.
func (e *streamsEnv) events(stream string, n int) []streamEvent {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs := kinesalite.ReadAll(e.t, e.kinesis, testRegion, stream)
		if len(recs) >= n || time.Now().After(deadline) {
			var out []streamEvent
			for _, r := range recs {
				var ev streamEvent
				if err := json.Unmarshal(r.Data, &ev); err != nil {
					e.t.Fatalf("record %s of %s is not JSON: %v: %s", r.SequenceNumber, stream, err, r.Data)
				}
				ev.PartitionKey = r.PartitionKey
				out = append(out, ev)
			}
			if len(out) < n {
				e.t.Fatalf("stream %s holds %d records after 20 s, want %d: %+v", stream, len(out), n, out)
			}
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEventStreams drives the four event-stream operations through the SDK
// and reads what the server wrote to a real Kinesis protocol server: the
// events of new and updated profiles and of ingested objects, in the
// payload of Customer Profiles' real-time export.
func TestEventStreams(t *testing.T) {
	e := newStreamsEnv(t)
	ctx := t.Context()
	e.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, e.kinesis, testRegion, "profile-events", 2)

	// The destination is checked.
	_, err := e.createEventStream("bad", "not-an-arn")
	wantAPIError(t, err, "BadRequestException", "Uri", "ARN of a Kinesis data stream")
	_, err = e.createEventStream("bad", "arn:aws:kinesis:eu-west-3:000000000000:stream/profile-events")
	wantAPIError(t, err, "BadRequestException", "region", testRegion)
	_, err = e.createEventStream("bad", "arn:aws:kinesis:"+testRegion+":000000000000:stream/missing")
	wantAPIError(t, err, "BadRequestException", "does not exist")
	_, err = e.client.CreateEventStream(ctx, &customerprofiles.CreateEventStreamInput{DomainName: aws.String("nope"),
		EventStreamName: aws.String("s"), Uri: aws.String(arn)})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")

	created, err := e.createEventStream("crm-sync", arn)
	if err != nil {
		t.Fatalf("CreateEventStream: %v", err)
	}
	wantARN := "arn:aws:profile:" + testRegion + ":000000000000:domains/" + e.domain + "/event-streams/crm-sync"
	if aws.ToString(created.EventStreamArn) != wantARN || created.Tags["team"] != "crm" {
		t.Fatalf("CreateEventStream answered %+v", created)
	}
	_, err = e.createEventStream("crm-sync", arn)
	wantAPIError(t, err, "BadRequestException", "already exists")

	got, err := e.client.GetEventStream(ctx, &customerprofiles.GetEventStreamInput{DomainName: aws.String(e.domain), EventStreamName: aws.String("crm-sync")})
	if err != nil {
		t.Fatalf("GetEventStream: %v", err)
	}
	if aws.ToString(got.EventStreamArn) != wantARN || got.State != types.EventStreamStateRunning || got.CreatedAt == nil ||
		aws.ToString(got.DestinationDetails.Uri) != arn || got.DestinationDetails.Status != types.EventStreamDestinationStatusHealthy ||
		got.DestinationDetails.UnhealthySince != nil || got.Tags["team"] != "crm" {
		t.Fatalf("GetEventStream answered %+v, destination %+v", got, got.DestinationDetails)
	}

	// Changes after the stream's creation reach it.
	k1 := e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann", "last": "Lee"},
		"address": map[string]any{"city": "Lyon"}, "tier": "gold"})
	p := e.mustOne("_email", "ann@example.com")
	id := aws.ToString(p.ProfileId)
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Anne", "last": "Lee"}})
	made, err := e.client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String(e.domain), FirstName: aws.String("Bob")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: made.ProfileId,
		LastName: aws.String("Stone")}); err != nil {
		t.Fatal(err)
	}

	evs := e.events("profile-events", 6)
	byProfile := map[string][]streamEvent{}
	for _, ev := range evs {
		if ev.SchemaVersion == nil || *ev.SchemaVersion != 0 || ev.EventID == "" || !ev.IsMessageRealTime || ev.DomainName != e.domain ||
			ev.PartitionKey != ev.AssociatedProfileID {
			t.Errorf("event %+v: want SchemaVersion 0, an EventId, IsMessageRealTime, DomainName %s, partition key = profile id", ev, e.domain)
		}
		if _, err := time.Parse(time.RFC3339, ev.EventTimestamp); err != nil {
			t.Errorf("EventTimestamp %q: %v", ev.EventTimestamp, err)
		}
		byProfile[ev.AssociatedProfileID] = append(byProfile[ev.AssociatedProfileID], ev)
	}
	// One profile's events are on one shard, in order.
	ann := byProfile[id]
	kinds := func(evs []streamEvent) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.ObjectTypeName+" "+ev.EventType)
		}
		return out
	}
	if want := []string{"_profile CREATED", "contact CREATED", "_profile UPDATED", "contact UPDATED"}; !slices.Equal(kinds(ann), want) {
		t.Fatalf("events of profile %s: %v, want %v", id, kinds(ann), want)
	}
	if obj := ann[0].Object; obj["ProfileId"] != id || obj["FirstName"] != "Ann" || obj["Address"].(map[string]any)["City"] != "Lyon" ||
		obj["Attributes"].(map[string]any)["tier"] != "gold" || obj["EmailAddress"] != "ann@example.com" {
		t.Errorf("profile CREATED object: %v", obj)
	}
	if ev := ann[1]; ev.ProfileObjectUniqueKey != k1 || ev.Object["id"] != "c1" || ev.Object["name"].(map[string]any)["first"] != "Ann" {
		t.Errorf("object CREATED event: %+v, want unique key %s and the object as ingested", ev, k1)
	}
	if ann[2].Object["FirstName"] != "Anne" || ann[3].Object["name"].(map[string]any)["first"] != "Anne" || ann[3].ProfileObjectUniqueKey != k1 {
		t.Errorf("UPDATED events: %+v", ann[2:])
	}
	if bob := byProfile[aws.ToString(made.ProfileId)]; !slices.Equal(kinds(bob), []string{"_profile CREATED", "_profile UPDATED"}) ||
		bob[1].Object["LastName"] != "Stone" || bob[1].Object["FirstName"] != "Bob" {
		t.Errorf("events of the profile API's profile: %+v", bob)
	}

	// A key added to or removed from a profile is no change of the
	// profile a record carries: AddProfileKey and DeleteProfileKey send
	// none (AWS documents none; their history records say the change).
	if _, err := e.client.AddProfileKey(ctx, &customerprofiles.AddProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id),
		KeyName: aws.String("_account"), Values: []string{"ACC-ANN"}}); err != nil {
		t.Fatalf("AddProfileKey: %v", err)
	}
	if _, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id),
		KeyName: aws.String("_account"), Values: []string{"ACC-ANN"}}); err != nil {
		t.Fatalf("DeleteProfileKey: %v", err)
	}

	// An object that changes nothing of its profile sends the object's event only.
	k2 := e.mustPut("contact", map[string]any{"id": "c2", "email": "ann@example.com"})
	var last []streamEvent
	for _, ev := range e.events("profile-events", 7) {
		if ev.AssociatedProfileID == id {
			last = append(last, ev)
		}
	}
	if want := []string{"_profile CREATED", "contact CREATED", "_profile UPDATED", "contact UPDATED", "contact CREATED"}; !slices.Equal(kinds(last), want) ||
		last[4].ProfileObjectUniqueKey != k2 {
		t.Fatalf("after an object changing no field: %v, want %v", kinds(last), want)
	}

	// The server writes with its own credentials: a caller must also be
	// allowed to write to the data stream.
	key, err := e.m.Service.EncryptionKeyARN(ctx, e.domain)
	if err != nil {
		t.Fatal(err)
	}
	other := mustUser(t, e.m, "integrator", map[string]string{"p": policy(`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+key+`"}`)})
	_, err = other.CreateEventStream(ctx, &customerprofiles.CreateEventStreamInput{DomainName: aws.String(e.domain),
		EventStreamName: aws.String("theirs"), Uri: aws.String(arn)})
	wantAPIError(t, err, "AccessDeniedException", "kinesis:PutRecords", arn)

	list, err := e.client.ListEventStreams(ctx, &customerprofiles.ListEventStreamsInput{DomainName: aws.String(e.domain)})
	if err != nil || len(list.Items) != 1 || aws.ToString(list.Items[0].EventStreamName) != "crm-sync" ||
		aws.ToString(list.Items[0].DestinationSummary.Uri) != arn || list.Items[0].State != types.EventStreamStateRunning {
		t.Fatalf("ListEventStreams: %+v, %v", list, err)
	}

	// Deleted: nothing more is sent, and it is gone.
	if _, err := e.client.DeleteEventStream(ctx, &customerprofiles.DeleteEventStreamInput{DomainName: aws.String(e.domain), EventStreamName: aws.String("crm-sync")}); err != nil {
		t.Fatalf("DeleteEventStream: %v", err)
	}
	e.mustPut("contact", map[string]any{"id": "c3", "email": "cy@example.com"})
	if _, err := e.m.Service.DeliverEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(kinesalite.ReadAll(t, e.kinesis, testRegion, "profile-events")); n != 7 {
		t.Errorf("after DeleteEventStream the stream holds %d records, want 7", n)
	}
	_, err = e.client.GetEventStream(ctx, &customerprofiles.GetEventStreamInput{DomainName: aws.String(e.domain), EventStreamName: aws.String("crm-sync")})
	wantAPIError(t, err, "ResourceNotFoundException", "crm-sync")
	_, err = e.client.DeleteEventStream(ctx, &customerprofiles.DeleteEventStreamInput{DomainName: aws.String(e.domain), EventStreamName: aws.String("crm-sync")})
	wantAPIError(t, err, "ResourceNotFoundException", "crm-sync")
}

// TestEventStreams_DestinationDown: events written while the Kinesis data
// stream is gone wait in the store; the stream reads UNHEALTHY with why,
// and once the data stream is back every event is delivered and the stream
// reads HEALTHY again.
func TestEventStreams_DestinationDown(t *testing.T) {
	e := newStreamsEnv(t, func(c *main.Config) { c.EventRetryInterval = time.Second })
	ctx := t.Context()
	e.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, e.kinesis, testRegion, "down", 1)
	if _, err := e.createEventStream("s", arn); err != nil {
		t.Fatal(err)
	}
	kc := kinesalite.Client(e.kinesis, testRegion)
	if _, err := kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("down")}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e.mustPut("contact", map[string]any{"id": fmt.Sprint("d", i), "email": fmt.Sprint("d", i, "@example.com")})
	}
	var got *customerprofiles.GetEventStreamOutput
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		got, err = e.client.GetEventStream(ctx, &customerprofiles.GetEventStreamInput{DomainName: aws.String(e.domain), EventStreamName: aws.String("s")})
		if err != nil {
			t.Fatal(err)
		}
		if got.DestinationDetails.Status == types.EventStreamDestinationStatusUnhealthy || time.Now().After(deadline) {
			break
		}
	}
	if d := got.DestinationDetails; d.Status != types.EventStreamDestinationStatusUnhealthy || d.UnhealthySince == nil ||
		!containsAll(aws.ToString(d.Message), "does not exist", arn) {
		t.Fatalf("destination while the data stream is gone: %+v, message %q", d, aws.ToString(d.Message))
	}

	kinesalite.CreateStream(t, e.kinesis, testRegion, "down", 1)
	evs := e.events("down", 10) // 5 new profiles, 5 new objects
	keys := map[string]bool{}
	for _, ev := range evs {
		keys[ev.ObjectTypeName+" "+ev.EventType+" "+ev.AssociatedProfileID] = true
	}
	if len(keys) != 10 {
		t.Errorf("delivered after the outage: %d distinct events of %d records, want 10", len(keys), len(evs))
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got, _ = e.client.GetEventStream(ctx, &customerprofiles.GetEventStreamInput{DomainName: aws.String(e.domain), EventStreamName: aws.String("s")})
		if got.DestinationDetails.Status == types.EventStreamDestinationStatusHealthy || time.Now().After(deadline) {
			break
		}
	}
	if d := got.DestinationDetails; d.Status != types.EventStreamDestinationStatusHealthy || d.UnhealthySince != nil || d.Message != nil {
		t.Fatalf("destination after the outage: %+v", d)
	}
}

// newStreamsEnvClock is newStreamsEnv on a server whose clock is clock.
func newStreamsEnvClock(t *testing.T, clock *testClock, edit ...func(*main.Config)) *streamsEnv {
	t.Helper()
	endpoint := kinesalite.StartIn(t, testRegion, "000000000000")
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	e := newIngestEnvClock(t, clock, append([]func(*main.Config){func(c *main.Config) { c.KinesisEndpoint = endpoint }}, edit...)...)
	return &streamsEnv{ingestEnv: e, kinesis: endpoint}
}

// mustDeleteKinesisStream deletes a kinesalite stream and waits until it is
// gone.
func (e *streamsEnv) mustDeleteKinesisStream(name string) {
	e.t.Helper()
	kc := kinesalite.Client(e.kinesis, testRegion)
	if _, err := kc.DeleteStream(e.t.Context(), &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		e.t.Fatal(err)
	}
	w := kinesis.NewStreamNotExistsWaiter(kc, func(o *kinesis.StreamNotExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(e.t.Context(), &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 20*time.Second); err != nil {
		e.t.Fatalf("kinesalite stream %s not gone: %v", name, err)
	}
}

// drainEvents runs the delivery until a claim finds nothing to take.
func (e *streamsEnv) drainEvents() {
	e.t.Helper()
	for range 1000 {
		n, err := e.m.Service.DeliverEvents(e.t.Context())
		if err != nil {
			e.t.Logf("DeliverEvents: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatalf("DeliverEvents claimed events 1000 times in a row at one instant")
}

// TestEventStreams_OutageClaims: while an event stream's Kinesis data
// stream is gone, its backlog (420 events, more than two claims' worth)
// is not claimed again and again: each retry interval claims one batch
// (a probe), counted by the server's metrics. Once the data stream is back
// every event is delivered, in the order of the changes. The server's
// clock is the test's: each step is one retry interval later.
func TestEventStreams_OutageClaims(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newStreamsEnvClock(t, clock, func(c *main.Config) { c.EventRetryInterval = time.Second })
	e.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, e.kinesis, testRegion, "outage", 1)
	if _, err := e.createEventStream("s", arn); err != nil {
		t.Fatal(err)
	}
	e.mustDeleteKinesisStream("outage")
	const n = 210 // new profiles: a profile's event and its object's, 420 events
	for i := range n {
		e.mustPut("contact", map[string]any{"id": fmt.Sprintf("o%03d", i), "email": fmt.Sprintf("o%03d@example.com", i)})
	}
	e.drainEvents()
	before := scrape(t, e.m.URL())
	const intervals = 4
	for range intervals {
		clock.add(time.Second)
		e.drainEvents()
	}
	after := scrape(t, e.m.URL())
	claims := after["openprofiles_event_stream_claims_total"] - before["openprofiles_event_stream_claims_total"]
	events := after["openprofiles_event_stream_events_claimed_total"] - before["openprofiles_event_stream_events_claimed_total"]
	if claims > intervals || events > intervals*200 {
		t.Errorf("over %d retry intervals of a destination that is down: %v claims of %v events; want at most one claim (a probe of at most 200 events) per interval",
			intervals, claims, events)
	}

	kinesalite.CreateStream(t, e.kinesis, testRegion, "outage", 1)
	clock.add(time.Second)
	e.drainEvents()
	var got, want []string
	for i := range n {
		want = append(want, fmt.Sprintf("_profile o%03d@example.com", i), fmt.Sprintf("contact o%03d", i))
	}
	for _, ev := range e.events("outage", 2*n) {
		if ev.ObjectTypeName == "_profile" {
			got = append(got, fmt.Sprint("_profile ", ev.Object["EmailAddress"]))
		} else {
			got = append(got, fmt.Sprint(ev.ObjectTypeName, " ", ev.Object["id"]))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the outage the data stream holds %d records:\n%v\nwant, in the order of the changes:\n%v", len(got), got, want)
	}
}

// TestPostgres_EventStreamOrderAcrossNodes: two servers on one PostgreSQL
// database both deliver event streams. 300 new profiles are ingested one
// after another through both nodes while the Kinesis data stream is gone,
// so that 600 events (three claims' worth) wait; once it is back, the
// stream's records arrive in the order of the changes: one node at a time
// holds the stream, so two nodes never send consecutive batches of it at
// once.
func TestPostgres_EventStreamOrderAcrossNodes(t *testing.T) {
	endpoint := kinesalite.StartIn(t, testRegion, "000000000000")
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	node := nodeConfigs(t, mustPostgresDatabase(t), func(c *main.Config) {
		c.KinesisEndpoint, c.EventRetryInterval = endpoint, time.Second
	})
	a, b := MustOpenMain(t, node()), MustOpenMain(t, node())
	ea := &streamsEnv{ingestEnv: &ingestEnv{t: t, m: a, client: MustClient(t, a), domain: "shared"}, kinesis: endpoint}
	eb := &ingestEnv{t: t, m: b, client: MustClient(t, b), domain: "shared"}
	if _, err := ea.client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("shared"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	ea.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, endpoint, testRegion, "order", 1)
	if _, err := ea.createEventStream("s", arn); err != nil {
		t.Fatal(err)
	}
	ea.mustDeleteKinesisStream("order")
	const n = 300
	for i := range n {
		e := ea.ingestEnv
		if i%2 == 1 {
			e = eb
		}
		e.mustPut("contact", map[string]any{"id": fmt.Sprintf("o%03d", i), "email": fmt.Sprintf("o%03d@example.com", i)})
	}
	kinesalite.CreateStream(t, endpoint, testRegion, "order", 1)

	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("_profile o%03d@example.com", i), fmt.Sprintf("contact o%03d", i))
	}
	// A batch may be sent twice (at least once); its first copy counts.
	var got []string
	seen := map[string]bool{}
	for _, ev := range ea.events("order", 2*n) {
		k := fmt.Sprint(ev.ObjectTypeName, " ", ev.Object["id"])
		if ev.ObjectTypeName == "_profile" {
			k = fmt.Sprint("_profile ", ev.Object["EmailAddress"])
		}
		if !seen[k] {
			seen[k] = true
			got = append(got, k)
		}
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("two nodes delivered %d distinct records; record %d is %q, want %q (the order of the changes)", len(got), i, got[i], want[i])
			}
		}
		t.Fatalf("two nodes delivered %d distinct records, want %d", len(got), len(want))
	}
}

// TestEventStreams_ParallelWriters: 64 ingestions at once on 8 profiles'
// keys; every acknowledged object has its event on the stream, exactly
// once per version here (the destination never failed).
func TestEventStreams_ParallelWriters(t *testing.T) {
	e := newStreamsEnv(t)
	e.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, e.kinesis, testRegion, "busy", 4)
	if _, err := e.createEventStream("s", arn); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for i := range 64 {
		wg.Go(func() {
			for {
				k, err := e.put("contact", map[string]any{"id": fmt.Sprint("p", i), "email": fmt.Sprint("shared", i%8, "@example.com")})
				if isThrottled(err) {
					time.Sleep(20 * time.Millisecond) // throttled (the profile's ingestion rate): put it again
					continue
				}
				if err != nil {
					t.Errorf("PutProfileObject %d: %v", i, err)
					return
				}
				mu.Lock()
				acked[k] = true
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	evs := e.events("busy", 64+8) // 64 objects, 8 new profiles (objects that change no field send none)
	objects := map[string]int{}
	profiles := map[string]int{}
	for _, ev := range evs {
		switch ev.ObjectTypeName {
		case "contact":
			objects[ev.ProfileObjectUniqueKey]++
		case "_profile":
			if ev.EventType == "CREATED" {
				profiles[ev.AssociatedProfileID]++
			}
		}
	}
	for k := range acked {
		if objects[k] != 1 {
			t.Errorf("object %s: %d events, want 1", k, objects[k])
		}
	}
	if len(objects) != 64 || len(profiles) != 8 {
		t.Errorf("events of %d objects and %d new profiles, want 64 and 8", len(objects), len(profiles))
	}
}

// TestEventStreams_NoKinesis: without --kinesis-endpoint, CreateEventStream
// says what the server lacks.
func TestEventStreams_NoKinesis(t *testing.T) {
	e := newIngestEnv(t)
	_, err := e.client.CreateEventStream(t.Context(), &customerprofiles.CreateEventStreamInput{DomainName: aws.String(e.domain),
		EventStreamName: aws.String("s"), Uri: aws.String("arn:aws:kinesis:" + testRegion + ":000000000000:stream/x")})
	wantAPIError(t, err, "BadRequestException", "--kinesis-endpoint")
	list, err := e.client.ListEventStreams(t.Context(), &customerprofiles.ListEventStreamsInput{DomainName: aws.String(e.domain)})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("ListEventStreams: %+v, %v", list, err)
	}
}

// TestEventStreams_KinesisUnreachable: when the Kinesis-compatible service
// does not answer, CreateEventStream says the destination could not be
// reached (400, naming the Uri), not "Internal error.", and creates nothing.
func TestEventStreams_KinesisUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more: connections are refused
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	e := newIngestEnv(t, func(c *main.Config) { c.KinesisEndpoint = closed })
	uri := "arn:aws:kinesis:" + testRegion + ":000000000000:stream/away"
	_, err = e.client.CreateEventStream(t.Context(), &customerprofiles.CreateEventStreamInput{DomainName: aws.String(e.domain),
		EventStreamName: aws.String("s"), Uri: aws.String(uri)})
	wantAPIError(t, err, "BadRequestException", "Uri", uri, "could not be reached")
	list, err := e.client.ListEventStreams(t.Context(), &customerprofiles.ListEventStreamsInput{DomainName: aws.String(e.domain)})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("ListEventStreams: %+v, %v", list, err)
	}
}

func containsAll(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

func isThrottled(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException"
}

// TestEventStreams_RecordFields reads the records a profile's change and an
// object's ingestion write, as a consumer written for Customer Profiles'
// real-time export reads them (a Lambda in a language whose JSON keys are
// case-sensitive): every top-level member of the documented sample, by its
// exact name and JSON type, and no other; a profile's Object in the API's
// Profile shape, an object's as ingested.
func TestEventStreams_RecordFields(t *testing.T) {
	e := newStreamsEnv(t)
	ctx := t.Context()
	e.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, e.kinesis, testRegion, "fields", 1)
	if _, err := e.createEventStream("s", arn); err != nil {
		t.Fatal(err)
	}
	made, err := e.client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String(e.domain),
		FirstName: aws.String("Ann"), Gender: types.GenderFemale, PartyType: types.PartyTypeIndividual,
		BirthDate: aws.String("1980-02-03"), EmailAddress: aws.String("ann@example.com"),
		MailingAddress: &types.Address{City: aws.String("Lyon"), PostalCode: aws.String("69001")},
		Attributes:     map[string]string{"tier": "gold", "a.b": "dotted"},
		EngagementPreferences: &types.EngagementPreferences{Email: []types.ContactPreference{{KeyName: aws.String("_email"),
			KeyValue: aws.String("ann@example.com"), ContactType: types.ContactTypePersonalEmailAddress}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(made.ProfileId)
	key := e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "visits": 3, "vip": true})

	e.events("fields", 2)
	recs := kinesalite.ReadAll(t, e.kinesis, testRegion, "fields")
	if len(recs) != 2 {
		t.Fatalf("records: %v, want the profile's CREATED and the object's CREATED", recs)
	}
	documented := []string{"SchemaVersion", "EventId", "EventTimestamp", "EventType", "DomainName", "ObjectTypeName",
		"AssociatedProfileId", "ProfileObjectUniqueKey", "Object", "IsMessageRealTime"}
	read := func(r kinesalite.Record) map[string]any {
		t.Helper()
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(string(r.Data)))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("record %s: %v", r, err)
		}
		for k := range m {
			if !slices.Contains(documented, k) {
				t.Errorf("record %s has member %q, which the real-time export does not document", r, k)
			}
		}
		if v, ok := m["SchemaVersion"].(json.Number); !ok || v.String() != "0" {
			t.Errorf("SchemaVersion %#v, want the number 0", m["SchemaVersion"])
		}
		if v, ok := m["IsMessageRealTime"].(bool); !ok || !v {
			t.Errorf("IsMessageRealTime %#v, want true", m["IsMessageRealTime"])
		}
		for _, k := range []string{"EventId", "EventTimestamp", "EventType", "DomainName", "ObjectTypeName", "AssociatedProfileId"} {
			if s, ok := m[k].(string); !ok || s == "" {
				t.Errorf("%s %#v, want a string", k, m[k])
			}
		}
		ts, _ := m["EventTimestamp"].(string)
		if at, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") || at.IsZero() {
			t.Errorf("EventTimestamp %q: want RFC 3339 in UTC (%v)", ts, err)
		}
		if m["DomainName"] != e.domain || m["AssociatedProfileId"] != id || r.PartitionKey != id {
			t.Errorf("record %s: want DomainName %s, AssociatedProfileId and partition key %s", r, e.domain, id)
		}
		if _, ok := m["Object"].(map[string]any); !ok {
			t.Errorf("Object %#v, want a JSON object", m["Object"])
		}
		return m
	}

	prof := read(recs[0])
	if prof["EventType"] != "CREATED" || prof["ObjectTypeName"] != "_profile" || prof["ProfileObjectUniqueKey"] != nil {
		t.Errorf("profile record: %s", recs[0])
	}
	obj := prof["Object"].(map[string]any)
	want := map[string]any{"ProfileId": id, "FirstName": "Ann", "Gender": "FEMALE", "PartyType": "INDIVIDUAL", "BirthDate": "1980-02-03",
		"EmailAddress": "ann@example.com", "MailingAddress": map[string]any{"City": "Lyon", "PostalCode": "69001"},
		"Attributes":            map[string]any{"tier": "gold", "a.b": "dotted"},
		"EngagementPreferences": map[string]any{"Email": []any{map[string]any{"KeyName": "_email", "KeyValue": "ann@example.com", "ContactType": "PersonalEmailAddress"}}}}
	if g, w := fmt.Sprint(obj), fmt.Sprint(want); g != w {
		t.Errorf("profile record's Object:\n got %s\nwant %s (the API's Profile)", g, w)
	}

	o := read(recs[1])
	if o["EventType"] != "CREATED" || o["ObjectTypeName"] != "contact" || o["ProfileObjectUniqueKey"] != key {
		t.Errorf("object record: %s, want unique key %s", recs[1], key)
	}
	if g := o["Object"].(map[string]any); g["id"] != "c1" || g["visits"] != json.Number("3") || g["vip"] != true || len(g) != 4 {
		t.Errorf("object record's Object %v: want the object as ingested, its JSON types kept", g)
	}
}

// TestEventStreams_TypeDeletedUpdatesProfiles: deleting an object type
// removes from profiles the fields its objects set; each profile so
// changed is an update of an existing profile, and its UPDATED record
// (without those fields) reaches the event stream, so that a consumer's
// copy does not keep them.
func TestEventStreams_TypeDeletedUpdatesProfiles(t *testing.T) {
	e := newStreamsEnv(t)
	ctx := t.Context()
	e.putType(contactType("contact"))
	arn := kinesalite.CreateStream(t, e.kinesis, testRegion, "scrubbed", 1)
	if _, err := e.createEventStream("s", arn); err != nil {
		t.Fatal(err)
	}
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann"}})
	id := aws.ToString(e.mustOne("_email", "ann@example.com").ProfileId)
	if _, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id),
		LastName: aws.String("Lee")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeleteProfileObjectType(ctx, &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain),
		ObjectTypeName: aws.String("contact")}); err != nil {
		t.Fatal(err)
	}
	waitScrubDone(t, e.m, e.domain, "contact")
	if p := e.mustOne("_profileId", id); p.FirstName != nil || aws.ToString(p.LastName) != "Lee" {
		t.Fatalf("after deleting type contact: FirstName %v (want removed), LastName %v", p.FirstName, p.LastName)
	}
	evs := e.events("scrubbed", 4) // profile CREATED, object CREATED, profile UPDATED (LastName), profile UPDATED (type deleted)
	last := evs[len(evs)-1]
	if len(evs) != 4 || last.ObjectTypeName != "_profile" || last.EventType != "UPDATED" || last.AssociatedProfileID != id ||
		last.Object["FirstName"] != nil || last.Object["EmailAddress"] != nil || last.Object["LastName"] != "Lee" {
		t.Fatalf("records: %+v; want, last, the profile's UPDATED without the deleted type's fields", evs)
	}
}
