//go:build unix

package main

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRotatingFile_DiskFull: a write of the audit log that does not fit
// (here: past a file size limit, EFBIG, as a full disk) leaves no part of
// its line in the file, for the next line to glue to; the server logs one
// line when writes begin to fail, not one per write, and one when they
// succeed again. It runs in a child process, whose file size limit it sets.
func TestRotatingFile_DiskFull(t *testing.T) {
	const line1, line2, line3 = `{"n":1,"pad":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}` + "\n",
		`{"n":2,"pad":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}` + "\n",
		`{"n":3}` + "\n"
	if dir := os.Getenv("OPENPROFILES_TEST_AUDIT_DIR"); dir != "" {
		var logs bytes.Buffer
		f, err := openRotatingFile(filepath.Join(dir, "audit.log"), 1<<20, 5)
		if err != nil {
			t.Fatal(err)
		}
		f.logger = slog.New(slog.NewTextHandler(&logs, nil))
		signal.Ignore(syscall.SIGXFSZ)
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		hard := lim.Max
		lim.Cur = uint64(len(line1) + len(line2)/2)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(line1)); err != nil {
			t.Fatalf("first line, within the limit: %v", err)
		}
		for range 3 {
			if _, err := f.Write([]byte(line2)); err == nil {
				t.Fatal("a line past the limit: nil error")
			}
		}
		if got := strings.Count(logs.String(), "audit log: write failed"); got != 1 {
			t.Errorf("%d log lines for 3 failed writes, want 1:\n%s", got, logs.String())
		}
		lim.Cur = hard
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(line3)); err != nil {
			t.Fatalf("a line once there is room: %v", err)
		}
		if !strings.Contains(logs.String(), "audit log: writes succeed again") {
			t.Errorf("no log line of writes succeeding again:\n%s", logs.String())
		}
		f.Close()
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "OPENPROFILES_TEST_AUDIT_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil || string(got) != line1+line3 {
		t.Errorf("audit log after a write that did not fit: %q, %v; want %q", got, err, line1+line3)
	}
}
