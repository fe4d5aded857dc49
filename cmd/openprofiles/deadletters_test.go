package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/service"
)

// TestDeadLetterService: the dead letters of a domain as the console reads
// them (profiles.DeadLetterService on the built-in queue): a message that
// is not a dead letter is listed as such and left alone by replays; a dead
// letter too large for a queue message is replayed with the whole object
// kept in the store; listing consumes nothing.
func TestDeadLetterService(t *testing.T) {
	d := newDLQEnv(t, "built-in", "ops", "ops-dlq", dlqNoType)
	m, client, ctx := d.m, d.client, t.Context()
	// A big object full of characters JSON escapes: the dead letter is cut.
	note := strings.Repeat(`"`, 120000)
	obj, _ := json.Marshal(map[string]string{"id": "big-1", "email": "big@example.com", "note": note})
	if _, err := m.Service.IngestAsync(ctx, "ops", "orders", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	d.sendBody("not ours")

	for range 2 { // listing twice: nothing was consumed
		entries, err := m.Service.ListDeadLetters(ctx, "ops", 10)
		if err != nil || len(entries) != 2 {
			t.Fatalf("ListDeadLetters: %d, %v; want 2", len(entries), err)
		}
	}
	entries, _ := m.Service.ListDeadLetters(ctx, "ops", 10)
	var foreignID, keptCopy string
	for _, e := range entries {
		if e.Letter != nil {
			keptCopy = e.Letter.ObjectCopy
		}
		switch {
		case e.Letter == nil:
			foreignID = e.ID
			if e.Body != "not ours" {
				t.Errorf("foreign message body %q", e.Body)
			}
		case !e.Letter.ObjectTruncated || e.Letter.ObjectCopy == "" || e.Letter.ObjectFile != "" || e.Letter.ObjectSize != len(obj):
			t.Errorf("big dead letter: truncated %v copy %q file %q size %d, want truncated with a copy, no file, and size %d",
				e.Letter.ObjectTruncated, e.Letter.ObjectCopy, e.Letter.ObjectFile, e.Letter.ObjectSize, len(obj))
		}
	}

	d.putType(contactType("orders"))
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
	checkCopyGone(t, m, "ops", keptCopy)

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
	one := newDLQEnv(t, "built-in", "one", "shared-dlq")
	two := one.addDomain("two", "shared-dlq")
	m, ctx := one.m, t.Context()
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"id":"leak","email":"leaked@example.com"}`), 0o600)
	for _, letter := range []map[string]any{
		{"Version": 1, "DomainName": "two", "ObjectTypeName": "contact", "Source": "import", "ErrorCode": "INTERNAL", "Attempts": 1,
			"Object": `{"id":"t1","email":"two@example.com"}`},
		{"Version": 1, "DomainName": "one", "ObjectTypeName": "contact", "Source": "import", "ErrorCode": "INTERNAL", "Attempts": 1,
			"Object": `{"id":"o1","email":"one@example.com"}`, "ObjectTruncated": true, "ObjectFile": secret, "ObjectSize": 44},
	} {
		b, _ := json.Marshal(letter)
		one.sendBody(string(b))
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
	// The letter of one names a file that is not a copy the server keeps:
	// it fails, and neither the file nor the letter's cut object is put.
	if replayed, failed, _, err := m.Service.ReplayDeadLetters(ctx, "one", nil, nil); err != nil || replayed != 0 || failed != 1 {
		t.Fatalf("replay of one: %d replayed, %d failed, %v; want its one letter failed", replayed, failed, err)
	}
	if got := one.search("_email", "leaked@example.com"); len(got) != 0 {
		t.Errorf("the replay read the file a forged letter named")
	}
	if got := one.search("_email", "one@example.com"); len(got) != 0 {
		t.Errorf("the replay put the cut object of a letter whose whole copy it does not keep")
	}
	if got := two.search("_email", "two@example.com"); len(got) != 0 {
		t.Errorf("replaying domain one's letters put domain two's letter into domain two")
	}
	if replayed, _, _, err := m.Service.ReplayDeadLetters(ctx, "two", nil, nil); err != nil || replayed != 1 {
		t.Fatalf("replay of two: %d replayed, %v; want its letter", replayed, err)
	}
}

// mustLetters returns the dead letters of a domain's queue, by their
// object's email.
func mustLetters(t *testing.T, m *main.Main, domain string) map[string]*profiles.DeadLetterEntry {
	t.Helper()
	entries, err := m.Service.ListDeadLetters(t.Context(), domain, 10)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*profiles.DeadLetterEntry{}
	for _, e := range entries {
		if e.Letter == nil {
			t.Fatalf("a message of %s's queue is not a dead letter: %s", domain, e.Body)
		}
		// The object may be cut: its email is read from its beginning.
		_, email, _ := strings.Cut(e.Letter.Object, `"email":"`)
		email, _, _ = strings.Cut(email, `"`)
		out[email] = e
	}
	return out
}

