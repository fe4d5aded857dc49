package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/service"
)

// MustSQSClient returns the real AWS SQS client for a server's built-in queues.
func MustSQSClient(tb testing.TB, url string) *sqs.Client {
	tb.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(transport.CloseIdleConnections)
	return sqs.New(sqs.Options{
		BaseEndpoint: aws.String(url), Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPClient:  sdkhttp.New(&http.Client{Transport: transport}),
	})
}

// queuePolicy is the brief's statement, with the confused-deputy conditions.
func queuePolicy(name string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Customer Profiles SQS policy","Effect":"Allow",` +
		`"Principal":{"Service":"profile.amazonaws.com"},"Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:` + name + `",` +
		`"Condition":{"StringEquals":{"aws:SourceAccount":"000000000000"},"ArnLike":{"aws:SourceArn":"arn:aws:profile:us-east-1:000000000000:domains/*"}}}]}`
}

// mustServiceQueue creates a queue of the built-in queue service that the
// service may send dead letters to.
func mustServiceQueue(tb testing.TB, m *main.Main, name string) string {
	tb.Helper()
	return mustQueue(tb, MustSQSClient(tb, m.URL()), name, queuePolicy(name))
}

func mustQueue(t testing.TB, q *sqs.Client, name, policy string) string {
	t.Helper()
	attrs := map[string]string{}
	if policy != "" {
		attrs["Policy"] = policy
	}
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	return aws.ToString(out.QueueUrl)
}

// receiveAll receives every message of a queue (hiding them for a minute)
// and returns their bodies.
func receiveAll(t *testing.T, q *sqs.Client, url string) []string {
	t.Helper()
	var out []string
	for {
		res, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
}

// deadLetters receives every message of a queue (hiding them for a minute).
func deadLetters(t *testing.T, q *sqs.Client, url string) []service.DeadLetter {
	t.Helper()
	var out []service.DeadLetter
	for _, body := range receiveAll(t, q, url) {
		var dl service.DeadLetter
		if err := json.Unmarshal([]byte(body), &dl); err != nil {
			t.Fatalf("dead letter %q: %v", body, err)
		}
		out = append(out, dl)
	}
	return out
}

func runCLI(t *testing.T, m *main.Main, args ...string) (string, error) {
	t.Helper()
	setAWSEnv(t)
	var out, errb bytes.Buffer
	at := 1 // after the command, and the verb of dlq
	if args[0] == "dlq" {
		at = 2
	}
	args = append(append(append([]string{}, args[:at]...), "--endpoint", m.URL()), args[at:]...)
	err := main.Run(t.Context(), args, nil, &out, &errb, os.Getenv)
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

func TestDLQ_DomainWiring(t *testing.T) {
	m := MustRunMain(t)
	q := MustSQSClient(t, m.URL())
	client := MustClient(t, m)
	ctx := t.Context()
	good := mustQueue(t, q, "profiles-dlq", queuePolicy("profiles-dlq"))
	bare := mustQueue(t, q, "bare", "")
	wrongSource := mustQueue(t, q, "wrong", strings.ReplaceAll(queuePolicy("wrong"), "domains/*", "domains/someone-else"))
	create := func(name, url string) error {
		_, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(30), DeadLetterQueueUrl: aws.String(url)})
		return err
	}
	if err := create("good", good); err != nil {
		t.Fatalf("domain with a good queue: %v", err)
	}
	wantAPIError(t, create("bare", bare), "BadRequestException", "profile.amazonaws.com", "SQS:SendMessage", "arn:aws:sqs:us-east-1:000000000000:bare")
	wantAPIError(t, create("wrong", wrongSource), "BadRequestException", "SQS:SendMessage")
	wantAPIError(t, create("missing", m.URL()+"/000000000000/nope"), "BadRequestException", "nope")
	_, err := client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String("good"), DeadLetterQueueUrl: aws.String(bare)})
	wantAPIError(t, err, "BadRequestException", "SQS:SendMessage")
}

