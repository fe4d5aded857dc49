package profiles

import (
	"context"
	"time"
)

// Store is the persistence SPI. Every implementation passes the conformance
// suite in package storetest. Every method that changes more than one row
// does it in one transaction. Times are kept to the millisecond and read back
// in UTC.
type Store interface {
	// Ping returns nil when the store can serve requests.
	Ping(ctx context.Context) error

	// CreateDomain inserts d. Returns ECONFLICT if a domain of that name
	// exists and EQUOTA if the store already holds limit domains (limit <= 0
	// means no limit); the check and the insert are atomic. A zero CreatedAt
	// becomes the store's current time and a zero LastUpdatedAt CreatedAt.
	CreateDomain(ctx context.Context, d *Domain, limit int) error

	// FindDomain returns the named domain. Returns ENOTFOUND.
	FindDomain(ctx context.Context, name string) (*Domain, error)

	// UpdateDomain reads the named domain, calls fn on it and stores the
	// result, all in one transaction, and returns the domain as FindDomain
	// would. fn's error aborts the update and is returned as is; fn must be
	// quick and must not call the store. Renaming the domain in fn returns
	// EINVALID. Returns ENOTFOUND.
	UpdateDomain(ctx context.Context, name string, fn func(*Domain) error) (*Domain, error)

	// DeleteDomain deletes the named domain and everything it holds: it
	// marks the domain (MarkDomainDeleting), then purges it page after page
	// (PurgeDomain) until it is gone, and returns then. Returns ENOTFOUND.
	DeleteDomain(ctx context.Context, name string) error

	// MarkDomainDeleting marks the named domain as being deleted, in one
	// short transaction that deletes its object types too, with a purge
	// lease until leaseUntil. From then on
	// the store treats it as missing: FindDomain, ListDomains, DomainStats,
	// UpdateDomain and the domain checks of the other methods return
	// ENOTFOUND or leave it out, the quota of CreateDomain does not count
	// it, and CreateDomain of its name returns ECONFLICT until PurgeDomain
	// has removed it. A write racing the mark may still add rows; the purge
	// removes them. Returns ENOTFOUND if no domain of that name exists (or
	// it is marked already).
	MarkDomainDeleting(ctx context.Context, name string, leaseUntil time.Time) error

	// LeaseDomainPurge takes the purge of a domain being deleted until
	// until, if its lease is held (its lease is held exactly, as the last
	// MarkDomainDeleting or LeaseDomainPurge of the caller set it) or has
	// run out by the store's clock; it reports false, changing nothing,
	// when another holder's lease runs still. Returns ENOTFOUND if no
	// domain of that name is being deleted.
	LeaseDomainPurge(ctx context.Context, name string, held, until time.Time) (bool, error)

	// PurgeDomain deletes, in one short transaction, one page of what a
	// domain being deleted holds, starting where after says ("" for the
	// start, else a DomainPurge.After of the page before): up to limit
	// profiles with their objects, keys, history and ingest buckets, then
	// the rest of the domain's history, its stream events, its dead-letter
	// copies and its configs, up to limit rows a page; its last page
	// deletes the domain's row, with what is left (types, integrations,
	// claims, rows written after the mark). A page started from "" again
	// (a purge resumed) goes on with what is left. Returns ENOTFOUND if no
	// domain of that name is being deleted (one not marked is never purged).
	PurgeDomain(ctx context.Context, name, after string, limit int) (DomainPurge, error)

	// DeletingDomains returns the domains being deleted, in name order.
	DeletingDomains(ctx context.Context) ([]DeletingDomain, error)

	// ListDomains returns up to limit domains whose names sort after the
	// name after ("" for the start), in byte order of their names; limit <= 0
	// returns all of them.
	ListDomains(ctx context.Context, after string, limit int) ([]*Domain, error)

	// DomainStats counts what the named domain holds: its profiles, its live
	// objects, their size (the bytes of the objects' data plus the names and
	// values of the profiles' fields) and the metering count (each profile
	// counts max(1, ceil(objects/100))). Returns ENOTFOUND.
	DomainStats(ctx context.Context, name string) (*DomainStats, error)

	// Update runs fn in one read-write transaction: fn's changes are all
	// committed when it returns nil and none of them when it returns an
	// error, which Update returns as is. Concurrent Updates behave as if run
	// one after another. fn must not keep tx after it returns. A store that
	// runs fn again when its transaction conflicts with others makes at
	// most MaxAttemptsFromContext(ctx) attempts when ctx sets a bound,
	// then fails with ETHROTTLED as it does after its own.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// View runs fn in one read-only transaction that sees one consistent
	// state; Tx's writing methods return an error there.
	View(ctx context.Context, fn func(tx Tx) error) error

	// DeleteExpired deletes up to limit objects (with their keys) whose
	// ExpiresAt is at or before now (limit <= 0: all), and returns how many
	// it deleted. In the same transaction it writes, for each object
	// deleted, an EXPIRED history record of the object's profile: its
	// ObjectTypeName and ObjectKey are the object's, PerformedBy is
	// ServicePerformer, CreatedAt and LastUpdatedAt are now, the id is
	// NewHistoryID(now)'s form, and it has no Content (the object's data
	// expired with it). A domain being deleted gets no records.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)

	// Close releases the store. Callers stop calling it first.
	Close() error
}

// ActivationLocker serializes the console's activations (the activation
// wizard's Submit: a queue, a key and a domain made one after another)
// across the nodes of a store. A store that only one node serves (SQLite)
// needs none: the service serializes the activations of its node.
type ActivationLocker interface {
	// LockActivation waits until no other activation of the store's
	// account holds the lock, on any node, takes it and returns the
	// function that releases it. The lock is released as well when the
	// node holding it dies or loses its connection to the store. It waits
	// until ctx ends, then returns ctx's error (wrapped).
	LockActivation(ctx context.Context) (release func(), err error)
}

// DomainPurge is what one page of Store.PurgeDomain did.
type DomainPurge struct {
	After string // where the next page starts
	Rows  int    // the rows the page deleted (not counting those of cascades)
	Done  bool   // the domain's row is deleted: nothing is left
}

// DeletingDomain is a domain being deleted (Store.MarkDomainDeleting).
type DeletingDomain struct {
	Name       string
	DeletingAt time.Time // when it was marked
	PurgeUntil time.Time // the lease of the purge's holder
}

type maxAttemptsKey struct{}

// NewContextWithMaxAttempts returns ctx bounding the attempts of a
// conflicting transaction of Store.Update to n (fewer than the store's own
// bound): a caller that can do the work in smaller transactions fails
// fast and does so.
func NewContextWithMaxAttempts(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, maxAttemptsKey{}, n)
}

// MaxAttemptsFromContext returns the bound NewContextWithMaxAttempts set,
// 0 for none.
func MaxAttemptsFromContext(ctx context.Context) int {
	n, _ := ctx.Value(maxAttemptsKey{}).(int)
	return n
}