// mustStoredCopy returns the whole copy of a dead letter of domain that
// the store of m keeps.
func mustStoredCopy(t *testing.T, m *main.Main, domain, name string) *profiles.DeadLetterCopy {
	t.Helper()
	if name == "" {
		t.Fatalf("a letter of %s names no whole copy", domain)
	}
	c, err := m.DB.FindDeadLetterCopy(t.Context(), domain, name)
	if err != nil {
		t.Fatalf("the whole copy %s of a letter of %s: %v", name, domain, err)
	}
	return c
}

// checkCopyGone fails t unless the store of m no longer keeps the whole
// copy of a dead letter of domain.
func checkCopyGone(t *testing.T, m *main.Main, domain, name string) {
	t.Helper()
	if name == "" {
		t.Fatalf("a letter of %s names no whole copy", domain)
	}
	if _, err := m.DB.FindDeadLetterCopy(t.Context(), domain, name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("the whole copy %s of a letter of %s: %v; want it gone (ENOTFOUND)", name, domain, err)
	}
}

// copyCount counts the whole copies of dead letters of domain the store
// of m keeps.
func copyCount(t *testing.T, m *main.Main, domain string) int {
	t.Helper()
	return mustRawCount(t, m, `SELECT count(*) FROM dead_letter_copies WHERE domain = ?`, domain)
}

