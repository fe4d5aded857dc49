package service_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// heldBuckets is a profiles.ObjectDestinations whose PutObject waits until
// release is closed: an export stays IN_PROGRESS for as long as the test
// wants (a real S3 server cannot be told to). The end-to-end tests write
// to a real S3 protocol server (cmd/openprofiles, fauxqs).
type heldBuckets struct {
	release chan struct{}
	mu      sync.Mutex
	keys    []string
	entered int // PutObject calls begun
}

func (h *heldBuckets) CheckBucket(ctx context.Context, uri string) error { return nil }

func (h *heldBuckets) PutObject(ctx context.Context, bucket, key string, body []byte, contentType, kmsKeyARN string) error {
	h.mu.Lock()
	h.entered++
	h.mu.Unlock()
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	h.keys = append(h.keys, key)
	h.mu.Unlock()
	return nil
}

// openSnapshots returns an encrypted service whose exports go to a
// heldBuckets (closed when the test ends), with a segment "everyone" of
// domain "enc".
func openSnapshots(t *testing.T) (*service.Service, *heldBuckets) {
	t.Helper()
	s, _, _ := openDelivery(t)
	dest := &heldBuckets{release: make(chan struct{})}
	s.Objects = dest
	t.Cleanup(func() { s.Close(context.Background()) })
	createEveryone(t, s, "enc")
	return s, dest
}

// createEveryone creates the segment "everyone" of a domain.
func createEveryone(t *testing.T, s *service.Service, domain string) {
	t.Helper()
	if _, err := s.CreateSegmentDefinition(t.Context(), &profiles.SegmentDefinition{DomainName: domain, Name: "everyone", DisplayName: "everyone",
		Groups: profiles.SegmentGroups{Groups: []profiles.SegmentGroup{{Dimensions: []profiles.SegmentDimension{{
			Profile: map[string]profiles.CalcFilterCondition{"FirstName": {DimensionType: "EXCLUSIVE", Values: []string{"nobody"}}}}}}}}}); err != nil {
		t.Fatal(err)
	}
}

// fillExportSlots starts, in domains of their own, as many exports as a
// node runs at once, and returns once each holds its slot (writing to
// dest, held until its release): the exports created next wait.
func fillExportSlots(t *testing.T, s *service.Service, dest *heldBuckets) {
	t.Helper()
	ctx := t.Context()
	for i := range service.MaxExportsRunning {
		d := fmt.Sprintf("slot%d", i)
		if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: d, DefaultExpirationDays: 30}); err != nil {
			t.Fatal(err)
		}
		createEveryone(t, s, d)
		if _, err := s.CreateSegmentSnapshot(ctx, &profiles.SegmentSnapshot{DomainName: d, SegmentName: "everyone", DataFormat: "JSONL", DestinationURI: "s3://exports/x"}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		dest.mu.Lock()
		n := dest.entered
		dest.mu.Unlock()
		if n == service.MaxExportsRunning {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d exports writing, want %d", n, service.MaxExportsRunning)
		}
	}
}

// lockedBuffer is a bytes.Buffer for a logger that goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSegmentSnapshot_DomainCreatedAgain: a snapshot whose domain is
// deleted, and a domain of the same name created, before its export has
// read the profiles (here: while it waits for a slot) writes nothing: the
// new domain's members do not go to the deleted domain's snapshot. Before,
// the export read the new domain and wrote its segment to the destination.
func TestSegmentSnapshot_DomainCreatedAgain(t *testing.T) {
	s, dest := openSnapshots(t)
	ctx := t.Context()
	var log lockedBuffer
	s.Logger = slog.New(slog.NewTextHandler(&log, nil))
	fillExportSlots(t, s, dest)
	snap, err := s.CreateSegmentSnapshot(ctx, &profiles.SegmentSnapshot{DomainName: "enc", SegmentName: "everyone", DataFormat: "JSONL", DestinationURI: "s3://exports/x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDomain(ctx, "enc"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // another creation time
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "enc", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	createEveryone(t, s, "enc")
	if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Bea"}); err != nil {
		t.Fatal(err)
	}
	close(dest.release)
	key := "x/enc/everyone/" + snap.ID + ".jsonl"
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		dest.mu.Lock()
		written := slices.Contains(dest.keys, key)
		dest.mu.Unlock()
		if written {
			t.Fatalf("the snapshot of the deleted domain was written, with the new domain's members: %s", key)
		}
		if strings.Contains(log.String(), snap.ID) {
			break // its export ended, unwritten
		}
		if time.Now().After(deadline) {
			t.Fatalf("the export of snapshot %s never ended; log:\n%s", snap.ID, log.String())
		}
	}
}

