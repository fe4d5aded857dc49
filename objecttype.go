package profiles

import (
	"context"
	"time"
)

// Content types of object type fields: they say how a value is normalised
// for keys and search.
const (
	ContentString = "STRING"
	ContentNumber = "NUMBER"
	ContentPhone  = "PHONE_NUMBER"
	ContentEmail  = "EMAIL_ADDRESS"
	ContentName   = "NAME"
)

// Standard identifiers of object type keys.
const (
	IdentifierProfile    = "PROFILE"
	IdentifierUnique     = "UNIQUE"
	IdentifierSecondary  = "SECONDARY"
	IdentifierLookupOnly = "LOOKUP_ONLY"
	IdentifierNewOnly    = "NEW_ONLY"
	IdentifierAsset      = "ASSET"
	IdentifierCase       = "CASE"
	IdentifierOrder      = "ORDER"
)

// ObjectType (a data mapping) tells how to read one kind of JSON object:
// which fields go to the standard profile and which form keys.
type ObjectType struct {
	DomainName                       string
	Name                             string
	Description                      string
	TemplateID                       string
	ExpirationDays                   int // 0: the domain's DefaultExpirationDays
	EncryptionKey                    string
	AllowProfileCreation             bool
	SourceLastUpdatedTimestampFormat string
	MaxProfileObjectCount            int // 0: no limit of its own
	SourcePriority                   int // 0: none (ranks lowest); 1 wins over 2
	Fields                           map[string]ObjectTypeField
	Keys                             map[string][]ObjectTypeKey
	Tags                             map[string]string
	CreatedAt                        time.Time
	LastUpdatedAt                    time.Time
}

// ObjectTypeField reads one value of an object. Source is `_source.a.b` or a
// template such as `{{_source.first}} {{_source.last}}`; Target, when set, is
// a profile field such as `_profile.FirstName`, `_profile.Address.City` or
// `_profile.Attributes.tier`.
type ObjectTypeField struct {
	Source      string
	Target      string
	ContentType string // one of the Content* constants; "" is STRING
}

// ObjectTypeKey is one definition of a key: the concatenation of the
// normalised values of FieldNames, with the semantics of its identifiers.
type ObjectTypeKey struct {
	StandardIdentifiers []string
	FieldNames          []string
}

// Template is a built-in object type that PutProfileObjectType can base a
// type on (TemplateId) and that can be used by name without a definition.
type Template struct {
	ID           string
	SourceName   string
	SourceObject string
	ObjectType   ObjectType // AllowProfileCreation, SourceLastUpdatedTimestampFormat, Fields, Keys
}

// ObjectTypeService manages a domain's object types and serves templates.
type ObjectTypeService interface {
	// PutObjectType creates or replaces an object type. Returns ENOTFOUND
	// for a missing domain, EINVALID for a bad mapping (the message names
	// the culprit) and EQUOTA past 100 object types.
	PutObjectType(ctx context.Context, t *ObjectType) (*ObjectType, error)

	// GetObjectType returns an object type, or the template of that name
	// when the domain defines none. Returns ENOTFOUND.
	GetObjectType(ctx context.Context, domain, name string) (*ObjectType, error)

	// ListObjectTypes returns one page of a domain's object types in name
	// order and the next token. Returns ENOTFOUND, EINVALID.
	ListObjectTypes(ctx context.Context, domain string, page Page) ([]*ObjectType, string, error)

	// DeleteObjectType deletes an object type and all its objects. Returns ENOTFOUND.
	DeleteObjectType(ctx context.Context, domain, name string) error

	// GetTemplate returns a built-in template. Returns ENOTFOUND.
	GetTemplate(ctx context.Context, id string) (*Template, error)

	// ListTemplates returns one page of the built-in templates in id order.
	ListTemplates(ctx context.Context, page Page) ([]*Template, string, error)

	// DetectObjectType proposes Fields, Keys and a timestamp format for
	// sample JSON objects. Returns ENOTFOUND for a missing domain, EINVALID
	// for objects that are not JSON objects.
	DetectObjectType(ctx context.Context, domain string, objects []string) (*ObjectType, error)
}

// MaxObjectTypesPerDomain, MaxKeysPerObjectType and the per-profile limits
// are the service's quotas.
const (
	MaxObjectTypesPerDomain  = 100
	MaxKeysPerObjectType     = 10
	MaxObjectsPerProfile     = 1000
	MaxObjectBytesPerProfile = 50 << 20
	MaxObjectSize            = 256000
	MaxBatchObjects          = 10 // objects of one BatchPutProfileObject call
)