// TestDLQ_ErrorRows reproduces each error row of the product brief through
// the import path and finds each in the dead-letter queue.
func TestDLQ_ErrorRows(t *testing.T) {
	e := newDLQEnv(t, "built-in", "rows", "dlq", dlqKey, dlqConfig(func(c *main.Config) { c.IngestRate, c.IngestBurst, c.KMSKeyCheckInterval, c.DataKeyMaxAge = 1, 2, 0, 0 }))
	m, k, key, ctx := e.m, MustKMSClient(t, e.m), e.key, t.Context()
	importFile := func(lines ...string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "objects.jsonl")
		os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
		out, err := runCLI(t, m, "import", "--domain", "rows", "--object-type", "contact", "--quiet", path)
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		return out
	}
	obj := func(fields map[string]any) string { b, _ := json.Marshal(fields); return string(b) }

	// Rows 1, 2, 6 and 7: the object itself or the profile's pace.
	// Two profiles share a phone number.
	e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String("a@example.com"), PhoneNumber: aws.String("+1 555 000 0001")})
	e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String("b@example.com"), PhoneNumber: aws.String("+1 555 000 0001")})
	out := importFile(
		obj(map[string]any{"email": "no-unique-key@example.com"}),                                          // KEY_MISSING
		obj(map[string]any{"id": "big", "email": "big@example.com", "tier": strings.Repeat("é", 200_000)}), // OBJECT_TOO_LARGE
		obj(map[string]any{"id": "amb", "phone": "+15550000001"}),                                          // AMBIGUOUS_KEYS
		obj(map[string]any{"id": "r1", "email": "rate@example.com"}),
		obj(map[string]any{"id": "r2", "email": "rate@example.com"}),
		obj(map[string]any{"id": "r3", "email": "rate@example.com"}), // RATE_EXCEEDED
	)
	var res struct{ Ingested, Failed int }
	json.Unmarshal([]byte(out), &res)
	if res.Ingested != 2 || res.Failed != 4 {
		t.Fatalf("import: %s, want 2 ingested and 4 failed", out)
	}

	// Row 5: the key is disabled.
	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	importFile(obj(map[string]any{"id": "s1", "email": "state@example.com"}))
	if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	// Row 3: the key policy no longer lets the service use the key.
	if _, err := k.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("default"), Policy: aws.String(keyPolicy(""))}); err != nil {
		t.Fatal(err)
	}
	importFile(obj(map[string]any{"id": "p1", "email": "policy@example.com"}))
	if _, err := k.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("default"),
		Policy: aws.String(keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))}); err != nil {
		t.Fatal(err)
	}
	// Row 4: a stored record that does not decrypt (copied over another).
	pa, pb := aws.ToString(e.mustOne("_email", "a@example.com").ProfileId), aws.ToString(e.mustOne("_email", "b@example.com").ProfileId)
	mustRawExec(t, m, `UPDATE profiles SET data = (SELECT data FROM profiles WHERE id = ?) WHERE id = ?`, pa, pb)
	importFile(obj(map[string]any{"id": "i1", "email": "b@example.com"}))

	letters := e.letters()
	var codes []string
	byCode := map[string]service.DeadLetter{}
	for _, dl := range letters {
		codes = append(codes, dl.ErrorCode)
		byCode[dl.ErrorCode] = dl
		if dl.DomainName != "rows" || dl.ObjectTypeName != "contact" || dl.Source != "import" || dl.Attempts != 1 || dl.FirstFailureAt.IsZero() || dl.Object == "" {
			t.Errorf("dead letter %+v", dl)
		}
	}
	slices.Sort(codes)
	want := []string{"AMBIGUOUS_KEYS", "KEY_MISSING", "KMS_KEY_ACCESS", "KMS_KEY_INVALID", "KMS_KEY_STATE", "OBJECT_TOO_LARGE", "RATE_EXCEEDED"}
	if !slices.Equal(codes, want) {
		t.Fatalf("dead letters %v, want %v", codes, want)
	}
	for code, msg := range map[string]string{
		"KEY_MISSING":      "The UNIQUE key or PROFILE key doesn't exist in the profile object",
		"RATE_EXCEEDED":    "Too many objects ingested to the profile per second",
		"KMS_KEY_ACCESS":   "Customer Profiles can't ingest the object because the EncryptionKey doesn't exist in the region",
		"KMS_KEY_INVALID":  "The KMS key is invalid",
		"KMS_KEY_STATE":    "Customer Profiles cannot ingest the object because of an invalid KMS key",
		"OBJECT_TOO_LARGE": "Your data contains a profile object larger than 256000 bytes",
		"AMBIGUOUS_KEYS":   "All the keys in this object are linked to multiple profiles",
	} {
		if !strings.Contains(byCode[code].ErrorMessage, msg) {
			t.Errorf("%s: message %q does not hold %q", code, byCode[code].ErrorMessage, msg)
		}
	}
	if got := byCode["KEY_MISSING"].Object; got != obj(map[string]any{"email": "no-unique-key@example.com"}) {
		t.Errorf("the dead letter changed the object: %s", got)
	}
	// The object too large for a message is cut there and kept whole.
	big := byCode["OBJECT_TOO_LARGE"]
	if !big.ObjectTruncated || big.ObjectSize < 256000 || !strings.HasPrefix(obj(map[string]any{"id": "big", "email": "big@example.com", "tier": strings.Repeat("é", 200_000)}), big.Object) {
		t.Errorf("large dead letter: truncated %v, size %d", big.ObjectTruncated, big.ObjectSize)
	}
	if big.ObjectFile != "" {
		t.Errorf("the letter names a file of the server (%q), want a copy of the store", big.ObjectFile)
	}
	sealed := mustStoredCopy(t, m, "rows", big.ObjectCopy).Data
	ref := profiles.RecordRef{Domain: "rows", Kind: profiles.RecordDeadLetter, ObjectType: "contact", ID: big.ObjectCopy}
	if whole, err := m.Service.Sealer().Open(ctx, ref, sealed); err != nil || len(whole) != big.ObjectSize {
		t.Errorf("the large object is not kept whole in copy %s: %d bytes, %v", big.ObjectCopy, len(whole), err)
	}
}

