package localsqs

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/openprofiles/profiles"
)

// unsupportedAttrs are queue attributes of SQS that this service refuses.
var unsupportedAttrs = []string{"RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
	"SqsManagedSseEnabled", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}

// readOnlyAttrs are the attributes GetQueueAttributes returns besides the
// settable ones.
var readOnlyAttrs = []string{"QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"CreatedTimestamp", "LastModifiedTimestamp"}

// checkAttributes validates the attributes given to CreateQueue or
// SetQueueAttributes and returns them normalised: numbers in decimal,
// Policy as given ("" removes it). Returns InvalidAttributeName and
// InvalidAttributeValue (EINVALID).
func checkAttributes(attrs map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(attrs))
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[name]
		if r, ok := settable[name]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < r.min || n > r.max {
				return nil, sqsErrorf(ExInvalidAttributeValue, profiles.EINVALID,
					"Invalid value for the parameter %s. Reason: Must be an integer from %d to %d.", name, r.min, r.max)
			}
			out[name] = strconv.Itoa(n)
			continue
		}
		switch {
		case name == AttrPolicy:
			if v != "" {
				if _, err := parsePolicy(v); err != nil {
					return nil, err
				}
			}
			out[name] = v
		case name == "FifoQueue":
			if v != "false" {
				return nil, sqsErrorf(ExInvalidAttributeValue, profiles.EINVALID,
					"Invalid value for the parameter FifoQueue. Reason: FIFO queues are not supported by the built-in queue service.")
			}
		case slices.Contains(unsupportedAttrs, name):
			return nil, sqsErrorf(ExInvalidAttributeName, profiles.EINVALID,
				"The attribute %s is not supported by the built-in queue service.", name)
		default:
			return nil, sqsErrorf(ExInvalidAttributeName, profiles.EINVALID, "Unknown Attribute %s.", name)
		}
	}
	return out, nil
}

// checkTags validates queue tags: at most 50, keys of 1 to 128 and values
// of at most 256 characters.
func checkTags(tags map[string]string) error {
	if len(tags) > 50 {
		return invalidParameterf("Too many tags: %d; a queue may have at most 50.", len(tags))
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParameterf("Invalid tag %q: keys have 1 to 128 characters and do not start with aws:, values at most 256.", clip(k))
		}
	}
	return nil
}

func (s *SQS) createQueue(ctx context.Context, c *caller, in *createQueueInput) (any, error) {
	if in.QueueName == "" {
		return nil, missingParameter("QueueName")
	}
	if err := validQueueName(in.QueueName); err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:CreateQueue", nil); err != nil {
		return nil, err
	}
	attrs, err := checkAttributes(in.Attributes)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	for range 2 {
		existing, err := s.Store.FindQueue(ctx, in.QueueName)
		if err == nil {
			for _, name := range slices.Sorted(maps.Keys(attrs)) {
				have := existing.Attributes[name]
				if _, ok := settable[name]; ok {
					have = strconv.Itoa(intAttr(existing, name))
				}
				if have != attrs[name] {
					return nil, sqsErrorf(ExQueueNameExists, profiles.ECONFLICT,
						"A queue already exists with the same name and a different value for attribute %s", name)
				}
			}
			return &queueURLOutput{QueueUrl: s.queueURL(c.base, existing.Name)}, nil
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return nil, storeError("find queue", err)
		}
		q := &profiles.Queue{Name: in.QueueName, URL: s.queueURL(c.base, in.QueueName), ARN: s.QueueARN(in.QueueName),
			Attributes: map[string]string{}, Tags: in.Tags, CreatedAt: s.now(), UpdatedAt: s.now()}
		for name, r := range settable {
			q.Attributes[name] = strconv.Itoa(r.def)
		}
		for name, v := range attrs {
			if v == "" {
				delete(q.Attributes, name)
			} else {
				q.Attributes[name] = v
			}
		}
		if q.Tags == nil {
			q.Tags = map[string]string{}
		}
		err = s.Store.CreateQueue(ctx, q)
		if err == nil {
			return &queueURLOutput{QueueUrl: q.URL}, nil
		} else if profiles.ErrorCode(err) != profiles.ECONFLICT {
			return nil, storeError("create queue", err)
		}
		// Created meanwhile: compare with that one.
	}
	return nil, sqsErrorf(ExQueueNameExists, profiles.ECONFLICT, "A queue named %s is being created.", in.QueueName)
}

func (s *SQS) getQueueURL(ctx context.Context, c *caller, in *getQueueURLInput) (any, error) {
	if in.QueueName == "" {
		return nil, missingParameter("QueueName")
	}
	if in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != s.AccountID {
		return nil, errNoQueue()
	}
	if validQueueName(in.QueueName) != nil {
		return nil, errNoQueue()
	}
	q, err := s.queue(ctx, "/"+s.AccountID+"/"+in.QueueName)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:GetQueueUrl", q); err != nil {
		return nil, err
	}
	return &queueURLOutput{QueueUrl: s.queueURL(c.base, q.Name)}, nil
}

