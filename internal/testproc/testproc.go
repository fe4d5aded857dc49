// Package testproc runs the emulators tests talk to (fauxqs, kinesalite)
// as processes: it starts one, waits for the line that says where it
// listens, and stops it when the test ends.
package testproc

import (
	"bufio"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Start starts cmd and returns the first submatch of listening in a line of
// its standard output; the process is killed and waited for when tb ends.
// tb fails when it cannot start, exits first, or prints no such line within
// 30 s (with what it wrote to standard error). name names it in messages.
func Start(tb testing.TB, name string, cmd *exec.Cmd, listening *regexp.Regexp) string {
	tb.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s (%s): %v", name, strings.Join(cmd.Args, " "), err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout) // request logs
	}()
	select {
	case url := <-found:
		return url
	case <-exited:
		tb.Fatalf("%s exited before listening: %s", name, stderr.String())
	case <-time.After(30 * time.Second):
		tb.Fatalf("%s did not listen within 30 s: %s", name, stderr.String())
	}
	return ""
}