// TestDLQ_Replay fixes the cause of failures and replays the queue.
func TestDLQ_Replay(t *testing.T) {
	e := newDLQEnv(t, "built-in", "replay", "dlq", dlqKey, dlqConfig(func(c *main.Config) { c.KMSKeyCheckInterval, c.DataKeyMaxAge = 0, 0 }))
	m, k, key, ctx := e.m, MustKMSClient(t, e.m), e.key, t.Context()
	if out, err := runCLI(t, m, "dlq", "--help"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "dlq replay") {
		t.Errorf("dlq --help: %v\n%s; want the usage", err, out)
	}
	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "objects.json")
	var objs []map[string]any
	for i := range 5 {
		objs = append(objs, map[string]any{"id": fmt.Sprint(i), "email": fmt.Sprintf("r%d@example.com", i)})
	}
	b, _ := json.Marshal(objs) // a JSON array this time
	os.WriteFile(path, b, 0o600)
	if out, err := runCLI(t, m, "import", "--domain", "replay", "--object-type", "contact", "--quiet", path); err != nil || !strings.Contains(out, `"Failed": 5`) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := runCLI(t, m, "dlq", "list", "--domain", "replay")
	if err != nil || strings.Count(out, `"ErrorCode": "KMS_KEY_STATE"`) != 5 {
		t.Fatalf("dlq list: %v\n%s", err, out)
	}
	// Listing leaves the letters visible: replaying right after, before
	// the fix, keeps them, with one more attempt.
	if out, err := runCLI(t, m, "dlq", "replay", "--domain", "replay"); err != nil || !strings.Contains(out, `"StillFailing": 5`) {
		t.Fatalf("replay before the fix: %v\n%s", err, out)
	}
	letters := e.letters()
	if len(letters) != 5 || letters[0].Attempts != 2 {
		t.Fatalf("after a failed replay: %d letters, attempts %d", len(letters), letters[0].Attempts)
	}
	// Empty the queue (the letters read are hidden), send them again,
	// fix the cause, replay.
	if _, err := e.q.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(e.url)}); err != nil {
		t.Fatal(err)
	}
	e.send(letters...)
	if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, m, "dlq", "replay", "--domain", "replay"); err != nil || !strings.Contains(out, `"Replayed": 5`) {
		t.Fatalf("replay after the fix: %v\n%s", err, out)
	}
	for i := range 5 {
		e.mustOne("_email", fmt.Sprintf("r%d@example.com", i))
	}
	if got := e.letters(); len(got) != 0 {
		t.Fatalf("%d dead letters left after a good replay", len(got))
	}
}

