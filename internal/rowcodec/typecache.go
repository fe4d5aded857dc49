package rowcodec

import (
	"sync"

	"github.com/openprofiles/profiles"
)

// ObjectTypeCache keeps decoded object types by their data column, so that
// a store does not decode the same JSON each time it reads a type
// (ingestion reads its type in every transaction). The types it gives
// share their Fields, Keys and Tags with the cache and with each other:
// callers only read them. It is safe for concurrent use; a nil cache
// decodes every time.
type ObjectTypeCache struct {
	mu    sync.Mutex
	types map[string]*profiles.ObjectType // data column -> decoded, without row fields
}

// MaxCachedObjectTypes bounds an ObjectTypeCache; past it, it starts again.
const MaxCachedObjectTypes = 1024

// NewObjectTypeCache returns an empty cache.
func NewObjectTypeCache() *ObjectTypeCache {
	return &ObjectTypeCache{types: map[string]*profiles.ObjectType{}}
}

// Decode sets the fields of ot held in the data column, as
// DecodeObjectType does, from the cache when it has decoded data before.
// ot's domain, name and times are left as they are.
func (c *ObjectTypeCache) Decode(ot *profiles.ObjectType, data string) error {
	if c == nil {
		return DecodeObjectType(ot, data)
	}
	c.mu.Lock()
	decoded := c.types[data]
	c.mu.Unlock()
	if decoded == nil {
		decoded = &profiles.ObjectType{DomainName: ot.DomainName, Name: ot.Name} // for its errors
		if err := DecodeObjectType(decoded, data); err != nil {
			return err
		}
		decoded.DomainName, decoded.Name = "", ""
		c.mu.Lock()
		if len(c.types) >= MaxCachedObjectTypes {
			clear(c.types)
		}
		c.types[data] = decoded
		c.mu.Unlock()
	}
	domain, name, created, updated := ot.DomainName, ot.Name, ot.CreatedAt, ot.LastUpdatedAt
	*ot = *decoded
	ot.DomainName, ot.Name, ot.CreatedAt, ot.LastUpdatedAt = domain, name, created, updated
	return nil
}
