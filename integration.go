package profiles

import (
	"context"
	"time"
)

// Integration sends objects from a source (Uri: an Amazon Connect instance
// ARN, an AppFlow flow, …) into a domain's object types. A Uri belongs to
// one domain at most.
//
// An integration of a flow (PutIntegration with a FlowDefinition) has the
// flow's ARN as Uri, and a workflow runs the flow (WorkflowID): the two go
// together (deleting one deletes the other).
type Integration struct {
	DomainName        string
	URI               string
	ObjectTypeName    string
	ObjectTypeNames   map[string]string // event type -> object type
	RoleARN           string
	EventTriggerNames []string
	Scope             string
	Tags              map[string]string
	CreatedAt         time.Time
	LastUpdatedAt     time.Time
	// Flow, given to PutIntegration, is the flow the integration runs.
	// It is kept by the workflow, not with the integration.
	Flow *FlowDefinition
	// WorkflowID is the workflow that runs the flow of the integration's
	// Uri, if any (found by the flow's name when read, not stored).
	WorkflowID string
}

// Instance is a contact-center instance known to OpenProfiles.
type Instance struct {
	ID        string // e.g. a UUID, the last part of its ARN
	ARN       string // arn:aws:connect:{region}:{account}:instance/{id}
	Alias     string
	CreatedAt time.Time
}

// IntegrationStore persists integrations and contact-center instances.
// Every store implements it and passes its cases in storetest.
type IntegrationStore interface {
	// PutIntegration inserts or replaces (by domain and Uri) an
	// integration; CreatedAt is kept on replace. Returns ENOTFOUND for a
	// missing domain and ECONFLICT, naming the domain, when another domain
	// has an integration with the same Uri (checked atomically).
	PutIntegration(ctx context.Context, in *Integration) error
	// FindIntegration returns a domain's integration. Returns ENOTFOUND.
	FindIntegration(ctx context.Context, domain, uri string) (*Integration, error)
	// FindIntegrationByURI returns the integration of a Uri, whatever its
	// domain. Returns ENOTFOUND.
	FindIntegrationByURI(ctx context.Context, uri string) (*Integration, error)
	// ListIntegrations returns a domain's integrations with Uris after after,
	// in byte order, up to limit (<= 0: all). Returns ENOTFOUND for a
	// missing domain.
	ListIntegrations(ctx context.Context, domain, after string, limit int) ([]*Integration, error)
	// DeleteIntegration deletes a domain's integration. Returns ENOTFOUND.
	DeleteIntegration(ctx context.Context, domain, uri string) error
	// UpdateIntegrationTags replaces the tags of a domain's integration
	// with what fn makes of them (fn gets a copy, nil for none), and sets
	// its LastUpdatedAt to the store's current time, in one transaction
	// (fn may run again should the store retry it). fn's error is
	// returned as is and changes nothing. Returns ENOTFOUND.
	UpdateIntegrationTags(ctx context.Context, domain, uri string, fn func(map[string]string) (map[string]string, error)) error
	// MoveIntegration moves the integration of uri from its domain to
	// domain `to` in one transaction (the profiles stay where they are).
	// Returns ENOTFOUND for a missing integration or domain.
	MoveIntegration(ctx context.Context, uri, to string) (*Integration, error)

	// PutInstance inserts an instance. Returns ECONFLICT when the id exists.
	PutInstance(ctx context.Context, in *Instance) error
	// FindInstance returns an instance by id. Returns ENOTFOUND.
	FindInstance(ctx context.Context, id string) (*Instance, error)
	// ListInstances returns every instance, by alias then id.
	ListInstances(ctx context.Context) ([]*Instance, error)
}

// InstanceView is an instance with the domain it is associated with ("" for
// none).
type InstanceView struct {
	Instance
	DomainName string
}

// IntegrationService manages integrations and contact-center instances.
type IntegrationService interface {
	// PutIntegration creates or replaces an integration. A Uri that is a
	// contact-center instance ARN associates that instance with the domain
	// (registering it, alias = its id, when unknown). With a Flow, it
	// creates the workflow that runs the flow (or replaces the flow of
	// the domain's workflow of that flow name), and the Uri is the flow's
	// ARN. Returns ENOTFOUND, EINVALID, and ECONFLICT naming the domain the
	// Uri belongs to.
	PutIntegration(ctx context.Context, in *Integration) (*Integration, error)
	// GetIntegration returns a domain's integration. Returns ENOTFOUND.
	GetIntegration(ctx context.Context, domain, uri string) (*Integration, error)
	// ListIntegrations returns one page of a domain's integrations.
	ListIntegrations(ctx context.Context, domain string, page Page) ([]*Integration, string, error)
	// DeleteIntegration deletes an integration (an instance's association),
	// and the workflow of its flow if it has one. Returns ENOTFOUND.
	DeleteIntegration(ctx context.Context, domain, uri string) error
	// ListAccountIntegrations returns the integrations of a Uri: which
	// domain an instance belongs to.
	ListAccountIntegrations(ctx context.Context, uri string, page Page) ([]*Integration, string, error)

	// CreateInstance registers a contact-center instance. Returns EINVALID.
	CreateInstance(ctx context.Context, alias string) (*Instance, error)
	// ListInstances returns every instance with its domain.
	ListInstances(ctx context.Context) ([]*InstanceView, error)
	// SwitchInstance moves an instance's association to another domain in
	// one step; profiles stay where they are. Returns ENOTFOUND.
	SwitchInstance(ctx context.Context, instanceARN, domain string) (*Integration, error)
	// InstanceIntegration returns the integration that associates an
	// instance (by id) with its domain. Returns ENOTFOUND when the instance
	// is unknown or associated with no domain.
	InstanceIntegration(ctx context.Context, instanceID string) (*Integration, error)
}