// mustExternalQueueDomain starts an external SQS-compatible server
// (another OpenProfiles server, whose config qc restarts it on the same
// address) with a queue at url, and a server m using it, whose domain "ext"
// sends its dead letters there and has object type "contact".
func mustExternalQueueDomain(t *testing.T) (qc main.Config, queues *main.Main, url string, m *main.Main) {
	t.Helper()
	qc = main.DefaultConfig()
	qc.Addr, qc.DataDir, qc.AccessKeyID, qc.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	queues = MustOpenMain(t, qc)
	qc.Addr = queues.Addr() // restart on the same address
	url = mustQueue(t, MustSQSClient(t, queues.URL()), "external-dlq", queuePolicy("external-dlq"))

	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	m = MustRunMain(t, func(c *main.Config) { c.SQSEndpoint = queues.URL() })
	client := MustClient(t, m)
	if _, err := client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("ext"), DefaultExpirationDays: aws.Int32(30), DeadLetterQueueUrl: aws.String(url)}); err != nil {
		t.Fatalf("domain on an external queue: %v", err)
	}
	e := &ingestEnv{t: t, m: m, client: client, domain: "ext"}
	e.putType(contactType("contact"))
	return qc, queues, url, m
}

// TestDLQ_OutageSpool stops the external queue server while objects fail:
// their dead letters wait in the spool and reach the queue when it is back.
func TestDLQ_OutageSpool(t *testing.T) {
	// The external SQS-compatible server: another OpenProfiles server.
	qc, queues, url, m := mustExternalQueueDomain(t)

	if err := queues.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "objects.jsonl")
	os.WriteFile(path, []byte(`{"email":"no-key-1@example.com"}`+"\n"+`{"email":"no-key-2@example.com"}`+"\n"), 0o600)
	if out, err := runCLI(t, m, "import", "--domain", "ext", "--object-type", "contact", "--quiet", path); err != nil || !strings.Contains(out, `"Failed": 2`) {
		t.Fatalf("import during the outage: %v\n%s", err, out)
	}
	if n, _ := m.Service.DeliverSpooled(t.Context()); n != 0 {
		t.Fatalf("delivered %d dead letters to a stopped queue", n)
	}

	queues = MustOpenMain(t, qc)
	n, err := m.Service.DeliverSpooled(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("DeliverSpooled after the outage: %d, %v; want 2", n, err)
	}
	letters := deadLetters(t, MustSQSClient(t, queues.URL()), url)
	if len(letters) != 2 || letters[0].ErrorCode != "KEY_MISSING" {
		t.Fatalf("external queue holds %+v", letters)
	}
	if n, _ := m.Service.DeliverSpooled(t.Context()); n != 0 {
		t.Fatalf("the spool delivered %d letters twice", n)
	}
}

// TestDLQ_SpoolAfterTornLine: the spool ends with a line cut short (a
// write that failed half-way, the disk full, or the machine crashing
// mid-write); the dead letters spooled after it are delivered, not glued
// to it into one line that does not parse and then dropped.
func TestDLQ_SpoolAfterTornLine(t *testing.T) {
	qc, queues, url, m := mustExternalQueueDomain(t)

	if err := queues.Close(); err != nil {
		t.Fatal(err)
	}
	torn := `{"url":"` + url + `","domain":"ext","body":"{\"Version\":1,\"DomainName\":\"ext\",\"Obj`
	if err := os.WriteFile(filepath.Join(m.Config.DataDir, "dlq-spool.jsonl"), []byte(torn), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "objects.jsonl")
	os.WriteFile(path, []byte(`{"email":"no-key-1@example.com"}`+"\n"+`{"email":"no-key-2@example.com"}`+"\n"), 0o600)
	if out, err := runCLI(t, m, "import", "--domain", "ext", "--object-type", "contact", "--quiet", path); err != nil || !strings.Contains(out, `"Failed": 2`) {
		t.Fatalf("import during the outage: %v\n%s", err, out)
	}

	queues = MustOpenMain(t, qc)
	if n, err := m.Service.DeliverSpooled(t.Context()); err != nil || n != 2 {
		t.Errorf("DeliverSpooled after the outage: %d, %v; want the 2 letters spooled after the torn line", n, err)
	}
	if letters := deadLetters(t, MustSQSClient(t, queues.URL()), url); len(letters) != 2 {
		t.Errorf("external queue holds %d letters, want 2: %+v", len(letters), letters)
	}
}

