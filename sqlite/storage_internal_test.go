//go:build unix

package sqlite

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// storageChild names the variable that tells a test it runs as the child
// of runStorageChild: a limit on the size of files binds the whole process.
const storageChild = "OPENPROFILES_TEST_STORAGE_CHILD"

// runStorageChild runs the test again in a child process, which returns
// true there: the test then does its work and returns.
func runStorageChild(t *testing.T) (child bool) {
	t.Helper()
	if os.Getenv(storageChild) != "" {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), storageChild+"=1", "TMPDIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return false
}

// limitFileSize makes a write that would grow a file past n bytes fail
// (EFBIG) from now on in this process: a full disk, as far as SQLite can
// tell. Call it in a child only.
func limitFileSize(t *testing.T, n uint64) {
	t.Helper()
	signal.Ignore(syscall.SIGXFSZ)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
}

// TestStorageFull_SingleStatementWrites: the writes made of one statement
// outside a transaction (PutMessage, the built-in queue's SendMessage and
// every dead letter sent to it; TouchAccessKey; CreatePrincipal; …) report
// a full storage as every other write does: ErrStorageFull in the chain,
// and StorageFull (/healthz degraded) until one commits again. Before,
// their error was a bare disk I/O error: logged once per request, and
// /healthz said ok.
func TestStorageFull_SingleStatementWrites(t *testing.T) {
	if !runStorageChild(t) {
		return
	}
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "profiles.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateQueue(ctx, &profiles.Queue{Name: "q", URL: "http://q/000000000000/q", ARN: "arn:aws:sqs:us-east-1:000000000000:q"}); err != nil {
		t.Fatal(err)
	}
	var largest int64
	for _, name := range []string{db.path, db.path + "-wal"} {
		if fi, err := os.Stat(name); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	limitFileSize(t, uint64(largest)+64<<10)
	big := strings.Repeat("x", 1<<20)
	err := db.PutMessage(ctx, &profiles.StoredMessage{QueueName: "q", ID: "big", Body: big, SentAt: time.Now()})
	if !errors.Is(err, profiles.ErrStorageFull) {
		t.Fatalf("PutMessage past the file size limit: %v, want ErrStorageFull in its chain", err)
	}
	if !db.StorageFull() {
		t.Error("StorageFull after a single-statement write found the storage full: false")
	}
	if err := db.PutMessage(ctx, &profiles.StoredMessage{QueueName: "q", ID: "small", Body: "small", SentAt: time.Now()}); err != nil {
		t.Fatalf("a small PutMessage that fits: %v", err)
	}
	if db.StorageFull() {
		t.Error("StorageFull after a single-statement write committed: true")
	}
}
