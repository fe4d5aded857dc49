package localsqs

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/openprofiles/profiles"
)

// Message system attributes ReceiveMessage returns.
var systemAttrs = []string{"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}

// optInt returns *p, or def when p is nil, and InvalidParameterValue when
// it is not within [lo, hi].
func optInt(p *int, def, lo, hi int, name string) (int, error) {
	if p == nil {
		return def, nil
	}
	if *p < lo || *p > hi {
		return 0, invalidParameter(name, *p, "Must be >= "+strconv.Itoa(lo)+" and <= "+strconv.Itoa(hi)+", if provided.")
	}
	return *p, nil
}

// checkSend validates what SendMessage and its batch entries give besides
// the body.
func checkSend(delay *int, attrs, system map[string]messageAttribute, dedup string) (int, error) {
	d, err := optInt(delay, -1, 0, 900, "DelaySeconds")
	if err != nil {
		return 0, err
	}
	if len(system) > 0 {
		return 0, invalidParameterf("MessageSystemAttributes are not supported by the built-in queue service.")
	}
	if dedup != "" {
		return 0, invalidParameterf("The request include parameter that is not valid for this queue type: MessageDeduplicationId is for FIFO queues.")
	}
	return d, validAttributes(attrs)
}

func (s *SQS) sendMessage(ctx context.Context, c *caller, in *sendMessageInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:SendMessage", q); err != nil {
		return nil, err
	}
	delay, err := checkSend(in.DelaySeconds, in.MessageAttributes, in.MessageSystemAttributes, in.MessageDeduplicationId)
	if err != nil {
		return nil, err
	}
	m, err := s.send(ctx, q, in.MessageBody, in.MessageAttributes, delay, c.principal)
	if err != nil {
		return nil, err
	}
	return &sendMessageOutput{MessageId: m.ID, MD5OfMessageBody: md5Hex(m.Body),
		MD5OfMessageAttributes: md5OfAttributes(in.MessageAttributes)}, nil
}

func (s *SQS) receiveMessage(ctx context.Context, c *caller, in *receiveMessageInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:ReceiveMessage", q); err != nil {
		return nil, err
	}
	max, err := optInt(in.MaxNumberOfMessages, 1, 1, MaxReceive, "MaxNumberOfMessages")
	if err != nil {
		return nil, err
	}
	wait, err := optInt(in.WaitTimeSeconds, intAttr(q, AttrReceiveMessageWaitTimeSeconds), 0, 20, "WaitTimeSeconds")
	if err != nil {
		return nil, err
	}
	vis, err := optInt(in.VisibilityTimeout, intAttr(q, AttrVisibilityTimeout), 0, 43200, "VisibilityTimeout")
	if err != nil {
		return nil, err
	}
	msgs, err := s.receive(ctx, q, max, seconds(wait), seconds(vis))
	if err != nil {
		return nil, err
	}
	names := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	out := &receiveMessageOutput{}
	for _, m := range msgs {
		attrs, sender := decodeAttributes(m.Attributes, in.MessageAttributeNames)
		first := m.FirstReceive
		if first.IsZero() {
			first = s.now()
		}
		system := map[string]string{
			"SenderId":                         sender,
			"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
			"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(first.UnixMilli(), 10),
		}
		var got map[string]string
		for _, name := range systemAttrs {
			if (slices.Contains(names, "All") || slices.Contains(names, name)) && system[name] != "" {
				if got == nil {
					got = map[string]string{}
				}
				got[name] = system[name]
			}
		}
		out.Messages = append(out.Messages, message{MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: md5Hex(m.Body),
			Body: m.Body, Attributes: got, MessageAttributes: attrs, MD5OfMessageAttributes: md5OfAttributes(attrs)})
	}
	return out, nil
}

func (s *SQS) deleteMessageOp(ctx context.Context, c *caller, in *deleteMessageInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:DeleteMessage", q); err != nil {
		return nil, err
	}
	if err := s.deleteMessage(ctx, q, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return &empty{}, nil
}

// changeVisibility hides the message of a receipt handle for vis seconds
// from now. A handle that names no message is ReceiptHandleIsInvalid.
func (s *SQS) changeVisibility(ctx context.Context, q *profiles.Queue, handle string, vis *int) error {
	if vis == nil {
		return missingParameter("VisibilityTimeout")
	}
	n, err := optInt(vis, 0, 0, 43200, "VisibilityTimeout")
	if err != nil {
		return err
	}
	if err := validHandle(handle); err != nil {
		return err
	}
	err = s.Store.ChangeVisibility(ctx, q.Name, handle, s.now().Add(seconds(n)))
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return sqsErrorf(ExReceiptHandleIsInvalid, profiles.EINVALID,
			"Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", clip(handle))
	} else if err != nil {
		return storeError("change visibility", err)
	}
	return nil
}

