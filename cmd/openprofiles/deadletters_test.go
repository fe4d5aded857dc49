package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
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
	var foreignID string
	for _, e := range entries {
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
	replayed, failed, err := m.Service.ReplayDeadLetters(ctx, "ops", nil)
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
