package service_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// scriptedSource is an S3 bucket in memory whose OpenObject can fail or
// run a hook; the end-to-end tests use a real S3 protocol server
// (cmd/openprofiles), this one makes failures and timing happen on cue.
type scriptedSource struct {
	mu    sync.Mutex
	files map[string]profiles.SourceObject
	data  map[string]string
	fail  map[string]error // key -> error of its next OpenObject
	onGet func(key string)
	// bucketErr, when set, is the error of CheckBucket and ListObjects.
	bucketErr error
}

func (s *scriptedSource) put(key, data string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[key] = profiles.SourceObject{Key: key, Size: int64(len(data)), LastModified: at}
	s.data[key] = data
}

func (s *scriptedSource) CheckBucket(ctx context.Context, uri string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bucketErr
}

func (s *scriptedSource) ListObjects(ctx context.Context, bucket, prefix string) ([]profiles.SourceObject, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucketErr != nil {
		return nil, s.bucketErr
	}
	var out []profiles.SourceObject
	for _, o := range s.files {
		if strings.HasPrefix(o.Key, prefix) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b profiles.SourceObject) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (s *scriptedSource) OpenObject(ctx context.Context, bucket, key string, max int64) (io.ReadCloser, error) {
	s.mu.Lock()
	err := s.fail[key]
	delete(s.fail, key)
	hook := s.onGet
	d := s.data[key]
	s.mu.Unlock()
	if hook != nil {
		hook(key)
	}
	if err != nil {
		return nil, err
	}
	return io.NopCloser(strings.NewReader(d)), nil
}

// openWorkflows returns a service with a "crm" object type in domain "enc",
// reading src.
func openWorkflows(t testing.TB) (*service.Service, *scriptedSource, *time.Time) {
	t.Helper()
	s, _ := MustOpenEncrypted(t, service.DefaultCryptConfig)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.Configs, s.Integrations = s.Store.(profiles.ConfigStore), s.Store.(profiles.IntegrationStore)
	src := &scriptedSource{files: map[string]profiles.SourceObject{}, data: map[string]string{}, fail: map[string]error{}}
	s.Sources = src
	if _, err := s.PutObjectType(t.Context(), &profiles.ObjectType{DomainName: "enc", Name: "crm", Description: "crm", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}, "email": {Source: "_source.email", Target: "_profile.EmailAddress"}},
		Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}},
			"_email": {{StandardIdentifiers: []string{"PROFILE"}, FieldNames: []string{"email"}}}}}); err != nil {
		t.Fatal(err)
	}
	return s, src, &now
}

func jsonl(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "{\"id\":%q,\"email\":\"%s@example.com\"}\n", id, id)
	}
	return b.String()
}

func createFlow(t *testing.T, s *service.Service, trigger string) string {
	t.Helper()
	f := profiles.FlowDefinition{Name: "f-" + trigger, ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: trigger}
	if trigger == "Scheduled" {
		f.Schedule = &profiles.FlowSchedule{Expression: "rate(5 minutes)"}
	}
	w, err := s.CreateIntegrationWorkflow(t.Context(), &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "crm", Flow: f})
	if err != nil {
		t.Fatal(err)
	}
	return w.ID
}

// ingested says which of ids have a profile.
func ingested(t *testing.T, s *service.Service, ids ...string) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		found, _, err := s.SearchProfiles(t.Context(), "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{id + "@example.com"}}}, profiles.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) == 1 {
			out = append(out, id)
		}
	}
	return out
}

// TestWorkflow_StoppedMidStep: a step cut short by the server's stop is not
// complete; the next run reads its files again, and nothing is lost.
func TestWorkflow_StoppedMidStep(t *testing.T) {
	s, src, now := openWorkflows(t)
	src.put("in/a.json", jsonl("a1", "a2"), now.Add(-time.Hour))
	src.put("in/b.json", jsonl("b1"), now.Add(-time.Hour+time.Second))
	id := createFlow(t, s, "OnDemand")
	ctx, cancel := context.WithCancel(t.Context())
	src.onGet = func(key string) {
		if key == "in/a.json" {
			cancel()
		}
	}
	if _, err := s.RunWorkflows(ctx); err != nil {
		t.Fatal(err)
	}
	w, _ := s.GetWorkflow(t.Context(), "enc", id)
	if w.Status != "IN_PROGRESS" || w.StepsCompleted != 0 {
		t.Fatalf("after a stop: %+v; want IN_PROGRESS, no step complete", w)
	}
	src.onGet = nil
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	w, _ = s.GetWorkflow(t.Context(), "enc", id)
	if got := ingested(t, s, "a1", "a2", "b1"); w.Status != "COMPLETE" || len(got) != 3 {
		t.Fatalf("after the next run: %+v, ingested %v; want all three", w, got)
	}
	steps, _, _ := s.GetWorkflowSteps(t.Context(), "enc", id, profiles.Page{})
	if len(steps) != 2 || steps[0].Status != "FAILED" || steps[1].Status != "COMPLETE" || steps[1].Records != 3 {
		t.Fatalf("steps: %+v", steps)
	}
}

