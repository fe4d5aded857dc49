package profiles

import "context"

// ServerSettingStore keeps values of the whole server, not of a domain, by
// name: what every node of a store must agree on, as a check value of the
// server secret (ServerSecretCheck).
type ServerSettingStore interface {
	// InitServerSetting stores value under name if the store has no value
	// of that name, and returns the value the store holds then: value, or
	// the one stored before (by an earlier start, or by a concurrent
	// InitServerSetting that got there first). It never replaces a value.
	InitServerSetting(ctx context.Context, name string, value []byte) ([]byte, error)
}

// ServerSecretCheck is the name of the server setting that holds a check
// value of the server secret (an HMAC of a fixed label under it, never the
// secret): the first start on a store records it, every later one
// compares its own secret's with it.
const ServerSecretCheck = "server-secret-check"
