package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/openprofiles/profiles"
)

// TestDeadLetterService: the dead letters of a domain as the console reads
// them (profiles.DeadLetterService on the built-in queue): a message that
// is not a dead letter is listed as such and left alone by replays; a dead
// letter too large for a queue message is replayed with the whole object
// kept in the data dir; listing consumes nothing.
func TestDeadLetterService(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	queue := mustServiceQueue(t, m, "ops-dlq")
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("ops"),
		DefaultExpirationDays: aws.Int32(30), DeadLetterQueueUrl: aws.String(queue)}); err != nil {
		t.Fatal(err)
	}
	// A big object full of characters JSON escapes: the dead letter is cut.
	note := strings.Repeat(`"`, 120000)
	obj, _ := json.Marshal(map[string]string{"id": "big-1", "email": "big@example.com", "note": note})
	if _, err := m.Service.IngestAsync(ctx, "ops", "orders", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	if _, err := MustSQSClient(t, m.URL()).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("not ours")}); err != nil {
		t.Fatal(err)
	}

	for range 2 { // listing twice: nothing was consumed
		entries, err := m.Service.ListDeadLetters(ctx, "ops", 10)
		if err != nil || len(entries) != 2 {
			t.Fatalf("ListDeadLetters: %d, %v; want 2", len(entries), err)
		}
	}
	entries, _ := m.Service.ListDeadLetters(ctx, "ops", 10)
	var foreignID, keptFile string
	for _, e := range entries {
		if e.Letter != nil {
			keptFile = filepath.Join(m.Config.DataDir, "dlq-objects", e.Letter.ObjectFile)
		}
		switch {
		case e.Letter == nil:
			foreignID = e.ID
			if e.Body != "not ours" {
				t.Errorf("foreign message body %q", e.Body)
			}
		case !e.Letter.ObjectTruncated || e.Letter.ObjectFile == "" || e.Letter.ObjectSize != len(obj):
			t.Errorf("big dead letter: truncated %v file %q size %d, want truncated with a file and size %d",
				e.Letter.ObjectTruncated, e.Letter.ObjectFile, e.Letter.ObjectSize, len(obj))
		}
	}

	(&ingestEnv{t: t, m: m, client: client, domain: "ops"}).putType(contactType("orders"))
	replayed, failed, _, err := m.Service.ReplayDeadLetters(ctx, "ops", nil, nil)
	if err != nil || replayed != 1 || failed != 0 {
		after, _ := m.Service.ListDeadLetters(ctx, "ops", 10)
		for _, e := range after {
			if e.Letter != nil {
				t.Logf("still failing: %s %s", e.Letter.ErrorCode, e.Letter.ErrorMessage)
			}
		}
		t.Fatalf("ReplayDeadLetters: %d replayed, %d failed, %v; want 1, 0", replayed, failed, err)
	}
	out, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("ops"),
		KeyName: aws.String("_email"), Values: []string{"big@example.com"}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("the replayed profile: %v, %v", out, err)
	}
	objs, err := client.ListProfileObjects(ctx, &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("ops"),
		ObjectTypeName: aws.String("orders"), ProfileId: out.Items[0].ProfileId})
	if err != nil || len(objs.Items) != 1 || aws.ToString(objs.Items[0].Object) != string(obj) {
		t.Fatalf("the replayed object: %v; want the whole object (%d bytes), not the cut copy", err, len(obj))
	}
	if _, err := os.Stat(keptFile); !os.IsNotExist(err) {
		t.Errorf("the whole copy of a replayed letter is still kept (%s): %v", keptFile, err)
	}

	// The foreign message stayed; deleting it by ID empties the queue.
	if n, err := m.Service.DeadLetterDepth(ctx, "ops"); err != nil || n != 1 {
		t.Errorf("depth after the replay: %d, %v; want 1", n, err)
	}
	if n, err := m.Service.DeleteDeadLetters(ctx, "ops", []string{foreignID}); err != nil || n != 1 {
		t.Errorf("DeleteDeadLetters: %d, %v; want 1", n, err)
	}
	if n, _ := m.Service.DeadLetterDepth(ctx, "ops"); n != 0 {
		t.Errorf("depth at the end: %d, want 0", n)
	}

	// Errors name what is wrong.
	if _, err := m.Service.ListDeadLetters(ctx, "ops", 0); err == nil || !strings.Contains(err.Error(), "max") {
		t.Errorf("ListDeadLetters(max 0): %v", err)
	}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("noqueue"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Service.ListDeadLetters(ctx, "noqueue", 10); err == nil || !strings.Contains(err.Error(), "no dead-letter queue") {
		t.Errorf("ListDeadLetters of a domain without a queue: %v", err)
	}
	if _, err := m.Service.DeadLetterDepth(ctx, "missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("DeadLetterDepth of a missing domain: %v", err)
	}
}