// TestDeadLetterCopies_OneDomainOneLetter: the whole copy of a dead letter
// cut to fit a queue message belongs to its domain and its letter alone,
// and is sealed with the domain's key. The same object failing in two
// domains has two copies: replaying one domain's letter removes its copy
// and leaves the other's, which replays whole. A message forged into a
// domain's queue that names another domain's copy does not bring that
// copy into the domain (nor its cut part). Before, copies were named by the
// object's SHA-256, shared by every letter of any domain, in plaintext.
func TestDeadLetterCopies_OneDomainOneLetter(t *testing.T) {
	ae := newDLQEnv(t, "built-in", "alpha", "alpha-dlq", dlqNoType)
	be := ae.addDomain("beta", "beta-dlq")
	m, client, ctx := ae.m, ae.client, t.Context()
	// Characters JSON escapes: the letters are cut. No type yet: they fail.
	big := func(id, email string) string {
		b, _ := json.Marshal(map[string]string{"email": email, "id": id, "note": strings.Repeat(`"`, 120000) + "the-end-of-" + id})
		return string(b)
	}
	shared, secret := big("shared", "shared@example.com"), big("secret", "secret@example.com")
	for _, in := range []struct{ domain, obj string }{{"alpha", shared}, {"beta", shared}, {"alpha", secret}} {
		if _, err := m.Service.IngestAsync(ctx, in.domain, "contact", in.obj, "import"); err == nil {
			t.Fatal("ingestion into a missing object type succeeded")
		}
	}
	alpha, beta := mustLetters(t, m, "alpha"), mustLetters(t, m, "beta")
	if len(alpha) != 2 || len(beta) != 1 {
		t.Fatalf("letters: alpha %d, beta %d; want 2, 1", len(alpha), len(beta))
	}
	alphaShared, betaShared, alphaSecret := alpha["shared@example.com"].Letter.ObjectCopy, beta["shared@example.com"].Letter.ObjectCopy, alpha["secret@example.com"].Letter.ObjectCopy
	if alphaShared == betaShared || alphaShared == alphaSecret {
		t.Errorf("copies %s (alpha, shared), %s (beta, shared), %s (alpha, secret): want one for each letter", alphaShared, betaShared, alphaSecret)
	}
	for _, c := range []struct{ domain, name string }{{"alpha", alphaShared}, {"beta", betaShared}, {"alpha", alphaSecret}} {
		data := mustStoredCopy(t, m, c.domain, c.name).Data
		for _, plain := range []string{"@example.com", "the-end-of-", `\"\"\"`} {
			if strings.Contains(string(data), plain) {
				t.Errorf("the whole copy %s of %s holds the object's plaintext (%s)", c.name, c.domain, plain)
			}
		}
	}

	// Forged into beta's queue: letters naming alpha's copy of the secret
	// object, by its name, by a path to it, and as a file of the previous
	// version.
	sl := alpha["secret@example.com"].Letter
	for _, names := range [][2]string{{sl.ObjectCopy, ""}, {"../alpha/" + sl.ObjectCopy, ""}, {"", sl.ObjectCopy + ".sealed"}} {
		forged := *sl
		forged.DomainName, forged.ObjectCopy, forged.ObjectFile = "beta", names[0], names[1]
		be.send(forged)
	}
	ae.putType(contactType("contact"))
	be.putType(contactType("contact"))

	replayed, failed, _, err := m.Service.ReplayDeadLetters(ctx, "beta", nil, nil)
	if err != nil || replayed != 1 || failed != 3 {
		t.Fatalf("replay of beta: %d replayed, %d failed, %v; want its own letter replayed and the 3 forged ones failed", replayed, failed, err)
	}
	if got := be.search("_email", "secret@example.com"); len(got) != 0 {
		t.Errorf("a letter forged into beta's queue brought alpha's object into beta")
	}
	be.mustOne("_email", "shared@example.com")
	checkCopyGone(t, m, "beta", betaShared)
	for _, e := range mustLetters(t, m, "beta") {
		if !strings.Contains(e.Letter.ErrorMessage, "not") || e.Letter.Attempts != 2 {
			t.Errorf("a forged letter kept with attempts %d, error %q; want one more attempt and why its copy is not read", e.Letter.Attempts, e.Letter.ErrorMessage)
		}
	}

	replayed, failed, _, err = m.Service.ReplayDeadLetters(ctx, "alpha", nil, nil)
	if err != nil || replayed != 2 || failed != 0 {
		t.Fatalf("replay of alpha after beta's: %d replayed, %d failed, %v; want 2, 0", replayed, failed, err)
	}
	for email, want := range map[string]string{"shared@example.com": shared, "secret@example.com": secret} {
		p := ae.mustOne("_email", email)
		objs, err := client.ListProfileObjects(ctx, &customerprofiles.ListProfileObjectsInput{DomainName: aws.String("alpha"),
			ObjectTypeName: aws.String("contact"), ProfileId: p.ProfileId})
		if err != nil || len(objs.Items) != 1 || aws.ToString(objs.Items[0].Object) != want {
			t.Errorf("alpha's replayed object of %s: %v; want it whole (%d bytes)", email, err, len(want))
		}
	}
	checkCopyGone(t, m, "alpha", alphaShared)
	checkCopyGone(t, m, "alpha", alphaSecret)
}

