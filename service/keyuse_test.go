package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// fullIAM is an IAM store whose storage is full: every TouchAccessKey
// fails with ErrStorageFull. Nothing else of it is called.
type fullIAM struct {
	profiles.IAMStore
	touches atomic.Int32
}

func (f *fullIAM) TouchAccessKey(context.Context, string, time.Time) error {
	f.touches.Add(1)
	return fmt.Errorf("sqlite: touch access key: %w", profiles.ErrStorageFull)
}

// TestNoteKeyUse_StorageFull: while the storage is full, recording an
// access key's use fails at each of its uses (it is tried again at the
// next), and logs nothing: the store logs the full storage once. Before,
// each signed request logged a warning.
func TestNoteKeyUse_StorageFull(t *testing.T) {
	var log strings.Builder
	iam := &fullIAM{}
	// Three signed requests: a service each, whose Close waits for the
	// write beside the request.
	for range 3 {
		s := service.New(nil, "us-east-1", "000000000000", []byte("secret"))
		s.Logger = slog.New(slog.NewJSONHandler(&log, nil))
		s.IAM = iam
		s.NoteKeyUse(t.Context(), "AKIAEXAMPLE", "arn:aws:iam::000000000000:user/u")
		if err := s.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if iam.touches.Load() != 3 {
		t.Fatalf("%d TouchAccessKey calls, want 3", iam.touches.Load())
	}
	if log.Len() != 0 {
		t.Errorf("log while the storage is full, want none:\n%s", log.String())
	}
}
