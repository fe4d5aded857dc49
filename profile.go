package profiles

import (
	"context"
	"time"
)

// Profile is a standard customer profile. Its fields are kept flat, by the
// path a mapping Target uses after `_profile.`: "FirstName",
// "Address.City", "Attributes.tier". StandardFields lists the scalar paths;
// each of AddressKinds takes the AddressFields; "Attributes." takes any name;
// "EngagementPreferences" holds the JSON of the API's EngagementPreferences.
type Profile struct {
	DomainName string
	ID         string // 32 lower-case hex characters
	Fields     map[string]string
	// Sources says where each field's value came from; a field without an
	// entry was set through the profile API.
	Sources       map[string]FieldSource
	CreatedAt     time.Time
	LastUpdatedAt time.Time
}

// FieldSource is the provenance of a profile field set by ingestion.
type FieldSource struct {
	ObjectType string    // the object type whose object set the value
	Priority   int       // that type's SourcePriority (0: none, ranks lowest)
	UpdatedAt  time.Time // the object's source-last-updated time
}

// Scalar fields of the standard profile.
var StandardFields = []string{
	"AccountNumber", "AdditionalInformation", "PartyType", "PartyTypeString", "BusinessName",
	"FirstName", "MiddleName", "LastName", "BirthDate", "Gender", "GenderString",
	"PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber",
	"EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress", "ProfileType",
}

// EnumField returns the values a standard field takes when it is one of
// the API's enums (Gender, PartyType, ProfileType), and the free-text field
// beside it that takes any other text ("" when it has none); ok is false
// for a field that is not an enum.
func EnumField(name string) (values []string, textField string, ok bool) {
	switch name {
	case "Gender":
		return []string{"MALE", "FEMALE", "UNSPECIFIED"}, "GenderString", true
	case "PartyType":
		return []string{"INDIVIDUAL", "BUSINESS", "OTHER"}, "PartyTypeString", true
	case "ProfileType":
		return []string{"ACCOUNT_PROFILE", "PROFILE"}, "", true
	}
	return nil, "", false
}

// AddressKinds are the address fields of the standard profile, each made of AddressFields.
var AddressKinds = []string{"Address", "ShippingAddress", "MailingAddress", "BillingAddress"}

// AddressFields are the parts of an address.
var AddressFields = []string{"Address1", "Address2", "Address3", "Address4", "City", "County", "State", "Province", "Country", "PostalCode"}

// ProfileObject is one ingested JSON object, attached to a profile.
type ProfileObject struct {
	DomainName     string
	ObjectTypeName string
	// UniqueKey identifies the object within its type (the API's
	// ProfileObjectUniqueKey); it derives from the value of the type's
	// UNIQUE key, so ingesting the same value again replaces the object.
	UniqueKey         string
	ProfileID         string
	Data              []byte // the JSON object as received
	SourceLastUpdated time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ExpiresAt         time.Time
}

// Key is one searchable index entry pointing at a profile. Value is the
// normalised (and, later, blind-indexed) form; stores treat it as opaque.
type Key struct {
	DomainName string
	Name       string
	Value      string
	ProfileID  string
	// Origin says what maintains the key: KeyOriginProfile for the standard
	// keys derived from the profile's fields, KeyOriginAPI for AddProfileKey,
	// or the object type name of the object that produced it (with ObjectKey
	// its UniqueKey).
	Origin    string
	ObjectKey string
}

// Key origins that are not object types (object type names never start with
// "_" … except reserved standard types, which never produce keys).
const (
	KeyOriginProfile = "_profile"
	KeyOriginAPI     = "_api"
)

// ProfileUsage is what a profile's objects take.
type ProfileUsage struct {
	Objects int
	Bytes   int64
}