// TestSegmentSnapshot_WaitingIsAlive: a snapshot waiting for a slot (its
// node runs as many exports as it may) reads IN_PROGRESS for as long as it
// waits, and another export of its domain is refused meanwhile. Before, it
// recorded nothing while waiting, and read FAILED after snapshotStaleAfter.
func TestSegmentSnapshot_WaitingIsAlive(t *testing.T) {
	t.Cleanup(service.SetSnapshotHeartbeat(10 * time.Millisecond)) // after the service's Close
	s, dest := openSnapshots(t)
	ctx := t.Context()
	var ahead atomic.Int64 // how far the clock is put forward
	s.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	fillExportSlots(t, s, dest)
	defer close(dest.release)
	snap := func() (*profiles.SegmentSnapshot, error) {
		return s.CreateSegmentSnapshot(ctx, &profiles.SegmentSnapshot{DomainName: "enc", SegmentName: "everyone", DataFormat: "JSONL", DestinationURI: "s3://exports/x"})
	}
	waiting, err := snap()
	if err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(time.Hour)) // waited an hour
	// Until its next heartbeat the snapshot reads as stale (FAILED); once
	// one has recorded it at the new time, it reads IN_PROGRESS. Without a
	// heartbeat while it waits, it never does.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := s.GetSegmentSnapshot(ctx, "enc", "everyone", waiting.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == "IN_PROGRESS" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a snapshot waiting an hour for a slot: %s (%s), want IN_PROGRESS", got.Status, got.StatusMessage)
		}
	}
	if _, err := snap(); profiles.ErrorCode(err) != profiles.ETHROTTLED {
		t.Fatalf("another snapshot of the domain while one waits: %v, want ETHROTTLED", err)
	}
}

// TestSegmentSnapshot_OneExportAtATime: while a domain's export runs,
// another is refused with ETHROTTLED; once it has finished, one is taken.
func TestSegmentSnapshot_OneExportAtATime(t *testing.T) {
	s, dest := openSnapshots(t)
	ctx := t.Context()
	if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": "Ann"}); err != nil {
		t.Fatal(err)
	}
	snap := func() (*profiles.SegmentSnapshot, error) {
		return s.CreateSegmentSnapshot(ctx, &profiles.SegmentSnapshot{DomainName: "enc", SegmentName: "everyone", DataFormat: "JSONL", DestinationURI: "s3://exports/x"})
	}
	first, err := snap()
	if err != nil || first.Status != "IN_PROGRESS" {
		t.Fatalf("first snapshot: %+v, %v", first, err)
	}
	if _, err := snap(); profiles.ErrorCode(err) != profiles.ETHROTTLED {
		t.Fatalf("a second snapshot while the first runs: %v, want ETHROTTLED", err)
	}
	close(dest.release)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := s.GetSegmentSnapshot(ctx, "enc", "everyone", first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == "COMPLETED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first snapshot after its write: %+v", got)
		}
	}
	if _, err := snap(); err != nil {
		t.Fatalf("a snapshot once the first has finished: %v", err)
	}
}

// TestSegmentSnapshot_SizeLimit: an export larger than the largest one
// (built in memory) fails, in both formats; CSV keeps its members' fields
// until the end, and they count too.
func TestSegmentSnapshot_SizeLimit(t *testing.T) {
	defer service.SetMaxExportBytes(200)()
	s, dest := openSnapshots(t)
	close(dest.release)
	ctx := t.Context()
	for i := range 5 {
		if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": fmt.Sprintf("Ann%d", i), "AdditionalInformation": strings.Repeat("x", 40)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"JSONL", "CSV"} {
		snap, err := s.CreateSegmentSnapshot(ctx, &profiles.SegmentSnapshot{DomainName: "enc", SegmentName: "everyone", DataFormat: format, DestinationURI: "s3://exports/x"})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			got, err := s.GetSegmentSnapshot(ctx, "enc", "everyone", snap.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == "FAILED" && strings.Contains(got.StatusMessage, "larger than") {
				break
			}
			if got.Status != "IN_PROGRESS" || time.Now().After(deadline) {
				t.Fatalf("%s export of 5 profiles of ~60 bytes with a limit of 200: %+v; want FAILED, too large", format, got)
			}
		}
	}
	if len(dest.keys) != 0 {
		t.Errorf("exports too large were written: %v", dest.keys)
	}
}