// TestDLQ_CLIStaysOnItsEndpoint: the built-in queue service takes queue
// URLs of any host, so whoever may update a domain may set its
// DeadLetterQueueUrl to a host of their own. `openprofiles dlq` must not
// send its requests, signed with the operator's credentials, there (a
// signature replayed to the server with that Host reads or purges the
// queue): it reads the queue at --endpoint.
func TestDLQ_CLIStaysOnItsEndpoint(t *testing.T) {
	m := MustRunMain(t)
	q := MustSQSClient(t, m.URL())
	client := MustClient(t, m)
	ctx := t.Context()
	var got []string
	var mu sync.Mutex
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Amz-Target")+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{"Messages":[]}`))
	}))
	defer elsewhere.Close()
	url := mustQueue(t, q, "dlq", queuePolicy("dlq"))
	foreign := elsewhere.URL + "/000000000000/dlq"
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("d"), DefaultExpirationDays: aws.Int32(30),
		DeadLetterQueueUrl: aws.String(foreign)}); err != nil {
		t.Fatal(err)
	}
	letter, _ := json.Marshal(service.DeadLetter{Version: 1, DomainName: "d", ObjectTypeName: "contact", ErrorCode: "INTERNAL", Object: `{"id":"1"}`, Attempts: 1})
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(letter))}); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"list", "purge"} {
		out, err := runCLI(t, m, "dlq", verb, "--domain", "d")
		if err != nil {
			t.Fatalf("dlq %s: %v\n%s", verb, err, out)
		}
		if verb == "list" && !strings.Contains(out, `"ErrorCode": "INTERNAL"`) {
			t.Errorf("dlq list: got\n%s\nwant the letter of the server's queue", out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) > 0 {
		t.Errorf("dlq sent %d requests to the host of the DeadLetterQueueUrl, e.g. %s; want none", len(got), got[0])
	}
}

// TestDLQ_ReplayOnlyTheDomain: a queue takes messages from anyone who may
// send to it, and may serve several domains. `dlq replay --domain D`, run
// with the operator's credentials, must not put objects into the domain a
// message names when it is not D.
func TestDLQ_ReplayOnlyTheDomain(t *testing.T) {
	mine := newDLQEnv(t, "built-in", "mine", "shared")
	other := mine.addDomain("other", "shared")
	mine.send(
		service.DeadLetter{Version: 1, DomainName: "other", ObjectTypeName: "contact", ErrorCode: "INTERNAL", Object: `{"id":"p","email":"planted@example.com"}`, Attempts: 1},
		service.DeadLetter{Version: 1, DomainName: "mine", ObjectTypeName: "contact", ErrorCode: "INTERNAL", Object: `{"id":"m","email":"mine@example.com"}`, Attempts: 1},
	)
	if out, err := runCLI(t, mine.m, "dlq", "replay", "--domain", "mine"); err != nil || !strings.Contains(out, `"Replayed": 1`) {
		t.Fatalf("dlq replay: %v\n%s", err, out)
	}
	mine.mustOne("_email", "mine@example.com")
	if ps := other.search("_email", "planted@example.com"); len(ps) != 0 {
		t.Errorf("replay of domain mine put %d profiles into domain other; want none", len(ps))
	}
	left := mine.letters()
	if len(left) != 1 || left[0].DomainName != "other" {
		t.Errorf("left in the queue: %+v; want the letter of domain other, visible", left)
	}
}

// TestDLQ_PurgeOnlyTheDomain: `dlq purge --domain D` deletes the letters
// of D and leaves the rest of a queue that serves several domains, and
// messages that are not dead letters, in the queue, visible at once. It
// used PurgeQueue, which deleted the other domains' letters too.
func TestDLQ_PurgeOnlyTheDomain(t *testing.T) {
	mine := newDLQEnv(t, "built-in", "mine", "shared")
	mine.addDomain("other", "shared")
	mine.send(
		service.DeadLetter{Version: 1, DomainName: "other", ObjectTypeName: "contact", ErrorCode: "INTERNAL", Object: `{"id":"o"}`, Attempts: 1},
		service.DeadLetter{Version: 1, DomainName: "mine", ObjectTypeName: "contact", ErrorCode: "INTERNAL", Object: `{"id":"m1"}`, Attempts: 1},
		service.DeadLetter{Version: 1, DomainName: "mine", ObjectTypeName: "contact", ErrorCode: "KEY_MISSING", Object: `{"id":"m2"}`, Attempts: 1},
	)
	mine.sendBody("not a dead letter")
	out, err := runCLI(t, mine.m, "dlq", "purge", "--domain", "mine")
	if err != nil {
		t.Fatalf("dlq purge: %v\n%s", err, out)
	}
	for _, w := range []string{`"Deleted": 2`, `"OtherDomains": 1`, `"Unreadable": 1`} {
		if !strings.Contains(out, w) {
			t.Errorf("dlq purge printed\n%s\nwant %s", out, w)
		}
	}
	left := mine.bodies() // visible at once
	slices.Sort(left)
	if len(left) != 2 || left[0] != "not a dead letter" || !strings.Contains(left[1], `"DomainName":"other"`) {
		t.Errorf("left in the queue: %q; want the letter of domain other and the message that is no letter", left)
	}
}

// TestDLQ_ReplayHandsBackUnreadable: a message that is not a dead letter
// (not JSON, or JSON naming no domain: anyone who may send to the queue
// may send anything) is left in the queue by `dlq replay`, visible again
// at once like the letters of other domains, not hidden for the run's
// hold; it is counted Unreadable, not StillFailing nor OtherDomains.
func TestDLQ_ReplayHandsBackUnreadable(t *testing.T) {
	env := newDLQEnv(t, "built-in", "mixed", "mixed")
	letter, _ := json.Marshal(service.DeadLetter{Version: 1, DomainName: "mixed", ObjectTypeName: "contact", ErrorCode: "INTERNAL",
		Object: `{"id":"m","email":"mixed@example.com"}`, Attempts: 1})
	env.sendBody("not a dead letter", `{"note":"JSON, but no dead letter"}`, string(letter))
	out, err := runCLI(t, env.m, "dlq", "replay", "--domain", "mixed")
	if err != nil || !strings.Contains(out, `"Replayed": 1`) || !strings.Contains(out, `"StillFailing": 0`) || !strings.Contains(out, `"Unreadable": 2`) ||
		strings.Contains(out, "OtherDomains") {
		t.Fatalf("dlq replay: %v\n%s; want Replayed 1, StillFailing 0, Unreadable 2, no OtherDomains", err, out)
	}
	env.mustOne("_email", "mixed@example.com")
	left := env.bodies()
	slices.Sort(left)
	if want := []string{"not a dead letter", `{"note":"JSON, but no dead letter"}`}; !slices.Equal(left, want) {
		t.Errorf("visible in the queue after the replay: %q; want the messages that are not dead letters, %q", left, want)
	}
}

// TestDLQ_CLIRefusesExternalQueue: `openprofiles dlq` without
// --sqs-endpoint, for a domain whose DeadLetterQueueUrl is an external
// service's queue (not one the built-in queues serve), refuses and says to
// name the service, rather than fail with a bare QueueDoesNotExist; with
// --sqs-endpoint it reads the external queue.
func TestDLQ_CLIRefusesExternalQueue(t *testing.T) {
	_, queues, url, m := mustExternalQueueDomain(t)
	t.Setenv("OPENPROFILES_SQS_ENDPOINT", "")
	letter, _ := json.Marshal(service.DeadLetter{Version: 1, DomainName: "ext", ObjectTypeName: "contact", ErrorCode: "INTERNAL", Object: `{"id":"1"}`, Attempts: 1})
	if _, err := MustSQSClient(t, queues.URL()).SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(letter))}); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"list", "replay", "purge"} {
		out, err := runCLI(t, m, "dlq", verb, "--domain", "ext")
		if err == nil || !strings.Contains(err.Error(), "--sqs-endpoint") || !strings.Contains(err.Error(), "OPENPROFILES_SQS_ENDPOINT") || !strings.Contains(err.Error(), "ext") {
			t.Errorf("dlq %s of a domain on an external queue, without --sqs-endpoint: %v\n%s; want a refusal naming --sqs-endpoint and OPENPROFILES_SQS_ENDPOINT", verb, err, out)
		}
	}
	out, err := runCLI(t, m, "dlq", "list", "--domain", "ext", "--sqs-endpoint", queues.URL())
	if err != nil || !strings.Contains(out, `"ErrorCode": "INTERNAL"`) {
		t.Errorf("dlq list --sqs-endpoint: %v\n%s; want the external queue's letter", err, out)
	}
}