// IngestService takes profile objects in.
type IngestService interface {
	// PutProfileObject maps obj with the named object type, finds or creates
	// the profile it belongs to and stores it, atomically. It returns the
	// object's unique key. Returns ENOTFOUND (domain, object type), EINVALID
	// (not a JSON object, too large, no UNIQUE or PROFILE key, ambiguous
	// keys, no profile and creation not allowed), EQUOTA (per-profile
	// limits) and ETHROTTLED (per-profile ingestion rate); the messages of
	// IngestError codes are the brief's.
	PutProfileObject(ctx context.Context, domain, objectType, obj string) (string, error)

	// PutProfileObjects ingests up to MaxBatchObjects objects of one type,
	// each as PutProfileObject does, and returns each one's unique key or
	// error in the order of objs. A missing domain or object type fails the
	// call (err: ENOTFOUND); another failure is one object's (errs[i]).
	// Versions of one object (the same unique key) are applied in order.
	PutProfileObjects(ctx context.Context, domain, objectType string, objs []string) (keys []string, errs []error, err error)

	// ListProfileObjects returns one page of a profile's objects of one type,
	// newest first, optionally only those holding key filterKey with one of
	// filterValues. Returns ENOTFOUND, EINVALID.
	ListProfileObjects(ctx context.Context, domain, objectType, profileID string, filterKey string, filterValues []string, page Page) ([]*ProfileObject, string, error)

	// DeleteProfileObject deletes one object and the keys it produced,
	// empties the Content of its history records on the profile (they
	// stay) and writes a DELETED_BY_CUSTOMER record of it, without
	// Content. Returns ENOTFOUND.
	DeleteProfileObject(ctx context.Context, domain, objectType, profileID, uniqueKey string) error

	// IngestAsync ingests an object that arrived asynchronously from source
	// ("import", "contact", "workflow:<id>") with the same pipeline as
	// PutProfileObject; a failure also goes, with the object, to the
	// domain's dead-letter queue (or to the spool while the queue cannot be
	// reached). It returns the same errors as PutProfileObject.
	IngestAsync(ctx context.Context, domain, objectType, obj, source string) (string, error)
}

