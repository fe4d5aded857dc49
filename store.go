package profiles

import "context"

// Store is the persistence SPI. Every implementation passes the conformance
// suite in package storetest. Every method that changes more than one row
// does it in one transaction.
type Store interface {
	// Ping returns nil when the store can serve requests.
	Ping(ctx context.Context) error

	// CreateDomain inserts d. Returns ECONFLICT if a domain of that name
	// exists and EQUOTA if the store already holds limit domains (limit <= 0
	// means no limit); the check and the insert are atomic.
	CreateDomain(ctx context.Context, d *Domain, limit int) error

	// FindDomain returns the named domain. Returns ENOTFOUND.
	FindDomain(ctx context.Context, name string) (*Domain, error)

	// UpdateDomain reads the named domain, calls fn on it and stores the
	// result, all in one transaction. fn's error aborts the update and is
	// returned as is. Returns ENOTFOUND.
	UpdateDomain(ctx context.Context, name string, fn func(*Domain) error) (*Domain, error)

	// DeleteDomain deletes the named domain and everything it holds in one
	// transaction. Returns ENOTFOUND.
	DeleteDomain(ctx context.Context, name string) error

	// ListDomains returns up to limit domains whose names sort after the
	// name after ("" for the start), in byte order of their names.
	ListDomains(ctx context.Context, after string, limit int) ([]*Domain, error)

	// DomainStats counts what the named domain holds. Returns ENOTFOUND.
	DomainStats(ctx context.Context, name string) (*DomainStats, error)

	// Close releases the store. In-flight calls finish first.
	Close() error
}