// TestDLQ_ReplayLeavesCutLetters: `dlq replay` does not ingest the cut
// copy of a letter whose object was cut to fit a queue message (here one
// whose first part happens to be a whole JSON object, as with an object
// padded with white space); it leaves the letter as it is, with its own
// error and attempts, and counts it in Cut.
func TestDLQ_ReplayLeavesCutLetters(t *testing.T) {
	env := newDLQEnv(t, "built-in", "cut", "cut")
	env.send(service.DeadLetter{Version: 1, DomainName: "cut", ObjectTypeName: "contact", ErrorCode: "INTERNAL", ErrorMessage: "the original error",
		Object: `{"id":"c","email":"cut@example.com"}`, Attempts: 1, ObjectTruncated: true, ObjectSize: 300_000, ObjectCopy: strings.Repeat("ab", 16)})
	out, err := runCLI(t, env.m, "dlq", "replay", "--domain", "cut")
	if err != nil || !strings.Contains(out, `"Cut": 1`) || !strings.Contains(out, `"Replayed": 0`) {
		t.Fatalf("dlq replay: %v\n%s", err, out)
	}
	if ps := env.search("_email", "cut@example.com"); len(ps) != 0 {
		t.Errorf("dlq replay ingested the cut copy of a letter: %d profiles", len(ps))
	}
	left := env.letters()
	if len(left) != 1 || left[0].Attempts != 1 || left[0].ErrorMessage != "the original error" || !left[0].ObjectTruncated {
		t.Errorf("left in the queue: %+v; want the cut letter as it was", left)
	}
}