// Tx is one transaction on a store's profile data. Reads do not see objects
// whose ExpiresAt has passed (by the store's clock), nor the keys those
// objects produced. Every method returns ENOTFOUND for a missing domain; a
// missing profile used only as a filter gives an empty result. After a
// writing method fails, fn must return an error (PostgreSQL aborts the
// transaction); after a Find returns ENOTFOUND it may go on. Puts write the
// stored CreatedAt and updated times back into their argument: a zero
// CreatedAt keeps the existing row's or becomes the store's now. Profile
// fields must be valid UTF-8.
type Tx interface {
	// FindObjectType returns a domain's object type. Returns ENOTFOUND.
	FindObjectType(ctx context.Context, domain, name string) (*ObjectType, error)
	// PutObjectType inserts or replaces an object type; CreatedAt is kept
	// from the existing one. Returns EQUOTA if it is new and the domain has
	// limit object types already (limit <= 0: none).
	PutObjectType(ctx context.Context, t *ObjectType, limit int) error
	// ListObjectTypes returns up to limit object types named after after, in
	// byte order (limit <= 0: all).
	ListObjectTypes(ctx context.Context, domain, after string, limit int) ([]*ObjectType, error)
	// DeleteObjectType deletes an object type's definition; its objects
	// stay until DeleteTypeObjects removes them. Returns ENOTFOUND.
	DeleteObjectType(ctx context.Context, domain, name string) error
	// DeleteTypeObjects reads the first limit objects of a type whose
	// unique keys sort after after (expired ones too), deletes those last
	// updated at or before before (a zero before: all of them) with the
	// keys they produced, and returns the last unique key it read ("" when
	// it read none: the type has no object after after).
	DeleteTypeObjects(ctx context.Context, domain, objectType, after string, before time.Time, limit int) (string, error)

	// FindProfile returns a profile. Returns ENOTFOUND.
	FindProfile(ctx context.Context, domain, id string) (*Profile, error)
	// PutProfile inserts or replaces a profile.
	PutProfile(ctx context.Context, p *Profile) error
	// DeleteProfile deletes a profile with its objects and keys; its history
	// stays as it is (a merge's DELETED_BY_MERGE record keeps the merged
	// profile; ClearProfileHistory empties it). Returns ENOTFOUND.
	DeleteProfile(ctx context.Context, domain, id string) error

	// FindProfileIDs returns the distinct ids of the profiles holding key
	// name = value, in byte order.
	FindProfileIDs(ctx context.Context, domain, name, value string) ([]string, error)
	// PutKeys adds keys; a key already there (same domain, name, value,
	// profile, origin and object key) is left as it is.
	PutKeys(ctx context.Context, keys []Key) error
	// DeleteKeys deletes the keys of a profile with the given origin (and,
	// for object origins, object key; "" deletes all of that origin).
	DeleteKeys(ctx context.Context, domain, profileID, origin, objectKey string) error
	// ListKeys returns every key of a profile.
	ListKeys(ctx context.Context, domain, profileID string) ([]Key, error)

	// FindObject returns an object by type and unique key. Returns ENOTFOUND.
	FindObject(ctx context.Context, domain, objectType, uniqueKey string) (*ProfileObject, error)
	// PutObject inserts or replaces an object (by type and unique key).
	PutObject(ctx context.Context, o *ProfileObject) error
	// DeleteObject deletes an object and the keys it produced, and removes
	// the content of its history records on its profile (each version's
	// INGESTED record), keeping the records, as DeleteExpired does.
	// Returns ENOTFOUND.
	DeleteObject(ctx context.Context, domain, objectType, uniqueKey string) error
	// ListObjects returns up to q.Limit objects of a profile and type, newest
	// (UpdatedAt, then UniqueKey) first, after the position q.After* (zero
	// for the first page). With q.FilterKey set, only objects that produced a
	// key of that name with one of q.FilterValues on the listed profile are
	// returned; no values gives nothing.
	ListObjects(ctx context.Context, q ObjectQuery) ([]*ProfileObject, error)
	// ProfileUsage counts a profile's objects (all types, or one type) and their bytes.
	ProfileUsage(ctx context.Context, domain, profileID, objectType string) (ProfileUsage, error)
	// ListProfileIDs returns up to limit profile ids after after, in byte
	// order (limit <= 0: all).
	ListProfileIDs(ctx context.Context, domain, after string, limit int) ([]string, error)

	// FindIngestBucket returns the ingestion token bucket of a profile.
	// Returns ENOTFOUND when the profile has none.
	FindIngestBucket(ctx context.Context, domain, profileID string) (*IngestBucket, error)
	// PutIngestBucket inserts or replaces the ingestion token bucket of a
	// profile, which goes when the profile is deleted. Returns ENOTFOUND
	// for a missing domain or profile.
	PutIngestBucket(ctx context.Context, b *IngestBucket) error
	// TakeIngestToken takes one token at now from the ingestion token
	// bucket of a profile (a missing bucket is a full one) by the rule of
	// IngestBucket.Take with rate and burst, and stores the bucket, as one
	// read and write. It returns false, changing nothing, when the bucket
	// has less than one token. Returns ENOTFOUND for a missing domain or
	// profile.
	TakeIngestToken(ctx context.Context, domain, profileID string, rate, burst float64, now time.Time) (bool, error)

	// DeleteKeyValues deletes a profile's keys of that name with one of the
	// values, whatever their origin, and returns how many it deleted (keys of
	// expired objects are neither deleted nor counted).
	DeleteKeyValues(ctx context.Context, domain, profileID, name string, values []string) (int, error)
	// MoveProfileData moves the objects of profile from, and its keys except
	// those of origin KeyOriginProfile, to profile to (a key the target has
	// already is dropped); expired objects move too. Returns EINVALID when
	// from == to and ENOTFOUND when the domain or either profile is missing.
	MoveProfileData(ctx context.Context, domain, from, to string) error

	// PutHistory adds a history record; zero times become now. Returns
	// ECONFLICT for an id the profile has already, ENOTFOUND for a missing
	// domain.
	PutHistory(ctx context.Context, r *HistoryRecord) error
	// UpdateHistory replaces the content, performer and LastUpdatedAt (zero:
	// now) of a history record; its other fields stay. Returns ENOTFOUND
	// for a missing record or domain.
	UpdateHistory(ctx context.Context, r *HistoryRecord) error
	// ClearProfileHistory removes the content of every history record of a
	// profile (the profile's fields, its objects as ingested, its keys'
	// values), keeping the records: action, times, object type and key,
	// performer. A profile without history has nothing to clear.
	ClearProfileHistory(ctx context.Context, domain, profileID string) error
	// FindHistory returns one history record. Returns ENOTFOUND.
	FindHistory(ctx context.Context, domain, profileID, id string) (*HistoryRecord, error)
	// PutStreamEvents adds events for event streams (EventOutbox), setting
	// each one's Seq and, when zero, CreatedAt (now). Returns ENOTFOUND for
	// a missing domain.
	PutStreamEvents(ctx context.Context, events []*StreamEvent) error

	// ListHistory returns up to q.Limit records of a profile, newest
	// (CreatedAt, then ID) first, after the position q.After*, filtered by
	// the set fields of q.
	ListHistory(ctx context.Context, q HistoryQuery) ([]*HistoryRecord, error)
}

// ObjectQuery selects objects for Tx.ListObjects.
type ObjectQuery struct {
	DomainName   string
	ObjectType   string
	ProfileID    string
	FilterKey    string
	FilterValues []string
	// After is the position (UpdatedAt, UniqueKey) of the last object of the
	// previous page; zero for the first page.
	AfterUpdatedAt time.Time
	AfterUniqueKey string
	Limit          int
}
