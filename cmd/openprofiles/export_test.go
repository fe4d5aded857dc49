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

// RunDlqReceiving runs `openprofiles dlq` as RunDlq does, calling
// afterReceive with the IDs of each batch of messages replay and purge receive,
// once it holds them.
func RunDlqReceiving(ctx context.Context, args []string, stdout, stderr io.Writer, hold time.Duration, afterReceive func(ids []string)) error {
	return runDlqWith(ctx, args, stdout, stderr, os.Getenv, dlqTuning{hold: hold, afterReceive: afterReceive})
}

// RunDlqHeld runs `openprofiles dlq` as RunDlqReceiving does, holding at
// most maxHeld messages received at once (instead of SQS's bound).
func RunDlqHeld(ctx context.Context, args []string, stdout, stderr io.Writer, maxHeld int, afterReceive func(ids []string)) error {
	return runDlqWith(ctx, args, stdout, stderr, os.Getenv, dlqTuning{hold: time.Minute, afterReceive: afterReceive, maxHeld: maxHeld})
}

// SchemaBehind reports the database's schema version and the highest this
// server knows once the server found the database migrated past it, and
// whether its background work has stopped since.
func (m *Main) SchemaBehind() (current, known int, behind, backgroundStopped bool) {
	current, known, behind = m.schema.versions()
	return current, known, behind, m.schema.backgroundDone.Load()
}
