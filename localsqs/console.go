package localsqs

import (
	"context"
	"strconv"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.QueueAdmin = (*SQS)(nil)

// ChangeVisibility makes a received message visible again after d (0: at
// once). Returns ENOTFOUND, and EINVALID for a handle that is not, or no
// longer, the message's.
func (s *SQS) ChangeVisibility(ctx context.Context, queueURL, receiptHandle string, d time.Duration) error {
	if d < 0 || d > MaxVisibility {
		return invalidParameter("VisibilityTimeout", d, "Must be >= 0 and <= 43200, if provided.")
	}
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return err
	}
	n := int((d + time.Second - 1) / time.Second)
	return s.changeVisibility(ctx, q, receiptHandle, &n)
}

// ChangeVisibilities makes up to 10 received messages visible again after
// d, as ChangeVisibility each; errs[i] is the error of receiptHandles[i].
// Returns ENOTFOUND, and EINVALID for no handle or more than 10.
func (s *SQS) ChangeVisibilities(ctx context.Context, queueURL string, receiptHandles []string, d time.Duration) ([]error, error) {
	if len(receiptHandles) == 0 || len(receiptHandles) > MaxReceive {
		return nil, invalidParameter("Entries", len(receiptHandles), "Must hold from 1 to 10 entries.")
	}
	if d < 0 || d > MaxVisibility {
		return nil, invalidParameter("VisibilityTimeout", d, "Must be >= 0 and <= 43200, if provided.")
	}
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return nil, err
	}
	n := int((d + time.Second - 1) / time.Second)
	errs := make([]error, len(receiptHandles))
	for i, h := range receiptHandles {
		errs[i] = s.changeVisibility(ctx, q, h, &n)
		if profiles.ErrorCode(errs[i]) != profiles.EINVALID && errs[i] != nil {
			return nil, errs[i] // the store, not the handle
		}
	}
	return errs, nil
}

// Depth returns the number of messages in the queue, visible or not.
// Returns ENOTFOUND.
func (s *SQS) Depth(ctx context.Context, queueURL string) (int, error) {
	q, err := s.queue(ctx, queueURL)
	if err != nil {
		return 0, err
	}
	visible, hidden, err := s.Store.CountMessages(ctx, q.Name, s.now())
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return 0, errNoQueue()
	} else if err != nil {
		return 0, storeError("count messages", err)
	}
	return visible + hidden, nil
}

// CreateServiceQueue creates a queue with the default attributes and a
// policy made of ServicePolicyStatement, for a domain's dead letters.
// Returns EINVALID for a bad name and ECONFLICT when the name is taken.
func (s *SQS) CreateServiceQueue(ctx context.Context, name string) (*profiles.Queue, error) {
	if err := validQueueName(name); err != nil {
		return nil, err
	}
	q := &profiles.Queue{Name: name, URL: s.queueURL("", name), ARN: s.QueueARN(name),
		Attributes: map[string]string{AttrPolicy: ServicePolicy(s.Region, s.AccountID, name)},
		Tags:       map[string]string{}, CreatedAt: s.now(), UpdatedAt: s.now()}
	for attr, r := range settable {
		q.Attributes[attr] = strconv.Itoa(r.def)
	}
	err := s.Store.CreateQueue(ctx, q)
	if profiles.ErrorCode(err) == profiles.ECONFLICT {
		return nil, sqsErrorf(ExQueueNameExists, profiles.ECONFLICT, "A queue named %s already exists.", name)
	} else if err != nil {
		return nil, storeError("create queue", err)
	}
	return q, nil
}

// ListQueues returns every queue of the account, by name, with its URL.
func (s *SQS) ListQueues(ctx context.Context) ([]*profiles.Queue, error) {
	qs, err := s.Store.ListQueues(ctx, "", "", 0)
	if err != nil {
		return nil, storeError("list queues", err)
	}
	for _, q := range qs {
		q.URL = s.queueURL("", q.Name)
	}
	return qs, nil
}

// ServiceQueueStatement returns ServicePolicyStatement for a queue of this
// service.
func (s *SQS) ServiceQueueStatement(name string) string {
	return ServicePolicyStatement(s.Region, s.AccountID, name)
}
