//go:build linux

package main_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"golang.org/x/sys/unix"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// setFileSizeLimit sets the soft RLIMIT_FSIZE of a running process: a
// write that would take any file past n bytes fails (EFBIG; Go ignores
// SIGXFSZ), which is, as the process can tell, a full disk.
// unix.RLIM_INFINITY lifts it.
func setFileSizeLimit(t *testing.T, pid int, n uint64) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &lim); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	lim.Cur = n
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
}

// logLines returns the server's log lines whose msg starts with prefix.
func logLines(log, prefix string) []string {
	var out []string
	for line := range strings.Lines(log) {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Msg, prefix) {
			out = append(out, line)
		}
	}
	return out
}

// healthz returns the node's /healthz status and body.
func (n *nodeProcess) healthz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Transport: n.transport, Timeout: 10 * time.Second}).Get(n.url + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestDiskFull_SQLite runs the server (embedded SQLite) with a limit on the
// size of its files, set on the running process, and ingests until writes
// fail: each failure is an InternalServerException saying the storage is
// full (no hang, no other error), the server logs that once (not once per
// request), reads and /healthz go on and say so. Once the limit is lifted,
// without a restart, writes succeed again and every acknowledged object is
// there; after a restart too, and SQLite's integrity check passes, with
// exactly the acknowledged objects in the database, each with its keys and
// its profile.
func TestDiskFull_SQLite(t *testing.T) {
	bin := mustBuildBinary(t)
	dataDir := t.TempDir()
	env := []string{"OPENPROFILES_ACCESS_KEY_ID=" + testKeyID, "OPENPROFILES_SECRET_ACCESS_KEY=" + testSecret,
		"OPENPROFILES_STORE=sqlite", "OPENPROFILES_INGEST_RATE=0", "OPENPROFILES_LOG_LEVEL=info"}
	n, err := startNode(t, bin, "node", dataDir, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	k := kms.New(kms.Options{
		BaseEndpoint: aws.String(n.url), Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPClient:  sdkhttp.New(&http.Client{Transport: n.transport, Timeout: 30 * time.Second}),
	})
	keyOut, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("profiles"),
		Policy: aws.String(keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	const domain = "full"
	if _, err := n.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(domain),
		DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: keyOut.KeyMetadata.Arn}); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	ct := contactType("contact")
	ct.DomainName = aws.String(domain)
	if _, err := n.client.PutProfileObjectType(ctx, ct); err != nil {
		t.Fatalf("PutProfileObjectType: %v", err)
	}

	// Room for a few hundred more objects in each file.
	var largest int64
	files, _ := os.ReadDir(dataDir)
	for _, f := range files {
		if fi, err := f.Info(); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	limit := uint64(largest) + 1<<20
	setFileSizeLimit(t, n.cmd.Process.Pid, limit)
	t.Logf("files limited to %d bytes (largest was %d)", limit, largest)

	// Ingest, 8 at a time, until 40 puts have failed. Each object has an
	// email of its own: one profile each.
	var (
		mu               sync.Mutex
		acked            []string
		failed, attempts int
		otherErrs        []error
	)
	next := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				mu.Lock()
				if failed >= 40 || next >= 20000 || len(otherErrs) > 0 {
					mu.Unlock()
					return
				}
				next++
				id := fmt.Sprintf("o%05d", next)
				mu.Unlock()
				err := n.put(t, domain, id, id+"@example.com")
				mu.Lock()
				attempts++
				var ise *types.InternalServerException
				switch {
				case err == nil:
					acked = append(acked, id)
				case errors.As(err, &ise) && aws.ToString(ise.Message) == profiles.ErrStorageFull.Message:
					failed++
				default:
					otherErrs = append(otherErrs, fmt.Errorf("put %s: %w", id, err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range otherErrs {
		t.Errorf("want InternalServerException %q, got %v", profiles.ErrStorageFull.Message, err)
	}
	if failed < 40 {
		t.Fatalf("%d puts, %d failed: the limit was never reached", attempts, failed)
	}
	if len(acked) == 0 {
		t.Fatal("no put succeeded before the limit")
	}
	t.Logf("%d puts: %d acknowledged, %d refused (storage full)", attempts, len(acked), failed)

	// While full: reads work, /healthz says so, one log line says why.
	if _, err := n.client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)}); err != nil {
		t.Errorf("GetDomain while the storage is full: %v", err)
	}
	n.mustSearchOne(t, domain, acked[0]+"@example.com")
	// /healthz tells the state of the last write: one that fits in the room
	// a checkpoint's restart of the WAL gives back succeeds and clears it.
	// So it is read right after a put refused, until it says degraded.
	var health string
	// (Puts succeed again for a while once the WAL restarts, until it is
	// full again: a few thousand tries at most.)
	for i := 0; i < 5000 && health != `{"status":"degraded","storage":"full"}`; i++ {
		id := fmt.Sprintf("h%05d", i)
		err := n.put(t, domain, id, id+"@example.com")
		var ise *types.InternalServerException
		switch {
		case err == nil:
			acked = append(acked, id)
			continue
		case !errors.As(err, &ise) || aws.ToString(ise.Message) != profiles.ErrStorageFull.Message:
			t.Fatalf("put %s: %v, want InternalServerException %q", id, err, profiles.ErrStorageFull.Message)
		}
		status, body := n.healthz(t)
		health = fmt.Sprintf("%d %s", status, body)
		if status == http.StatusOK {
			health = body
		}
	}
	if health != `{"status":"degraded","storage":"full"}` {
		t.Errorf("/healthz right after a put refused for the storage full: %s, want 200 {\"status\":\"degraded\",\"storage\":\"full\"}", health)
	}
	log := n.log.String()
	if full := logLines(log, "sqlite: storage full"); len(full) != 1 || !strings.Contains(full[0], `"data_dir":"`+dataDir+`"`) {
		t.Errorf("log lines of the storage full: %d %q, want one naming data_dir %s", len(full), full, dataDir)
	}
	if lines := logLines(log, "request failed"); len(lines) != 0 {
		t.Errorf("%d 'request failed' log lines for %d puts refused, want none (the store logs the cause once); first: %s", len(lines), failed, lines[0])
	}
	if lines := logLines(log, "sqlite: checkpoint"); len(lines) > 1 {
		t.Errorf("%d checkpoint log lines, want at most one; first: %s", len(lines), lines[0])
	}

	// Room again, without a restart: new writes succeed, and every
	// acknowledged object is there.
	setFileSizeLimit(t, n.cmd.Process.Pid, unix.RLIM_INFINITY)
	for i := range 20 {
		id := fmt.Sprintf("r%05d", i)
		if err := n.put(t, domain, id, id+"@example.com"); err != nil {
			t.Fatalf("put after the limit was lifted: %v", err)
		}
		acked = append(acked, id)
	}
	if lines := logLines(n.log.String(), "sqlite: storage takes writes again"); len(lines) != 1 {
		t.Errorf("%d log lines of the storage taking writes again, want 1", len(lines))
	}
	if status, body := n.healthz(t); status != http.StatusOK || body != `{"status":"ok"}` {
		t.Errorf("/healthz once writes succeed again: %d %s, want 200 {\"status\":\"ok\"}", status, body)
	}
	checkAcked := func(n *nodeProcess) {
		t.Helper()
		for _, id := range acked {
			pid := n.mustSearchOne(t, domain, id+"@example.com")
			if got := n.mustObjectIDs(t, domain, pid); !slices.Equal(got, []string{id}) {
				t.Fatalf("%s: profile of %s holds objects %v, want [%s]", n.name, id, got, id)
			}
		}
	}
	checkAcked(n)
	n.mustStop(t)

	// On disk: integrity, exactly the acknowledged objects, none without
	// its keys or its profile.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "openprofiles.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || strings.TrimSpace(check) != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
	var fk int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fk); err != nil || fk != 0 {
		t.Errorf("foreign_key_check: %d violations, %v", fk, err)
	}
	var objects, keyless int
	if err := db.QueryRow(`SELECT count(*) FROM objects WHERE domain = ?`, domain).Scan(&objects); err != nil || objects != len(acked) {
		t.Errorf("%d objects in the database (%v), want the %d acknowledged", objects, err, len(acked))
	}
	if err := db.QueryRow(`SELECT count(*) FROM objects o WHERE o.domain = ? AND NOT EXISTS (SELECT 1 FROM keys k
		WHERE k.domain = o.domain AND k.origin = o.object_type AND k.object_key = o.unique_key)`, domain).Scan(&keyless); err != nil || keyless != 0 {
		t.Errorf("%d objects without keys (%v), want none", keyless, err)
	}
	db.Close()

	// After a restart.
	n2, err := startNode(t, bin, "restarted", dataDir, env)
	if err != nil {
		t.Fatal(err)
	}
	checkAcked(n2)
	if err := n2.put(t, domain, "after-restart", "after-restart@example.com"); err != nil {
		t.Errorf("put after the restart: %v", err)
	}
	n2.mustStop(t)
}