// TestDLQ_ReplayNewErrorCode: a letter the CLI's replay sends back carries
// the code of its new failure with its message, as the server's letters
// do (it kept the code of the first failure: KMS_KEY_STATE beside "object
// type not found").
func TestDLQ_ReplayNewErrorCode(t *testing.T) {
	e := newDLQEnv(t, "built-in", "codes", "codes-dlq")
	e.send(
		service.DeadLetter{Version: 1, DomainName: "codes", ObjectTypeName: "nosuchtype", Source: "import", ErrorCode: "KMS_KEY_STATE", ErrorMessage: "old", Object: `{"id":"1","email":"a@example.com"}`, Attempts: 1},
		service.DeadLetter{Version: 1, DomainName: "codes", ObjectTypeName: "contact", Source: "import", ErrorCode: "KMS_KEY_STATE", ErrorMessage: "old", Object: `{"note":"no keys"}`, Attempts: 1},
	)
	if out, err := runCLI(t, e.m, "dlq", "replay", "--domain", "codes"); err != nil || !strings.Contains(out, `"StillFailing": 2`) {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, dl := range e.letters() {
		got[dl.ObjectTypeName] = dl.ErrorCode
		if dl.ErrorMessage == "old" || dl.Attempts != 2 {
			t.Errorf("letter of %s sent back with message %q, attempts %d; want the new failure's, 2", dl.ObjectTypeName, dl.ErrorMessage, dl.Attempts)
		}
	}
	if want := map[string]string{"nosuchtype": "NOT_FOUND", "contact": "KEY_MISSING"}; !maps.Equal(got, want) {
		t.Errorf("codes of the letters sent back: %v, want %v", got, want)
	}
}