// TestDeadLetterCopies_KeyDisabled: a dead letter's whole copy is opened
// with its domain's key. While the key is disabled, the replay fails with
// an error naming the key and keeps the letter and its copy; once it is
// enabled again, the letter replays whole. A large object failing while the
// key is disabled keeps no copy (not one in plain text) and says so.
func TestDeadLetterCopies_KeyDisabled(t *testing.T) {
	e := newDLQEnv(t, "built-in", "gamma", "gamma-dlq", dlqKey, dlqNoType, dlqConfig(func(c *main.Config) { c.KMSKeyCheckInterval, c.DataKeyMaxAge = 0, 0 }))
	m, k, key, ctx := e.m, MustKMSClient(t, e.m), e.key, t.Context()
	obj, _ := json.Marshal(map[string]string{"email": "locked@example.com", "id": "locked", "note": strings.Repeat(`"`, 120000)})
	if _, err := m.Service.IngestAsync(ctx, "gamma", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	e.putType(contactType("contact"))
	letter := mustLetters(t, m, "gamma")["locked@example.com"]
	copyName := letter.Letter.ObjectCopy

	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := m.Service.ReplayDeadLetters(ctx, "gamma", nil, nil); err != nil || replayed != 0 || failed != 1 {
		t.Fatalf("replay with the key disabled: %d replayed, %d failed, %v; want 0, 1", replayed, failed, err)
	}
	kept := mustLetters(t, m, "gamma")["locked@example.com"]
	if kept == nil || kept.Letter.ObjectCopy != copyName || !strings.Contains(kept.Letter.ErrorMessage, "KMS") {
		t.Fatalf("the letter after a replay with the key disabled: %+v; want it kept, naming its copy, with the key's error", kept)
	}
	t.Logf("kept with %s: %s", kept.Letter.ErrorCode, kept.Letter.ErrorMessage)
	mustStoredCopy(t, m, "gamma", copyName)
	// A large object that fails while the key is disabled: its whole
	// copy cannot be sealed, and is not kept in plain text; the letter
	// keeps its first part and says so.
	obj2, _ := json.Marshal(map[string]string{"email": "unsealed@example.com", "id": "unsealed", "note": strings.Repeat(`"`, 120000)})
	if _, err := m.Service.IngestAsync(ctx, "gamma", "contact", string(obj2), "import"); err == nil {
		t.Fatal("ingestion with the domain's key disabled succeeded")
	}
	unsealed := mustLetters(t, m, "gamma")["unsealed@example.com"]
	if unsealed == nil || !unsealed.Letter.ObjectTruncated || unsealed.Letter.ObjectCopy != "" || !strings.Contains(unsealed.Letter.ErrorMessage, "is not kept") {
		t.Fatalf("the letter of a large object failing with the key disabled: %+v; want it cut, with no copy, saying why", unsealed)
	}
	if n := copyCount(t, m, "gamma"); n != 1 {
		t.Errorf("%d copies of gamma's letters, want the first letter's alone", n)
	}

	if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := m.Service.ReplayDeadLetters(ctx, "gamma", nil, nil); err != nil || replayed != 1 || failed != 1 {
		t.Fatalf("replay with the key enabled again: %d replayed, %d failed, %v; want 1 (the one with a copy), 1", replayed, failed, err)
	}
	e.mustOne("_email", "locked@example.com")
	checkCopyGone(t, m, "gamma", copyName)
}

// TestDeadLetterCopies_DomainDeleted: the whole copies of a domain's cut
// dead letters are its data: DeleteDomain removes them from the store
// (with the domain), and the files an earlier version wrote in the data
// dir; the sweep removes, on every node, the files of a domain that no
// longer exists and those written before the domain of that name was
// created (another node's copies of a deleted domain).
func TestDeadLetterCopies_DomainDeleted(t *testing.T) {
	gone := newDLQEnv(t, "built-in", "gone", "gone-dlq", dlqNoType)
	m, client, ctx := gone.m, gone.client, t.Context()
	for _, e := range []*dlqEnv{gone, gone.addDomain("kept", "kept-dlq")} {
		d := e.domain
		obj, _ := json.Marshal(map[string]string{"email": d + "@example.com", "note": strings.Repeat(`"`, 120000)})
		if _, err := m.Service.IngestAsync(ctx, d, "contact", string(obj), "import"); err == nil {
			t.Fatal("ingestion into a missing object type succeeded")
		}
	}
	goneCopy, keptCopy := mustLetters(t, m, "gone")["gone@example.com"].Letter.ObjectCopy, mustLetters(t, m, "kept")["kept@example.com"].Letter.ObjectCopy
	mustStoredCopy(t, m, "gone", goneCopy)
	// A file the previous version wrote for a letter of gone.
	objects := filepath.Join(m.Config.DataDir, "dlq-objects")
	goneFile := filepath.Join(objects, "gone", strings.Repeat("ef", 16)+".sealed")
	if err := os.MkdirAll(filepath.Dir(goneFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goneFile, []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}

	if _, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	if n := copyCount(t, m, "gone"); n != 0 {
		t.Errorf("%d copies of a deleted domain's letters are still kept", n)
	}
	if _, err := os.Stat(filepath.Join(objects, "gone")); !os.IsNotExist(err) {
		t.Errorf("the files of a deleted domain's letters are still kept: %v", err)
	}
	// A domain of that name created again has none of them.
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("gone"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	checkCopyGone(t, m, "gone", goneCopy)

	// What other nodes of an earlier version would leave: a file of a
	// domain that no longer exists, and one of "kept" written before it
	// was created.
	ghost, old := filepath.Join(objects, "ghost", strings.Repeat("ab", 16)+".sealed"), filepath.Join(objects, "kept", strings.Repeat("cd", 16)+".sealed")
	for _, f := range []string{ghost, old} {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("sealed"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, before, before); err != nil {
		t.Fatal(err)
	}
	n, err := m.Service.SweepDeadLetterCopies(ctx)
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d removed, %v; want 2", n, err)
	}
	for _, f := range []string{ghost, filepath.Dir(ghost), old} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the sweep: %v", f, err)
		}
	}
	mustStoredCopy(t, m, "kept", keptCopy) // a recent copy of a domain that exists stays
}

// checkCopiesAcrossNodes: letters of objects too large for a queue message,
// written through node a, are replayed whole and deleted through node b (a
// node of the same store, or a itself): the whole copies live in the store,
// not in the data dir of the node that wrote them, and go with their
// letters.
func checkCopiesAcrossNodes(t *testing.T, a, b *main.Main, closeA bool) {
	t.Helper()
	ctx := t.Context()
	ea := &ingestEnv{t: t, m: a, client: MustClient(t, a), domain: "shared"}
	if _, err := ea.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("shared"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(mustServiceKey(t, a)), DeadLetterQueueUrl: aws.String(mustServiceQueue(t, a, "shared-dlq"))}); err != nil {
		t.Fatal(err)
	}
	big := func(id string) string {
		b, _ := json.Marshal(map[string]string{"email": id + "@example.com", "id": id, "note": strings.Repeat(`"`, 120000) + "the-end-of-" + id})
		return string(b)
	}
	for _, id := range []string{"replayed", "deleted"} {
		if _, err := a.Service.IngestAsync(ctx, "shared", "contact", big(id), "import"); err == nil {
			t.Fatal("ingestion into a missing object type succeeded")
		}
	}
	letters := mustLetters(t, a, "shared")
	replayed, deleted := letters["replayed@example.com"], letters["deleted@example.com"]
	if replayed == nil || deleted == nil || !replayed.Letter.ObjectTruncated || !deleted.Letter.ObjectTruncated {
		t.Fatalf("the letters written through node a: %v; want both, cut", letters)
	}
	if files, err := os.ReadDir(filepath.Join(a.Config.DataDir, "dlq-objects")); !os.IsNotExist(err) {
		t.Errorf("node a keeps %d whole copies in its data dir (%v); want none there", len(files), err)
	}
	if closeA {
		a.Close() // the node that wrote them is gone
	}

	eb := &ingestEnv{t: t, m: b, client: MustClient(t, b), domain: "shared"}
	eb.putType(contactType("contact"))
	if n, f, _, err := b.Service.ReplayDeadLetters(ctx, "shared", []string{replayed.ID}, nil); err != nil || n != 1 || f != 0 {
		t.Fatalf("replay through node b: %d replayed, %d failed, %v; want 1, 0", n, f, err)
	}
	p := eb.mustOne("_email", "replayed@example.com")
	if objs := eb.objects("contact", aws.ToString(p.ProfileId)); len(objs) != 1 || aws.ToString(objs[0].Object) != big("replayed") {
		t.Errorf("the object replayed through node b: %d objects; want the whole object (%d bytes)", len(objs), len(big("replayed")))
	}
	checkCopyGone(t, b, "shared", replayed.Letter.ObjectCopy)

	mustStoredCopy(t, b, "shared", deleted.Letter.ObjectCopy)
	if n, err := b.Service.DeleteDeadLetters(ctx, "shared", []string{deleted.ID}); err != nil || n != 1 {
		t.Fatalf("delete through node b: %d, %v; want 1", n, err)
	}
	checkCopyGone(t, b, "shared", deleted.Letter.ObjectCopy)
	if n := copyCount(t, b, "shared"); n != 0 {
		t.Errorf("%d copies left once every letter was replayed or deleted", n)
	}
}

