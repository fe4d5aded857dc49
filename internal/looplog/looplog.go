// Package looplog logs the failures of work that runs again and again (a
// background loop at each sweep interval, a health probe), so that an
// outage does not fill the log with one ERROR line a run: a failure is
// logged at ERROR the first time it happens since the last run that
// succeeded, and at DEBUG when it happens again; the first run that
// succeeds after failures is logged once at INFO ("recovered"). A
// failure unlike those before it is logged at ERROR: it is never hidden.
// Two failures are alike when their messages differ in numbers only (the
// local port of a connection, a count).
package looplog

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
)

// maxKinds bounds the failures a Loop remembers between successes;
// beyond it, every failure not remembered is logged at ERROR.
const maxKinds = 32

// Loop is the failure log of one loop. Its methods may be called from
// several goroutines (health probes run concurrently).
type Loop struct {
	Logger *slog.Logger
	Name   string // the message of its failure lines
	Loop   string // its "loop" in the recovered line; Name when empty

	mu       sync.Mutex
	failures int             // runs that failed since the last that succeeded
	seen     map[string]bool // the kinds of those failures
}

// digits are the numbers Kind leaves out.
var digits = regexp.MustCompile(`[0-9]+`)

// Kind is what failures that are alike share: the message with its
// numbers left out.
func Kind(err error) string { return digits.ReplaceAllString(err.Error(), "#") }

// Failed logs err, a run's failure, with attrs (slog's key-value pairs):
// at ERROR if no failure like it happened since the last success, else at
// DEBUG with the count of runs that failed.
func (l *Loop) Failed(ctx context.Context, err error, attrs ...any) {
	kind := Kind(err)
	l.mu.Lock()
	l.failures++
	n, again := l.failures, l.seen[kind]
	if !again && len(l.seen) < maxKinds {
		if l.seen == nil {
			l.seen = map[string]bool{}
		}
		l.seen[kind] = true
	}
	l.mu.Unlock()
	args := append([]any{"err", err}, attrs...)
	if again {
		l.Logger.Log(ctx, slog.LevelDebug, l.Name, append(args, "failed_runs", n)...)
		return
	}
	l.Logger.Log(ctx, slog.LevelError, l.Name, args...)
}

// Succeeded records a run that succeeded: after failures, it logs one
// INFO line "recovered" naming the loop and how many runs failed.
func (l *Loop) Succeeded(ctx context.Context) {
	l.mu.Lock()
	n := l.failures
	l.failures, l.seen = 0, nil
	l.mu.Unlock()
	if n > 0 {
		loop := l.Loop
		if loop == "" {
			loop = l.Name
		}
		l.Logger.Log(ctx, slog.LevelInfo, "recovered", "loop", loop, "failed_runs", n)
	}
}