func (s *SQS) changeMessageVisibility(ctx context.Context, c *caller, in *changeVisibilityInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:ChangeMessageVisibility", q); err != nil {
		return nil, err
	}
	if err := s.changeVisibility(ctx, q, in.ReceiptHandle, in.VisibilityTimeout); err != nil {
		return nil, err
	}
	return &empty{}, nil
}

// checkBatch validates the entry ids of a batch: 1 to 10 entries, ids of
// 1 to 80 letters, digits, hyphens and underscores, all different.
func checkBatch(ids []string) error {
	if len(ids) == 0 {
		return sqsErrorf(ExEmptyBatchRequest, profiles.EINVALID, "There should be at least one entry in the request.")
	}
	if len(ids) > 10 {
		return sqsErrorf(ExTooManyEntries, profiles.EINVALID, "Maximum number of entries per request are 10. You have sent %d.", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		ok := id != "" && len(id) <= 80
		for i := 0; ok && i < len(id); i++ {
			c := id[i]
			ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
		}
		if !ok {
			return sqsErrorf(ExInvalidBatchEntryID, profiles.EINVALID,
				"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return sqsErrorf(ExBatchEntryIdsNotDistinct, profiles.EINVALID, "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

// entryError is the Failed entry of a batch for err, or the error to
// answer the whole request with when err is not the entry's fault.
func entryError(id string, err error) (batchError, error) {
	var qe *Error
	if !errors.As(err, &qe) || qe.Err.Code == profiles.ENOTFOUND || qe.Err.Code == profiles.EFORBIDDEN {
		return batchError{}, err
	}
	return batchError{Id: id, Code: qe.Exception, Message: qe.Err.Message, SenderFault: true}, nil
}

func (s *SQS) sendMessageBatch(ctx context.Context, c *caller, in *sendBatchInput) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, "sqs:SendMessage", q); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.Id
		total += len(e.MessageBody)
		for name, a := range e.MessageAttributes {
			total += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
	}
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	if total > MaxMessageBytes {
		return nil, sqsErrorf(ExBatchRequestTooLong, profiles.EINVALID,
			"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", MaxMessageBytes, total)
	}
	out := &sendBatchOutput{Successful: []sendBatchResult{}, Failed: []batchError{}}
	for _, e := range in.Entries {
		delay, err := checkSend(e.DelaySeconds, e.MessageAttributes, e.MessageSystemAttributes, e.MessageDeduplicationId)
		var m *profiles.StoredMessage
		if err == nil {
			m, err = s.send(ctx, q, e.MessageBody, e.MessageAttributes, delay, c.principal)
		}
		if err != nil {
			be, err := entryError(e.Id, err)
			if err != nil {
				return nil, err
			}
			out.Failed = append(out.Failed, be)
			continue
		}
		out.Successful = append(out.Successful, sendBatchResult{Id: e.Id, MessageId: m.ID, MD5OfMessageBody: md5Hex(m.Body),
			MD5OfMessageAttributes: md5OfAttributes(e.MessageAttributes)})
	}
	return out, nil
}

// handleBatch runs f on each entry of a DeleteMessageBatch or
// ChangeMessageVisibilityBatch.
func (s *SQS) handleBatch(ctx context.Context, c *caller, in *handleBatchInput, action string,
	f func(q *profiles.Queue, e handleBatchEntry) error) (any, error) {
	q, err := s.queue(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, c, action, q); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	out := &handleBatchOutput{Successful: []idResult{}, Failed: []batchError{}}
	for _, e := range in.Entries {
		if err := f(q, e); err != nil {
			be, err := entryError(e.Id, err)
			if err != nil {
				return nil, err
			}
			out.Failed = append(out.Failed, be)
			continue
		}
		out.Successful = append(out.Successful, idResult{Id: e.Id})
	}
	return out, nil
}

func (s *SQS) deleteMessageBatch(ctx context.Context, c *caller, in *handleBatchInput) (any, error) {
	return s.handleBatch(ctx, c, in, "sqs:DeleteMessage", func(q *profiles.Queue, e handleBatchEntry) error {
		return s.deleteMessage(ctx, q, e.ReceiptHandle)
	})
}

func (s *SQS) changeMessageVisibilityBatch(ctx context.Context, c *caller, in *handleBatchInput) (any, error) {
	return s.handleBatch(ctx, c, in, "sqs:ChangeMessageVisibility", func(q *profiles.Queue, e handleBatchEntry) error {
		return s.changeVisibility(ctx, q, e.ReceiptHandle, e.VisibilityTimeout)
	})
}
