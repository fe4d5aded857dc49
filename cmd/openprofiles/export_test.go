package main

import (
	"context"
	"io"
	"os"
	"time"
)

// RunDlq runs `openprofiles dlq` as Run does, with replay's letters hidden
// for hold at a time, calling beforePut (if set) before each letter is
// ingested again.
func RunDlq(ctx context.Context, args []string, stdout, stderr io.Writer, hold time.Duration, beforePut func()) error {
	return runDlqWith(ctx, args, stdout, stderr, os.Getenv, dlqTuning{hold: hold, beforePut: beforePut})
}