// TestDeadLetterCopies_InTheStore: on one node (the test's store), a
// letter too large for a queue message is replayed whole from the copy the
// store keeps, and a letter deleted takes its copy with it (it stayed in
// the data dir until the domain was deleted).
func TestDeadLetterCopies_InTheStore(t *testing.T) {
	m := MustRunMain(t)
	checkCopiesAcrossNodes(t, m, m, false)
}

// TestDeadLetterCopies_EarlierVersionFile: a letter cut by the previous
// version names a file of the data dir of the node that wrote it
// (ObjectFile, dlq-objects/<domain>/<32 hex>.sealed, sealed and bound to
// that file name): after the upgrade, a replay on that node still ingests
// it whole, and removes the file; a delete of such a letter removes its
// file too. Nothing is lost in the upgrade.
func TestDeadLetterCopies_EarlierVersionFile(t *testing.T) {
	e := newDLQEnv(t, "built-in", "old", "old-dlq")
	m, ctx := e.m, t.Context()
	files := map[string]string{}
	for i, id := range []string{"replayed", "deleted"} {
		b, _ := json.Marshal(map[string]string{"email": id + "@example.com", "id": id, "note": strings.Repeat(`"`, 120000)})
		obj := string(b)
		name := strings.Repeat(fmt.Sprintf("%02x", i+1), 16) + ".sealed"
		// As the previous version wrote it.
		sealed, err := m.Service.Sealer().Seal(ctx, profiles.RecordRef{Domain: "old", Kind: profiles.RecordDeadLetter, ObjectType: "contact", ID: name}, b)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(m.Config.DataDir, "dlq-objects", "old", name)
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, sealed, 0o600); err != nil {
			t.Fatal(err)
		}
		files[id] = file
		e.send(service.DeadLetter{Version: 1, DomainName: "old", ObjectTypeName: "contact", Source: "import", ErrorCode: "NOT_FOUND",
			ErrorMessage: "no type", Object: obj[:1000], Attempts: 1, ObjectTruncated: true, ObjectSize: len(obj), ObjectFile: name})
	}
	letters := mustLetters(t, m, "old")
	if n, f, _, err := m.Service.ReplayDeadLetters(ctx, "old", []string{letters["replayed@example.com"].ID}, nil); err != nil || n != 1 || f != 0 {
		t.Fatalf("replay of a letter of the previous version: %d replayed, %d failed, %v; want 1, 0", n, f, err)
	}
	p := e.mustOne("_email", "replayed@example.com")
	if objs := e.objects("contact", aws.ToString(p.ProfileId)); len(objs) != 1 || !strings.HasSuffix(aws.ToString(objs[0].Object), `"}`) || len(aws.ToString(objs[0].Object)) < 120000 {
		t.Errorf("the replayed object of the previous version's letter: %d objects; want it whole", len(objs))
	}
	if n, err := m.Service.DeleteDeadLetters(ctx, "old", []string{letters["deleted@example.com"].ID}); err != nil || n != 1 {
		t.Fatalf("delete of a letter of the previous version: %d, %v; want 1", n, err)
	}
	for id, file := range files {
		if _, err := os.Stat(file); !os.IsNotExist(err) {
			t.Errorf("the file of the %s letter of the previous version: %v; want it removed", id, err)
		}
	}
}
