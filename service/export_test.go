package service

import (
	"context"
	"time"
)

// SetMaxExportBytes sets the largest segment export until the returned
// function restores it.
func SetMaxExportBytes(n int) (restore func()) {
	old := maxExportBytes
	maxExportBytes = n
	return func() { maxExportBytes = old }
}

// MaxExportsRunning is maxExportsRunning, for tests.
const MaxExportsRunning = maxExportsRunning

// SetSnapshotHeartbeat sets how often a snapshot records that it runs
// until the returned function restores it.
func SetSnapshotHeartbeat(d time.Duration) (restore func()) {
	old := snapshotHeartbeat
	snapshotHeartbeat = d
	return func() { snapshotHeartbeat = old }
}

// DeadLetterObject is deadLetterObject, for tests.
func (s *Service) DeadLetterObject(ctx context.Context, domain, objectType, obj, source string, err error) error {
	return s.deadLetterObject(ctx, domain, objectType, obj, source, err)
}

// Truncate is truncate, for tests.
func (s *Service) Truncate(ctx context.Context, dl *DeadLetter) ([]byte, error) {
	return s.truncate(ctx, dl)
}

// IngestFor is ingestObject of an object for the domain created at born
// (an upload job's row), for tests.
func (s *Service) IngestFor(ctx context.Context, domain, objectType string, born time.Time, obj string) (string, error) {
	key, _, err := s.ingestObject(ctx, domain, objectType, nil, born, obj, nil)
	return key, err
}

// MarkScrub is markScrub: what DeleteObjectType records before it deletes
// the type, for tests.
func (s *Service) MarkScrub(ctx context.Context, domain, name string) (bool, error) {
	return s.markScrub(ctx, domain, name)
}

// TakeScrub is what finishScrub does once it has found the record of a
// deleted type's scrub: take it over and run it, for tests.
func (s *Service) TakeScrub(ctx context.Context, domain, name string) (bool, error) {
	return s.scrub(ctx, domain, name, true, nil, callScrub)
}

// SetCallScrubBudget sets how long a call's scrub runs before it leaves
// the rest to the sweep until the returned function restores it.
func SetCallScrubBudget(d time.Duration) (restore func()) {
	old := callScrub.budget
	callScrub.budget = d
	return func() { callScrub.budget = old }
}