// TestDeadLetterService_ForgedLetters: whoever may send to a dead-letter
// queue may write any message in it. A replay from a domain replays only
// the letters that name it (a queue may serve several domains), reads a
// cut object's whole copy only from a file this server kept for it (not any
// file a message names), and leaves the letters the caller may not put.
func TestDeadLetterService_ForgedLetters(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	queue := mustServiceQueue(t, m, "shared-dlq")
	for _, d := range []string{"one", "two"} {
		if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(d),
			DefaultExpirationDays: aws.Int32(30), DeadLetterQueueUrl: aws.String(queue)}); err != nil {
			t.Fatal(err)
		}
		(&ingestEnv{t: t, m: m, client: client, domain: d}).putType(contactType("contact"))
	}
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"id":"leak","email":"leaked@example.com"}`), 0o600)
	q := MustSQSClient(t, m.URL())
	for _, letter := range []map[string]any{
		{"Version": 1, "DomainName": "two", "ObjectTypeName": "contact", "Source": "import", "ErrorCode": "INTERNAL", "Attempts": 1,
			"Object": `{"id":"t1","email":"two@example.com"}`},
		{"Version": 1, "DomainName": "one", "ObjectTypeName": "contact", "Source": "import", "ErrorCode": "INTERNAL", "Attempts": 1,
			"Object": `{"id":"o1","email":"one@example.com"}`, "ObjectTruncated": true, "ObjectFile": secret, "ObjectSize": 44},
	} {
		b, _ := json.Marshal(letter)
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(string(b))}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := m.Service.ListDeadLetters(ctx, "one", 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("ListDeadLetters(one): %d, %v", len(entries), err)
	}
	for _, e := range entries {
		if e.Letter != nil && e.Letter.DomainName != "one" {
			t.Errorf("domain one lists a letter of domain %s as its own", e.Letter.DomainName)
		}
	}
	refuse := func(string) error { return profiles.Errorf(profiles.EFORBIDDEN, "no") }
	if replayed, failed, refused, err := m.Service.ReplayDeadLetters(ctx, "one", nil, refuse); err != nil || replayed+failed != 0 || refused != 1 {
		t.Fatalf("replay of one, its object type refused: %d replayed, %d failed, %d refused, %v; want 1 refused", replayed, failed, refused, err)
	}
	if replayed, failed, _, err := m.Service.ReplayDeadLetters(ctx, "one", nil, nil); err != nil || replayed != 1 || failed != 0 {
		t.Fatalf("replay of one: %d replayed, %d failed, %v; want its one letter", replayed, failed, err)
	}
	one := &ingestEnv{t: t, m: m, client: client, domain: "one"}
	one.mustOne("_email", "one@example.com")
	if got := one.search("_email", "leaked@example.com"); len(got) != 0 {
		t.Errorf("the replay read the file a forged letter named")
	}
	if got := (&ingestEnv{t: t, m: m, client: client, domain: "two"}).search("_email", "two@example.com"); len(got) != 0 {
		t.Errorf("replaying domain one's letters put domain two's letter into domain two")
	}
	if replayed, _, _, err := m.Service.ReplayDeadLetters(ctx, "two", nil, nil); err != nil || replayed != 1 {
		t.Fatalf("replay of two: %d replayed, %v; want its letter", replayed, err)
	}
}
