package service

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// The delivery loop of event streams: every node runs one
// (StartEventDelivery). It claims the events the store keeps
// (EventOutbox.ClaimStreamEvents: no other node gets them while claimed),
// writes each stream's events to its Kinesis data stream in one PutRecords
// call, and deletes the events delivered. An event the destination refused,
// or that could not be sent, stays claimed until its claim lapses
// (EventRetryInterval) and is then sent again: delivery is at least once, and a profile's events keep
// their order unless one of them has to be sent again. Events that could
// not be delivered for EventRetention are dropped (the destination's
// Message says so).

// Settings of the delivery loop.
const (
	deliveryBatch = 500 // events a claim takes: one PutRecords call at most per stream
	// DefaultEventRetryInterval is how long an event the destination did
	// not take waits before it is sent again (Service.EventRetryInterval).
	DefaultEventRetryInterval = 30 * time.Second
	deliveryPoll              = time.Second // how often a node looks for events other nodes wrote
	// EventRetention is how long an event waits for its destination.
	EventRetention = 24 * time.Hour
)

// delivery is the delivery loop's wake-up call.
type delivery struct {
	once sync.Once
	wake chan struct{}
}

func (d *delivery) ch() chan struct{} {
	d.once.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

func (s *Service) eventRetryInterval() time.Duration {
	if s.EventRetryInterval <= 0 {
		return DefaultEventRetryInterval
	}
	return s.EventRetryInterval
}

// wakeDelivery asks this node's delivery loop to look for events now:
// a change that wrote events has committed.
func (s *Service) wakeDelivery() {
	select {
	case s.delivery.ch() <- struct{}{}:
	default:
	}
}

// StartEventDelivery starts this node's delivery loop; Close stops it.
func (s *Service) StartEventDelivery() {
	ctx := s.bg.context()
	s.bg.wg.Add(1)
	go func() {
		defer s.bg.wg.Done()
		for ctx.Err() == nil {
			n, err := s.DeliverEvents(ctx)
			if err != nil && ctx.Err() == nil {
				s.Logger.Error("event streams: delivery", "err", err)
			}
			if n == deliveryBatch && err == nil {
				continue // more are waiting
			}
			t := time.NewTimer(deliveryPoll)
			select {
			case <-ctx.Done():
			case <-s.delivery.ch():
			case <-t.C:
			}
			t.Stop()
		}
	}()
}

// DeliverEvents claims up to deliveryBatch events and delivers them, and
// returns how many it claimed. The loop of StartEventDelivery calls it; so
// can tests.
func (s *Service) DeliverEvents(ctx context.Context) (int, error) {
	if s.Outbox == nil {
		return 0, nil
	}
	events, dropped, err := s.Outbox.ClaimStreamEvents(ctx, s.now(), s.eventRetryInterval(), EventRetention, deliveryBatch)
	if err != nil {
		return 0, err
	}
	if dropped > 0 {
		s.Logger.Warn("event streams: events older than the retention dropped undelivered", "events", dropped, "retention", EventRetention)
	}
	type streamKey struct{ domain, name string }
	var order []streamKey
	groups := map[streamKey][]*profiles.StreamEvent{}
	for _, e := range events {
		k := streamKey{e.DomainName, e.StreamName}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	var done []int64
	for _, k := range order {
		delivered, err := s.deliverStream(ctx, k.domain, k.name, groups[k])
		if err != nil {
			return len(events), err
		}
		done = append(done, delivered...)
	}
	if err := s.Outbox.DeleteStreamEvents(ctx, done); err != nil {
		return len(events), err
	}
	return len(events), nil
}

// deliverStream sends events of one stream and returns the Seqs of those
// delivered, or to drop (their stream is gone).
func (s *Service) deliverStream(ctx context.Context, domain, name string, events []*profiles.StreamEvent) ([]int64, error) {
	seqs := func(evs []*profiles.StreamEvent) []int64 {
		out := make([]int64, len(evs))
		for i, e := range evs {
			out[i] = e.Seq
		}
		return out
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigEventStream, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return seqs(events), nil // the stream was deleted
	} else if err != nil {
		return nil, err
	}
	doc, err := decodeStreamDoc(c)
	if err != nil {
		return nil, err
	}
	if s.Streams == nil {
		s.setHealth(ctx, domain, name, doc, "No Kinesis-compatible service is configured (--kinesis-endpoint): events wait for one.")
		return nil, nil
	}
	records := make([]profiles.StreamRecord, 0, len(events))
	sent := make([]*profiles.StreamEvent, 0, len(events))
	var openErr error
	for _, e := range events {
		data, err := s.crypt.Open(ctx, eventRecord(domain, name, e.ID), e.Data)
		if err != nil {
			openErr = err
			continue
		}
		records = append(records, profiles.StreamRecord{PartitionKey: e.PartitionKey, Data: data})
		sent = append(sent, e)
	}
	if len(records) == 0 {
		s.setHealth(ctx, domain, name, doc, "Events cannot be decrypted: "+profiles.ErrorMessage(openErr))
		return nil, nil
	}
	failed, err := s.Streams.PutRecords(ctx, doc.Uri, records)
	if err != nil {
		s.setHealth(ctx, domain, name, doc, fmt.Sprintf("Kinesis PutRecords to %s failed (%d events wait): %s", doc.Uri, len(events), profiles.ErrorMessage(err)))
		return nil, nil
	}
	refused := map[int]bool{}
	for _, i := range failed {
		refused[i] = true
	}
	var delivered []int64
	for i, e := range sent {
		if !refused[i] {
			delivered = append(delivered, e.Seq)
		}
	}
	switch {
	case len(delivered) == 0:
		s.setHealth(ctx, domain, name, doc, fmt.Sprintf("Kinesis data stream %s refused every record (throttled).", doc.Uri))
	case openErr != nil:
		s.setHealth(ctx, domain, name, doc, "Some events cannot be decrypted: "+profiles.ErrorMessage(openErr))
	default:
		s.setHealth(ctx, domain, name, doc, "")
	}
	return delivered, nil
}

// setHealth records the destination's health: healthy for an empty
// message, else unhealthy because of it. It writes the stream's config
// only when its health changes.
func (s *Service) setHealth(ctx context.Context, domain, name string, doc *streamDoc, message string) {
	status := profiles.DestinationHealthy
	if message != "" {
		status = profiles.DestinationUnhealthy
	}
	if doc.Status == status && doc.Message == message {
		return
	}
	if message != "" {
		s.Logger.Warn("event streams: destination unhealthy", "domain", domain, "stream", name, "message", message)
	}
	_, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigEventStream, name, func(c *profiles.DomainConfig) error {
		cur, err := decodeStreamDoc(c)
		if err != nil {
			return err
		}
		if status == profiles.DestinationUnhealthy && cur.Status != profiles.DestinationUnhealthy {
			cur.UnhealthySince = s.now()
		} else if status == profiles.DestinationHealthy {
			cur.UnhealthySince = time.Time{}
		}
		cur.Status, cur.Message = status, message
		c.Data, err = json.Marshal(cur)
		return err
	})
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Error("event streams: record the destination's health", "domain", domain, "stream", name, "err", err)
	}
}
