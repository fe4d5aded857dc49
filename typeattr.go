package profiles

import (
	"context"
	"time"
)

// TypeAttribute is one attribute (field) of an object type.
type TypeAttribute struct {
	Name          string
	LastUpdatedAt time.Time
}

// AttributeValue is one distinct value of an attribute across a domain's
// objects of one type, with the last update of an object that holds it.
type AttributeValue struct {
	Value         string
	LastUpdatedAt time.Time
}

// AttributeStatistics describe the numeric values of an attribute across
// a domain's objects of one type.
type AttributeStatistics struct {
	Count                                   int
	Minimum, Maximum, Average, StdDeviation float64
	P5, P25, P50, P75, P95                  float64
}

// TypeAttributeService reads the attributes of object types and their
// values across a domain's objects. Returns ENOTFOUND for a missing domain
// or object type, EINVALID for an attribute the type does not have.
type TypeAttributeService interface {
	// ListTypeAttributes returns one page of an object type's attributes,
	// by name.
	ListTypeAttributes(ctx context.Context, domain, objectType string, page Page) ([]TypeAttribute, string, error)
	// ListAttributeValues returns one page of an attribute's distinct
	// values, the most recently updated first.
	ListAttributeValues(ctx context.Context, domain, objectType, attribute string, page Page) ([]AttributeValue, string, error)
	// AttributeStatistics computes the statistics of an attribute's
	// numeric values (Count 0: no object holds a number there). Returns
	// EINVALID when the domain has no data store enabled, as on AWS.
	AttributeStatistics(ctx context.Context, domain, objectType, attribute string) (*AttributeStatistics, error)
}