// TestWorkflow_Watermark: pulls read every file once, those sharing the
// second of the last one read and those after a file S3 would not give
// (read at the next pull) among them.
func TestWorkflow_Watermark(t *testing.T) {
	s, src, now := openWorkflows(t)
	t0 := now.Add(-time.Hour).Truncate(time.Second)
	src.put("in/a.json", jsonl("a"), t0)
	id := createFlow(t, s, "Scheduled")
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("history: %d, %v", n, err)
	}
	t1 := now.Add(time.Minute).Truncate(time.Second)
	src.put("in/b.json", jsonl("b"), t1)
	src.put("in/c.json", jsonl("c"), t1) // the same second as b
	src.fail["in/c.json"] = profiles.Errorf(profiles.ETHROTTLED, "SlowDown")
	*now = now.Add(6 * time.Minute)
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("pull: %d, %v", n, err)
	}
	if got := ingested(t, s, "a", "b", "c"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after the failed pull: %v; want a, b", got)
	}
	if w, _ := s.GetWorkflow(t.Context(), "enc", id); !strings.Contains(w.ErrorDescription, "in/c.json") {
		t.Errorf("ErrorDescription %q: want the file that failed", w.ErrorDescription)
	}
	src.put("in/d.json", jsonl("d"), t1) // lands in that second too, after the listing
	*now = now.Add(6 * time.Minute)
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("pull: %d, %v", n, err)
	}
	if got := ingested(t, s, "a", "b", "c", "d"); len(got) != 4 {
		t.Fatalf("after the next pull: %v; want all four", got)
	}
	steps, _, _ := s.GetWorkflowSteps(t.Context(), "enc", id, profiles.Page{})
	var recs []int64
	for _, st := range steps {
		recs = append(recs, st.Records)
	}
	if !slices.Equal(recs, []int64{1, 1, 2}) {
		t.Fatalf("records a step: %v, want 1, 1, 2 (a; b; c and d)", recs)
	}
}

// TestWorkflow_Throttled: a file's records of one profile wait out the
// per-profile ingestion rate instead of failing.
func TestWorkflow_Throttled(t *testing.T) {
	s, src, now := openWorkflows(t)
	s.Now = func() time.Time { return time.Now().UTC() } // the rate's tokens come with time
	s.SetIngestRate(20, 5)
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "{\"id\":\"r%d\",\"email\":\"same@example.com\"}\n", i)
	}
	src.put("in/a.json", b.String(), now.Add(-time.Hour))
	id := createFlow(t, s, "OnDemand")
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	if w, _ := s.GetWorkflow(t.Context(), "enc", id); w.RecordsProcessed != 30 || w.Status != "COMPLETE" {
		t.Fatalf("%+v: want 30 records ingested", w)
	}
}

// BenchmarkWorkflowStep: one step reading a file of 2,000 JSON lines
// (each its own profile) from a source in memory: parsing, tasks and
// ingestion of each record, encrypted SQLite.
func BenchmarkWorkflowStep(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, src, now := openWorkflows(b)
		var lines strings.Builder
		for i := range 2000 {
			fmt.Fprintf(&lines, "{\"id\":\"r%d\",\"email\":\"p%d@example.com\"}\n", i, i)
		}
		src.put("in/a.json", lines.String(), now.Add(-time.Hour))
		f := profiles.FlowDefinition{Name: "bench", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: "OnDemand"}
		if _, err := s.CreateIntegrationWorkflow(b.Context(), &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "crm", Flow: f}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := s.RunWorkflows(b.Context()); err != nil || n != 1 {
			b.Fatalf("RunWorkflows: %d, %v", n, err)
		}
	}
	b.ReportMetric(2000, "records/op")
}

