package profiles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Action types of profile history records.
const (
	ActionAddedProfileKey   = "ADDED_PROFILE_KEY"
	ActionDeletedProfileKey = "DELETED_PROFILE_KEY"
	ActionCreated           = "CREATED"
	ActionUpdated           = "UPDATED"
	ActionIngested          = "INGESTED"
	ActionDeletedByCustomer = "DELETED_BY_CUSTOMER"
	ActionExpired           = "EXPIRED"
	ActionMerged            = "MERGED"
	ActionDeletedByMerge    = "DELETED_BY_MERGE"
)

// ProfileObjectTypeName is the object type name of history records about
// the standard profile itself.
const ProfileObjectTypeName = "_profile"

// ServicePerformer is the PerformedBy of history records written for no
// caller: the expiry sweep's EXPIRED records, and changes made without a
// principal.
const ServicePerformer = "openprofiles"

// NewHistoryID returns a history record id made at now, for a store that
// writes records itself (the EXPIRED records of DeleteExpired): 32
// lower-case hex characters, the first 12 now's unix milliseconds, as the
// ids the service makes, then random ones.
func NewHistoryID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[5-i] = byte(ms >> (8 * i))
	}
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// HistoryRecord records one change of a profile. Records outlive the
// profile they describe (a deleted profile keeps its history, without
// Content: the profile API's DeleteProfile empties it) and go with their
// domain.
type HistoryRecord struct {
	DomainName     string
	ProfileID      string
	ID             string // 32 lower-case hex characters
	ActionType     string
	ObjectTypeName string // ProfileObjectTypeName for the profile itself
	ObjectKey      string // the ProfileObjectUniqueKey, for object records
	PerformedBy    string // ARN of the principal, or what acted (an object type)
	Content        []byte // JSON: the profile or object after the change
	CreatedAt      time.Time
	LastUpdatedAt  time.Time
}

// HistoryQuery selects history records of a profile, newest first.
type HistoryQuery struct {
	DomainName     string
	ProfileID      string
	ObjectTypeName string // "" for all
	ObjectKey      string // "" for all: the records of one object
	ActionType     string // "" for all
	PerformedBy    string // "" for all
	// After is the position (CreatedAt, ID) of the last record of the
	// previous page; zero for the first page.
	AfterCreatedAt time.Time
	AfterID        string
	Limit          int
}

type principalKey struct{}

// NewContextWithPrincipal returns ctx carrying the ARN of the caller.
func NewContextWithPrincipal(ctx context.Context, arn string) context.Context {
	return context.WithValue(ctx, principalKey{}, arn)
}

// PrincipalFromContext returns the ARN of the caller, "" when unknown.
func PrincipalFromContext(ctx context.Context) string {
	arn, _ := ctx.Value(principalKey{}).(string)
	return arn
}

// FormTokenTTL is how long a token of CreateProfileOnce is remembered:
// a form is good for that long after it was shown, and its token's record
// is deleted (Service.SweepFormTokens) that long after its first use.
const FormTokenTTL = 24 * time.Hour

// ProfileService manages profiles through the profile API. Values set here
// are never overwritten by ingestion.
type ProfileService interface {
	// CreateProfile creates a profile with the given fields (paths as in
	// Profile.Fields). Returns ENOTFOUND, EINVALID (unknown field, too large).
	CreateProfile(ctx context.Context, domain string, fields map[string]string) (*Profile, error)

	// CreateProfileOnce is CreateProfile for a form that may be sent more
	// than once (a double click, a resubmission, through another node of
	// the store): the first call with a token creates the profile, and
	// every later call with that token, for FormTokenTTL, creates none and
	// returns the id of the profile the first created, with created
	// false, waiting for the first to finish while it runs. Once a call
	// has claimed the token it finishes even if ctx ends; a call that
	// fails releases the token. Returns what CreateProfile returns,
	// EINVALID for a malformed token, and ECONFLICT when the first call
	// has not finished in time (or never recorded its profile).
	CreateProfileOnce(ctx context.Context, domain, token string, fields map[string]string) (id string, created bool, err error)

	// FormTokenUsed reports whether a call of CreateProfileOnce claimed
	// the token (its profile is made, or being made) and it is still
	// remembered: a form sent again is a repeat. A malformed token, or a
	// domain that does not exist, has not been used.
	FormTokenUsed(ctx context.Context, domain, token string) (bool, error)

	// UpdateProfile changes the given fields; an empty value removes the
	// field, a field not given is unchanged. Returns ENOTFOUND, EINVALID.
	UpdateProfile(ctx context.Context, domain, id string, changes map[string]string) (*Profile, error)

	// DeleteProfile deletes a profile with its objects and keys, empties
	// the Content of its history records (they stay) and writes its
	// DELETED_BY_CUSTOMER record, without Content. Returns ENOTFOUND.
	DeleteProfile(ctx context.Context, domain, id string) error

	// BatchGetProfiles returns the profiles found and the ids not found.
	// Returns ENOTFOUND for a missing domain.
	BatchGetProfiles(ctx context.Context, domain string, ids []string) ([]*Profile, []string, error)

	// AddProfileKey adds key values to a profile. Returns ENOTFOUND, EINVALID.
	AddProfileKey(ctx context.Context, domain, id, keyName string, values []string) error

	// DeleteProfileKey removes key values from a profile. Returns ENOTFOUND
	// when the profile holds none of them.
	DeleteProfileKey(ctx context.Context, domain, id, keyName string, values []string) error

	// ListProfileAttributeValues returns the distinct values of a profile
	// field across a domain's profiles, sorted. Returns ENOTFOUND, EINVALID.
	ListProfileAttributeValues(ctx context.Context, domain, attribute string) ([]string, error)

	// MergeProfiles merges profiles into the main one: their objects and
	// keys move to it, fieldSources chooses the profile each field comes
	// from (a field, an address kind, "Attributes.<name>" or
	// "EngagementPreferences"; otherwise the main profile's value, else the
	// first merged profile's), and the merged profiles are deleted, in one
	// transaction. Returns ENOTFOUND, EINVALID.
	MergeProfiles(ctx context.Context, domain, mainID string, merged []string, fieldSources map[string]string) error

	// ListProfileHistory returns one page of a profile's history, newest
	// first, filtered by the set fields of filter. Returns ENOTFOUND, EINVALID.
	ListProfileHistory(ctx context.Context, domain, profileID string, filter HistoryQuery, page Page) ([]*HistoryRecord, string, error)

	// GetProfileHistory returns one history record. Returns ENOTFOUND.
	GetProfileHistory(ctx context.Context, domain, profileID, id string) (*HistoryRecord, error)
}
