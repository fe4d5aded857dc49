package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
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
}

func (h *heldBuckets) CheckBucket(ctx context.Context, uri string) error { return nil }

func (h *heldBuckets) PutObject(ctx context.Context, bucket, key string, body []byte, contentType, kmsKeyARN string) error {
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
	if _, err := s.CreateSegmentDefinition(t.Context(), &profiles.SegmentDefinition{DomainName: "enc", Name: "everyone", DisplayName: "everyone",
		Groups: profiles.SegmentGroups{Groups: []profiles.SegmentGroup{{Dimensions: []profiles.SegmentDimension{{
			Profile: map[string]profiles.CalcFilterCondition{"FirstName": {DimensionType: "EXCLUSIVE", Values: []string{"nobody"}}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	return s, dest
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