// TestWorkflow_LateAndFailingFiles: a file that becomes visible after a
// pull with an older time (a multipart upload's) is read by the next one;
// a file S3 keeps refusing is skipped at its third failure and named; a
// clean pull clears the error.
func TestWorkflow_LateAndFailingFiles(t *testing.T) {
	s, src, now := openWorkflows(t)
	src.put("in/a.json", jsonl("a"), now.Add(-time.Hour))
	id := createFlow(t, s, "Scheduled")
	pull := func() {
		t.Helper()
		*now = now.Add(6 * time.Minute)
		if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
			t.Fatalf("RunWorkflows: %d, %v", n, err)
		}
	}
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("history: %d, %v", n, err)
	}
	src.put("in/b.json", jsonl("b"), now.Add(time.Minute))
	pull()
	src.put("in/late.json", jsonl("late"), now.Add(-5*time.Minute)) // older than b, visible only now
	pull()
	if got := ingested(t, s, "a", "b", "late"); len(got) != 3 {
		t.Fatalf("ingested %v; want a, b and the late file", got)
	}
	src.put("in/bad.json", jsonl("bad"), now.Add(time.Minute))
	src.put("in/z.json", jsonl("z"), now.Add(2*time.Minute))
	for i := range 3 {
		src.fail["in/bad.json"] = profiles.Errorf(profiles.EFORBIDDEN, "AccessDenied")
		pull()
		w, _ := s.GetWorkflow(t.Context(), "enc", id)
		if i < 2 && (!strings.Contains(w.ErrorDescription, "in/bad.json") || len(ingested(t, s, "z")) != 0) {
			t.Fatalf("pull %d: %q, z ingested %v; want the failure named, z not yet read", i+1, w.ErrorDescription, ingested(t, s, "z"))
		}
	}
	w, _ := s.GetWorkflow(t.Context(), "enc", id)
	if got := ingested(t, s, "z", "bad"); !slices.Equal(got, []string{"z"}) || !strings.Contains(w.ErrorDescription, "failed 3 times") {
		t.Fatalf("after the third failure: ingested %v, %q; want z, and bad.json named as skipped", got, w.ErrorDescription)
	}
	pull()
	if w, _ := s.GetWorkflow(t.Context(), "enc", id); w.ErrorDescription != "" || w.Status != "COMPLETE" {
		t.Fatalf("after a clean pull: %+v; want no error left", w)
	}
}

// failingConfigs fails the next update of a workflow when armed.
type failingConfigs struct {
	profiles.ConfigStore
	mu   sync.Mutex
	fail int // updates to let through before failing one; <0: none
}

func (f *failingConfigs) UpdateConfig(ctx context.Context, domain, kind, name string, fn func(*profiles.DomainConfig) error) (*profiles.DomainConfig, error) {
	f.mu.Lock()
	fail := kind == profiles.ConfigWorkflow && f.fail == 0
	if kind == profiles.ConfigWorkflow && f.fail >= 0 {
		f.fail--
	}
	f.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("disk I/O error")
	}
	return f.ConfigStore.UpdateConfig(ctx, domain, kind, name, fn)
}

// TestWorkflow_StoreFails: a write of the workflow's progress that fails
// leaves it to the next sweep, not FAILED.
func TestWorkflow_StoreFails(t *testing.T) {
	s, src, now := openWorkflows(t)
	f := &failingConfigs{ConfigStore: s.Configs, fail: -1}
	s.Configs = f
	src.put("in/a.json", jsonl("a"), now.Add(-time.Hour))
	id := createFlow(t, s, "OnDemand")
	f.mu.Lock()
	f.fail = 1 // the claim passes, the step's start fails
	f.mu.Unlock()
	if _, err := s.RunWorkflows(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.GetWorkflow(t.Context(), "enc", id); w.Status != "IN_PROGRESS" {
		t.Fatalf("after a failed write: %+v; want IN_PROGRESS", w)
	}
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("the next sweep: %d, %v", n, err)
	}
	if w, _ := s.GetWorkflow(t.Context(), "enc", id); w.Status != "COMPLETE" || len(ingested(t, s, "a")) != 1 {
		t.Fatalf("after the next sweep: %+v", w)
	}
}

