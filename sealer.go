package profiles

import "context"

// Record kinds a Sealer protects.
const (
	RecordProfile = "profile"
	RecordObject  = "object"
	RecordHistory = "history"
	RecordUpload  = "upload" // an upload job's file
	RecordEvent   = "event"  // an event waiting for an event stream
	RecordModel   = "model"  // a recommender's trained version (its catalog)
	RecordDraft   = "draft"  // a refused console form (FormDraftService)
	// RecordDeadLetter is the whole object of a dead letter cut to fit a
	// queue message, kept in the data dir until a replay ingests it.
	RecordDeadLetter = "deadletter"
)

// RecordRef names a record a store keeps: the authenticated data of its
// encryption binds the ciphertext to it, so a record copied elsewhere fails
// to open.
type RecordRef struct {
	Domain     string
	Kind       string // one of the Record* constants
	ObjectType string // for objects and history records
	ID         string // profile id, object unique key, history record id
}

// Sealer encrypts what stores keep at rest. Stores seal every profile,
// profile object and history content before writing it, and open it after
// reading it; a nil Sealer keeps plaintext. The service implements it with
// envelope encryption under the domain's KMS key.
//
// Errors: EFORBIDDEN when the key may not be used (its message names the
// key), EINVALID when a sealed record does not open (tampered, or bound to
// another record); they carry a Reason for the dead-letter queue.
type Sealer interface {
	Seal(ctx context.Context, r RecordRef, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, r RecordRef, sealed []byte) ([]byte, error)
}
