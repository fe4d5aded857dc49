package profiles

import (
	"context"
	"time"
)

// A DomainObjectType describes data of a domain that belongs to no profile
// (PutDomainObjectType): how each field of a source object is read
// (Source, a _source path) and where it goes (Target). OpenProfiles keeps
// and checks these definitions; it ingests no domain objects.
type DomainObjectType struct {
	DomainName    string
	Name          string
	Description   string
	EncryptionKey string
	Fields        map[string]DomainObjectTypeField
	Tags          map[string]string
	CreatedAt     time.Time
	LastUpdatedAt time.Time
}

// DomainObjectTypeField is one field of a DomainObjectType.
type DomainObjectTypeField struct {
	Source      string
	Target      string
	ContentType string // STRING, NUMBER
	FeatureType string // TEXTUAL, CATEGORICAL
}

// MaxDomainObjectTypesPerDomain is the quota of domain object types.
const MaxDomainObjectTypesPerDomain = 100

// DomainObjectTypeService manages domain object types. Every method
// returns ENOTFOUND for a missing domain or type.
type DomainObjectTypeService interface {
	// PutDomainObjectType creates or replaces a type (a new one needs the
	// domain's data store, as on AWS). Returns EINVALID naming what is
	// wrong, EQUOTA past MaxDomainObjectTypesPerDomain.
	PutDomainObjectType(ctx context.Context, t *DomainObjectType) (*DomainObjectType, error)
	GetDomainObjectType(ctx context.Context, domain, name string) (*DomainObjectType, error)
	DeleteDomainObjectType(ctx context.Context, domain, name string) error
	// ListDomainObjectTypes returns one page of a domain's types, by name.
	ListDomainObjectTypes(ctx context.Context, domain string, page Page) ([]*DomainObjectType, string, error)
}
