//go:build unix

package service_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// fsizeChild names the variable that tells a test it runs as the child of
// runChild, and the directory it shares with its parent.
const fsizeChild = "OPENPROFILES_TEST_CHILD_DIR"

// childDir returns the directory the parent shares with this test, run by
// runChild; "" in the parent.
func childDir() string { return os.Getenv(fsizeChild) }

// runChild runs the test again, in a child process, with dir.
func runChild(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fsizeChild+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// limitFileSize makes a write that would grow a file past n bytes fail
// (EFBIG), from now on in this process (RLIMIT_FSIZE, which binds root too:
// a full disk, as far as the writer can tell). Call it in a child only.
func limitFileSize(t *testing.T, n uint64) {
	t.Helper()
	signal.Ignore(syscall.SIGXFSZ) // the write fails instead of killing the process
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
}

// halfDown is a dead-letter queue service on which the queue "down" cannot
// be reached and the others take every message.
type halfDown struct{ profiles.DeadLetters }

func (halfDown) Send(ctx context.Context, url, body, sourceAccount, sourceARN string) error {
	if url == "down" {
		return profiles.Errorf(profiles.EINTERNAL, "queue unreachable")
	}
	return nil
}

// TestDeliverSpooled_RewriteFails: when the spool cannot be rewritten with
// the letters left (the disk full), it stays as it was: the letters not
// delivered are not lost (those delivered go again, as they would after a
// crash). Before, the failed writes were ignored and the spool replaced by
// a copy cut short.
func TestDeliverSpooled_RewriteFails(t *testing.T) {
	if dir := childDir(); dir != "" {
		s := service.New(nil, "us-east-1", "000000000000", []byte("secret"))
		s.Queues = halfDown{}
		s.SetSpool(filepath.Join(dir, "spool.jsonl"))
		limitFileSize(t, 16)
		if _, err := s.DeliverSpooled(context.Background()); err == nil {
			t.Error("DeliverSpooled with no room for the rewritten spool: nil error")
		}
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "spool.jsonl")
	var spool []byte
	for i, url := range []string{"up", "down", "up", "down"} {
		b, _ := json.Marshal(map[string]string{"url": url, "domain": "d", "body": strings.Repeat("x", 100*(i+1))})
		spool = append(append(spool, b...), '\n')
	}
	if err := os.WriteFile(path, spool, 0o600); err != nil {
		t.Fatal(err)
	}
	runChild(t, dir)
	if got, err := os.ReadFile(path); err != nil || string(got) != string(spool) {
		t.Errorf("spool after a rewrite that failed: %d bytes, %v; want it as it was (%d bytes)", len(got), err, len(spool))
	}
	if files, _ := os.ReadDir(dir); len(files) != 1 {
		t.Errorf("%d files left in the spool's directory, want the spool alone", len(files))
	}
}
