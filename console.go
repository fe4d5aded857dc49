package profiles

import (
	"context"
	"time"
)

// KeyAdmin is the key management the web console offers when the domains'
// keys live in the built-in KMS. Callers authorise (kms:CreateKey,
// kms:CreateAlias, kms:ListKeys) before they call.
type KeyAdmin interface {
	// CreateServiceKey creates a symmetric key whose policy lets the
	// account administer it and ServicePrincipal use it for the account's
	// domains, with an alias ("alias/…", optional). Returns EINVALID for a
	// bad alias or description and ECONFLICT for an alias taken.
	CreateServiceKey(ctx context.Context, description, alias string) (*KeyMetadata, error)
	// ListKeys returns the keys of the account with their aliases.
	ListKeys(ctx context.Context) ([]*KeyMetadata, error)
	// ServiceKeyStatement returns the key policy statement that lets
	// ServicePrincipal use a key for the account's domains.
	ServiceKeyStatement() string
}

// QueueAdmin is the queue management the web console offers when the
// dead-letter queues live in the built-in queue service. Callers authorise
// (sqs:CreateQueue, sqs:ListQueues) before they call.
type QueueAdmin interface {
	// CreateServiceQueue creates a queue whose policy lets
	// ServicePrincipal send to it for the account's domains. Returns
	// EINVALID for a bad name and ECONFLICT for a name taken.
	CreateServiceQueue(ctx context.Context, name string) (*Queue, error)
	// ListQueues returns the queues of the account.
	ListQueues(ctx context.Context) ([]*Queue, error)
	// ServiceQueueStatement returns the queue policy statement that lets
	// ServicePrincipal send to the named queue for the account's domains.
	ServiceQueueStatement(queueName string) string
	// QueueARN returns the ARN of the named queue.
	QueueARN(name string) string
}

// FormDraftTTL is how long FormDraftService keeps a refused console form.
const FormDraftTTL = 15 * time.Minute

// MaxFormDrafts is how many drafts FormDraftService keeps for an owner in a
// domain: a new one replaces the oldest. MaxFormDraftSize bounds a draft's
// data. Together they bound what refused forms can store, however many an
// owner sends.
const (
	MaxFormDrafts    = 10
	MaxFormDraftSize = 64 << 10
)

// FormDraftService keeps what a refused console form of a domain held (the
// values typed and the errors found) for the page that shows it again,
// after a redirection: the answer to the form's POST is then a GET page,
// which the browser's Back, Forward and Reload show without sending the
// form again. Drafts live in the store, so every node of it finds them,
// and are sealed under the domain's key like its profiles.
type FormDraftService interface {
	// KeepFormDraft keeps data (at most MaxFormDraftSize bytes) as the
	// owner's draft name in the domain for FormDraftTTL, replacing one of
	// that name; the owner keeps its newest MaxFormDrafts drafts in the
	// domain, so this one may replace its oldest. Owner and name are 16 to
	// 64 letters, digits, hyphens and underscores. Returns ENOTFOUND for a
	// missing domain, EINVALID for a malformed owner or name or data too
	// large, EFORBIDDEN when the domain's key may not be used.
	KeepFormDraft(ctx context.Context, domain, owner, name string, data []byte) error
	// FormDraft returns the data of the owner's draft. Returns ENOTFOUND
	// when there is none of that name (any more: replaced by newer drafts,
	// or its time has passed).
	FormDraft(ctx context.Context, domain, owner, name string) ([]byte, error)
}