// TestStartWorkflows: the background loop runs workflows side by side: one
// stuck reading a file does not hold up another's.
func TestStartWorkflows(t *testing.T) {
	s, src, now := openWorkflows(t)
	s.Now = func() time.Time { return time.Now().UTC() }
	src.put("in/slow.json", jsonl("slow"), now.Add(-time.Hour))
	release := make(chan struct{})
	src.onGet = func(key string) {
		if key == "in/slow.json" {
			<-release
		}
	}
	slow := createFlow(t, s, "OnDemand")
	f := profiles.FlowDefinition{Name: "quick", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "quick/", TriggerType: "OnDemand"}
	src.put("quick/a.json", jsonl("quick"), now.Add(-time.Hour))
	quick, err := s.CreateIntegrationWorkflow(t.Context(), &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "crm", Flow: f})
	if err != nil {
		t.Fatal(err)
	}
	s.StartWorkflows(10 * time.Millisecond)
	defer s.Close(context.Background())
	status := func(id string) string {
		w, err := s.GetWorkflow(t.Context(), "enc", id)
		if err != nil {
			t.Fatal(err)
		}
		return w.Status
	}
	for deadline := time.Now().Add(20 * time.Second); status(quick.ID) != "COMPLETE"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the quick workflow is %s while the slow one reads", status(quick.ID))
		}
	}
	if st := status(slow); st != "IN_PROGRESS" {
		t.Fatalf("the slow workflow is %s, want IN_PROGRESS", st)
	}
	close(release)
	for deadline := time.Now().Add(20 * time.Second); status(slow) != "COMPLETE"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the slow workflow is %s after its file came", status(slow))
		}
	}
}

