package profiles

import "context"

// SearchKey is a key name and the values to look for.
type SearchKey struct {
	KeyName string
	Values  []string
}

// SearchQuery finds profiles by keys: Key, and up to four Additional keys
// combined with LogicalOperator AND or OR ("" is OR).
type SearchQuery struct {
	Key             SearchKey
	Additional      []SearchKey
	LogicalOperator string
}

// FoundProfile is a search result: the profile and the key values that
// found it.
type FoundProfile struct {
	Profile *Profile
	FoundBy []SearchKey
}

// SearchService finds profiles.
type SearchService interface {
	// SearchProfiles returns one page of the profiles matching q, in profile
	// id order, and the next token. Values are normalised as the key's
	// content type says (phones and emails match whatever their format).
	// Returns ENOTFOUND for a missing domain and EINVALID for an unknown key
	// name (named in the message) or a bad token.
	SearchProfiles(ctx context.Context, domain string, q SearchQuery, page Page) ([]*FoundProfile, string, error)
}