func (s *SQS) listQueues(ctx context.Context, c *caller, in *listQueuesInput) (any, error) {
	if err := s.allow(ctx, c, "sqs:ListQueues", nil); err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, invalidParameter("MaxResults", *in.MaxResults, "Must be between 1 and 1000, if provided.")
		}
		limit = *in.MaxResults
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	qs, err := s.Store.ListQueues(ctx, in.QueueNamePrefix, after, limit+1)
	if err != nil {
		return nil, storeError("list queues", err)
	}
	out := &listQueuesOutput{}
	if len(qs) > limit {
		qs = qs[:limit]
		if in.MaxResults != nil {
			out.NextToken = encodeToken(qs[limit-1].Name)
		}
	}
	for _, q := range qs {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(c.base, q.Name))
	}
	return out, nil
}

func (s *SQS) getQueueAttributes(ctx context.Context, c *caller, in *getQueueAttributesInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:GetQueueAttributes", q); err != nil {
		return nil, err
	}
	all := slices.Contains(in.AttributeNames, "All")
	want := map[string]bool{}
	for _, name := range in.AttributeNames {
		_, ok := settable[name]
		switch {
		case name == "All" || ok || name == AttrPolicy || slices.Contains(readOnlyAttrs, name):
			want[name] = true
		case name == "ApproximateNumberOfMessagesDelayed" || name == "FifoQueue" || slices.Contains(unsupportedAttrs, name):
			// Known to SQS, never set here: not returned.
		default:
			return nil, sqsErrorf(ExInvalidAttributeName, profiles.EINVALID, "Unknown Attribute %s.", name)
		}
	}
	out := map[string]string{}
	put := func(name, v string) {
		if (all || want[name]) && v != "" {
			out[name] = v
		}
	}
	for name := range settable {
		put(name, strconv.Itoa(intAttr(q, name)))
	}
	put(AttrPolicy, q.Attributes[AttrPolicy])
	put("QueueArn", q.ARN)
	put("CreatedTimestamp", strconv.FormatInt(q.CreatedAt.Unix(), 10))
	put("LastModifiedTimestamp", strconv.FormatInt(q.UpdatedAt.Unix(), 10))
	if all || want["ApproximateNumberOfMessages"] || want["ApproximateNumberOfMessagesNotVisible"] {
		visible, hidden, err := s.Store.CountMessages(ctx, q.Name, s.now())
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil, errNoQueue()
		} else if err != nil {
			return nil, storeError("count messages", err)
		}
		put("ApproximateNumberOfMessages", strconv.Itoa(visible))
		put("ApproximateNumberOfMessagesNotVisible", strconv.Itoa(hidden))
	}
	if len(out) == 0 {
		out = nil
	}
	return &attributesOutput{Attributes: out}, nil
}

func (s *SQS) setQueueAttributes(ctx context.Context, c *caller, in *setQueueAttributesInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:SetQueueAttributes", q); err != nil {
		return nil, err
	}
	attrs, err := checkAttributes(in.Attributes)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, q.Name, func(q *profiles.Queue) {
		for name, v := range attrs {
			if v == "" {
				delete(q.Attributes, name)
			} else {
				q.Attributes[name] = v
			}
		}
	})
}

// update changes a queue in the store and stamps it modified.
func (s *SQS) update(ctx context.Context, name string, fn func(*profiles.Queue)) (any, error) {
	_, err := s.Store.UpdateQueue(ctx, name, func(q *profiles.Queue) error {
		if q.Attributes == nil {
			q.Attributes = map[string]string{}
		}
		if q.Tags == nil {
			q.Tags = map[string]string{}
		}
		fn(q)
		q.UpdatedAt = s.now()
		return nil
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, errNoQueue()
	} else if err != nil {
		return nil, storeError("update queue", err)
	}
	return &empty{}, nil
}

func (s *SQS) deleteQueue(ctx context.Context, c *caller, in *queueURLInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:DeleteQueue", q); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteQueue(ctx, q.Name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, errNoQueue()
	} else if err != nil {
		return nil, storeError("delete queue", err)
	}
	return &empty{}, nil
}

func (s *SQS) purgeQueue(ctx context.Context, c *caller, in *queueURLInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:PurgeQueue", q); err != nil {
		return nil, err
	}
	if err := s.Purge(ctx, in.QueueUrl); err != nil {
		return nil, err
	}
	return &empty{}, nil
}

func (s *SQS) tagQueue(ctx context.Context, c *caller, in *tagQueueInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:TagQueue", q); err != nil {
		return nil, err
	}
	merged := maps.Clone(q.Tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, in.Tags)
	if err := checkTags(merged); err != nil {
		return nil, err
	}
	return s.update(ctx, q.Name, func(q *profiles.Queue) { maps.Copy(q.Tags, in.Tags) })
}

func (s *SQS) untagQueue(ctx context.Context, c *caller, in *untagQueueInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:UntagQueue", q); err != nil {
		return nil, err
	}
	return s.update(ctx, q.Name, func(q *profiles.Queue) {
		for _, k := range in.TagKeys {
			delete(q.Tags, k)
		}
	})
}

func (s *SQS) listQueueTags(ctx context.Context, c *caller, in *queueURLInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:ListQueueTags", q); err != nil {
		return nil, err
	}
	if len(q.Tags) == 0 {
		return &tagsOutput{}, nil
	}
	return &tagsOutput{Tags: q.Tags}, nil
}