// TestWorkflow_ServiceFails: records that cannot be ingested for a reason
// not their own (here, their object type is gone) stop the step; the
// workflow retries at the next sweep and loses nothing.
func TestWorkflow_ServiceFails(t *testing.T) {
	s, src, now := openWorkflows(t)
	src.put("in/a.json", jsonl("a1", "a2"), now.Add(-time.Hour))
	id := createFlow(t, s, "OnDemand")
	typ, err := s.GetObjectType(t.Context(), "enc", "crm")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObjectType(t.Context(), "enc", "crm"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunWorkflows(t.Context()); err != nil {
		t.Fatal(err)
	}
	w, _ := s.GetWorkflow(t.Context(), "enc", id)
	if w.Status != "RETRY" || !strings.Contains(w.ErrorDescription, "Retrying at the next sweep") {
		t.Fatalf("with the object type gone: %+v; want RETRY, retrying", w)
	}
	if _, err := s.PutObjectType(t.Context(), typ); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RunWorkflows(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	if w, _ := s.GetWorkflow(t.Context(), "enc", id); w.Status != "COMPLETE" || w.ErrorDescription != "" || len(ingested(t, s, "a1", "a2")) != 2 {
		t.Fatalf("after the object type came back: %+v, ingested %v; want COMPLETE, the retry's error gone", w, ingested(t, s, "a1", "a2"))
	}
}

// TestWorkflow_VersionsInFileOrder: a file's records go in by the
// hundreds at once; versions of one object (its UNIQUE key) still apply
// in the file's order, the last one kept, across and within batches.
func TestWorkflow_VersionsInFileOrder(t *testing.T) {
	s, src, now := openWorkflows(t)
	ctx := t.Context()
	var lines strings.Builder
	for i := range 600 { // objects o0..o49, twelve versions each
		fmt.Fprintf(&lines, "{\"id\":\"o%d\",\"email\":\"o%d@example.com\",\"version\":%d}\n", i%50, i%50, i)
	}
	src.put("in/a.json", lines.String(), now.Add(-time.Hour))
	createFlow(t, s, "OnDemand")
	if n, err := s.RunWorkflows(ctx); err != nil || n != 1 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	for k := range 50 {
		found, _, err := s.SearchProfiles(ctx, "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("o%d@example.com", k)}}}, profiles.Page{})
		if err != nil || len(found) != 1 {
			t.Fatalf("o%d: %d profiles, %v", k, len(found), err)
		}
		objs, _, err := s.ListProfileObjects(ctx, "enc", "crm", found[0].Profile.ID, "", nil, profiles.Page{})
		if err != nil || len(objs) != 1 {
			t.Fatalf("o%d: objects %d, %v; want one", k, len(objs), err)
		}
		if want := fmt.Sprintf("\"version\":%d", 550+k); !strings.Contains(string(objs[0].Data), want) {
			t.Fatalf("o%d: object %s; want the file's last version (%s)", k, string(objs[0].Data), want)
		}
	}
}

// TestWorkflow_OrderUnderThrottling: when the per-profile rate throttles a
// file's records, versions of one object and objects of one profile still
// apply in the file's order (a throttled record waits in its round): the
// last version is the one kept, and the profile holds the last row's name.
func TestWorkflow_OrderUnderThrottling(t *testing.T) {
	s, src, now := openWorkflows(t)
	ctx := t.Context()
	s.Now = func() time.Time { return time.Now().UTC() } // the rate's tokens come with time
	s.SetIngestRate(1000, 5)
	if _, err := s.PutObjectType(ctx, &profiles.ObjectType{DomainName: "enc", Name: "named", Description: "named", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}, "email": {Source: "_source.email", Target: "_profile.EmailAddress"},
			"name": {Source: "_source.name", Target: "_profile.FirstName"}},
		Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}},
			"_email": {{StandardIdentifiers: []string{"PROFILE"}, FieldNames: []string{"email"}}}}}); err != nil {
		t.Fatal(err)
	}
	var versions, rows strings.Builder
	for i := range 256 {
		fmt.Fprintf(&versions, "{\"id\":\"one\",\"email\":\"one@example.com\",\"version\":%d}\n", i)
	}
	for i := range 200 {
		fmt.Fprintf(&rows, "{\"id\":\"row%d\",\"email\":\"rows@example.com\",\"name\":\"v%d\"}\n", i, i)
	}
	src.put("in/versions.json", versions.String(), *now)
	src.put("rows/rows.json", rows.String(), *now)
	createFlow(t, s, "OnDemand")
	if _, err := s.CreateIntegrationWorkflow(ctx, &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "named",
		Flow: profiles.FlowDefinition{Name: "rows", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "rows/", TriggerType: "OnDemand"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RunWorkflows(ctx); err != nil || n != 2 {
		t.Fatalf("RunWorkflows: %d, %v", n, err)
	}
	one, _, err := s.SearchProfiles(ctx, "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"one@example.com"}}}, profiles.Page{})
	if err != nil || len(one) != 1 {
		t.Fatalf("one: %d profiles, %v", len(one), err)
	}
	objs, _, err := s.ListProfileObjects(ctx, "enc", "crm", one[0].Profile.ID, "", nil, profiles.Page{})
	if err != nil || len(objs) != 1 || !strings.Contains(string(objs[0].Data), `"version":255`) {
		t.Fatalf("the object kept: %v, %v; want version 255, the file's last", objs, err)
	}
	found, _, err := s.SearchProfiles(ctx, "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"rows@example.com"}}}, profiles.Page{})
	if err != nil || len(found) != 1 || found[0].Profile.Fields["FirstName"] != "v199" {
		t.Fatalf("the profile of the rows: %+v, %v; want FirstName v199, the file's last row", found, err)
	}
}

// TestWorkflow_S3MessagesNotShown: S3's own messages can name the
// server's credentials (an AccessDenied names its principal): the errors
// of CreateIntegrationWorkflow, the workflow's ErrorDescription and its
// steps' messages say what kind of failure it was, and the server's log
// has S3's message, as for event streams and segment snapshots.
func TestWorkflow_S3MessagesNotShown(t *testing.T) {
	s, src, now := openWorkflows(t)
	const secret = "arn:aws:iam::123456789012:user/openprofiles-server"
	denied := func(op, target string) error {
		return profiles.Errorf(profiles.EFORBIDDEN, "S3 %s %s: access denied (AccessDenied: User: %s is not authorized to perform: s3:%s)", op, target, secret, op)
	}
	src.bucketErr = denied("ListBucket", "b")
	f := profiles.FlowDefinition{Name: "f", ConnectorType: "S3", S3Bucket: "b", S3Prefix: "in/", TriggerType: "OnDemand"}
	_, err := s.CreateIntegrationWorkflow(t.Context(), &profiles.Workflow{DomainName: "enc", Type: "APPFLOW_INTEGRATION", ObjectTypeName: "crm", Flow: f})
	if msg := profiles.ErrorMessage(err); profiles.ErrorCode(err) != profiles.EINVALID || strings.Contains(msg, secret) || !strings.Contains(msg, "may not read the S3 bucket b") {
		t.Fatalf("CreateIntegrationWorkflow on a bucket the server may not read: %v; want EINVALID saying so, without S3's message", err)
	}
	src.bucketErr = nil
	src.put("in/a.json", jsonl("a"), now.Add(-time.Hour))
	id := createFlow(t, s, "OnDemand")
	src.fail["in/a.json"] = denied("GetObject", "b/in/a.json")
	if _, err := s.RunWorkflows(t.Context()); err != nil {
		t.Fatal(err)
	}
	w, err := s.GetWorkflow(t.Context(), "enc", id)
	if err != nil || w.Status != "FAILED" || strings.Contains(w.ErrorDescription, secret) || !strings.Contains(w.ErrorDescription, "may not read s3://b/in/a.json") {
		t.Fatalf("GetWorkflow after a file S3 refused: %+v, %v; want FAILED naming the file, without S3's message", w, err)
	}
	steps, _, err := s.GetWorkflowSteps(t.Context(), "enc", id, profiles.Page{})
	if err != nil || len(steps) != 1 || strings.Contains(steps[0].Message, secret) {
		t.Fatalf("GetWorkflowSteps: %+v, %v; want one step, without S3's message", steps, err)
	}
}
