package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/looplog"
)

// The delivery loop of event streams: every node runs one
// (StartEventDelivery). It claims event streams with their oldest events
// (EventOutbox.ClaimStreamEvents: while a node holds a stream, no other
// node gets any of its events), writes each stream's events to its Kinesis
// data stream in PutRecords calls, deletes the events delivered and lets
// the stream go (FinishStreamClaim), so that its next events can be
// claimed at once. A stream whose destination took none of its events
// stays claimed until its claim lapses (EventRetryInterval): it is then
// claimed again, with its oldest events first. So a failing destination
// costs one claim of one batch per interval, whatever its backlog; delivery
// is at least once, and a stream's events go out in the order of the
// changes (a record Kinesis refuses within one call is sent again after the
// others of that call, and so are the later records of its profile that
// call took: a profile's last record is always its latest change). Events
// that could not be delivered for EventRetention are dropped (the
// destination's Message says so).

// Settings of the delivery loop.
const (
	deliveryBatch = 200 // events a claim takes
	// DefaultEventRetryInterval is how long an event the destination did
	// not take waits before it is sent again (Service.EventRetryInterval).
	DefaultEventRetryInterval = 30 * time.Second
	deliveryPoll              = time.Second // how often a node looks for events other nodes wrote
	// EventRetention is how long an event waits for its destination.
	EventRetention = 24 * time.Hour
)

// Kinesis's limits on PutRecords.
const (
	maxRecordBytes  = 1 << 20 // the data and partition key of a record
	maxRequestBytes = 5 << 20 // of the records of one call
	maxPutRecords   = 500
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
	failures := &looplog.Loop{Logger: s.Logger, Name: "event streams: delivery"}
	s.bg.wg.Add(1)
	go func() {
		defer s.bg.wg.Done()
		for ctx.Err() == nil {
			n, err := s.DeliverEvents(ctx)
			if err != nil && ctx.Err() == nil {
				failures.Failed(ctx, err)
			} else if err == nil {
				failures.Succeeded(ctx)
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
	var errs []error
	for _, k := range order {
		evs := groups[k]
		s.Metrics.claimed(len(evs))
		delivered, release, err := s.deliverStream(ctx, k.domain, k.name, evs)
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s of domain %s: %w", k.name, k.domain, err))
		}
		// Finished with a context of its own: events sent are deleted
		// even when ctx ends meanwhile (else they would be sent again).
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = s.Outbox.FinishStreamClaim(fctx, k.domain, k.name, evs[0].ClaimedUntil, delivered, release)
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return len(events), errors.Join(errs...)
}

// deliverStream sends the events of one stream (by its outbox name), all
// of one claim, and returns the Seqs of those delivered, or to drop (their
// stream is gone, or Kinesis can never take them), and whether to let the
// stream go: unless its destination took none of them (it waits for the
// claim to lapse, then its oldest events are sent again).
func (s *Service) deliverStream(ctx context.Context, domain, outbox string, events []*profiles.StreamEvent) (delivered []int64, release bool, err error) {
	name, _, _ := strings.Cut(outbox, "#")
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigEventStream, name)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND || err == nil && outboxName(c) != outbox {
		// The stream was deleted (and maybe made again): drop its events.
		for _, e := range events {
			delivered = append(delivered, e.Seq)
		}
		return delivered, true, nil
	} else if err != nil {
		return nil, false, err
	}
	doc, err := decodeStreamDoc(c)
	if err != nil {
		return nil, false, err
	}
	if s.Streams == nil {
		s.setHealth(ctx, domain, name, doc, "No Kinesis-compatible service is configured (--kinesis-endpoint): events wait for one.")
		return nil, false, nil
	}
	// A call starts only if it ends (putRecordsTimeout) before the claim
	// lapses: after that another node may be sending the same events.
	claimedUntil := events[0].ClaimedUntil
	var (
		problem string // why some events were not delivered
		late    bool   // the claim was too near its end to send the rest
		stopped bool   // Kinesis refused some records of a call
		sent    int    // records Kinesis took
		batch   []profiles.StreamRecord
		batchOf []*profiles.StreamEvent
		size    int
	)
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		if s.now().Add(s.putRecordsTimeout()).After(claimedUntil) {
			late = true
			return false
		}
		callCtx, cancel := context.WithTimeout(ctx, s.putRecordsTimeout())
		failed, err := s.Streams.PutRecords(callCtx, doc.Uri, batch)
		cancel()
		if err != nil {
			// Kinesis's own messages can name the server's credentials:
			// logged, not shown.
			s.Logger.Warn("event streams: PutRecords failed", "domain", domain, "stream", name, "uri", doc.Uri, "err", err)
			problem = destinationFailure(err, doc.Uri)
			return false
		}
		refused := map[int]bool{}
		for _, i := range failed {
			refused[i] = true
		}
		overtaken := map[string]bool{} // profiles (partition keys) with a record refused
		for i, e := range batchOf {
			switch {
			case refused[i]:
				overtaken[e.PartitionKey] = true
			case overtaken[e.PartitionKey]:
				// Taken after a refused record of its profile: it goes
				// again after that one, so that the profile's last record
				// is its latest change (a consumer sees it twice).
				sent++
			default:
				delivered = append(delivered, e.Seq)
				sent++
			}
		}
		if len(failed) == len(batch) {
			problem = fmt.Sprintf("The Kinesis data stream %s refused every record (throttled).", doc.Uri)
			return false
		}
		if len(failed) > 0 {
			// The refused ones go again, before the later ones, in the
			// next claim of the stream.
			stopped = true
			return false
		}
		batch, batchOf, size = batch[:0], batchOf[:0], 0
		return true
	}
	for _, e := range events {
		data, err := s.crypt.Open(ctx, eventRecord(domain, outbox, e.ID), e.Data)
		if err != nil {
			problem = "Events cannot be decrypted: " + profiles.ErrorMessage(err)
			break // the others would fail alike
		}
		n := len(data) + len(e.PartitionKey)
		if n > maxRecordBytes {
			// Kinesis can never take it: drop it, and say so.
			s.Logger.Error("event streams: an event is larger than a Kinesis record may be; dropped", "domain", domain, "stream", name, "event", e.ID, "bytes", n)
			delivered = append(delivered, e.Seq)
			continue
		}
		if len(batch) == maxPutRecords || size+n > maxRequestBytes {
			if !send() {
				break
			}
		}
		batch, batchOf, size = append(batch, profiles.StreamRecord{PartitionKey: e.PartitionKey, Data: data}), append(batchOf, e), size+n
	}
	if problem == "" && !late && !stopped {
		send()
	}
	if late && problem == "" && sent == 0 {
		return delivered, true, nil // nothing tried: the health is unknown
	}
	s.setHealth(ctx, domain, name, doc, problem)
	return delivered, problem == "" || sent > 0, nil
}

// destinationFailure words why a Kinesis data stream did not take records,
// by error code.
func destinationFailure(err error, uri string) string {
	switch profiles.ErrorCode(err) {
	case profiles.ENOTFOUND:
		return fmt.Sprintf("The Kinesis data stream %s does not exist.", uri)
	case profiles.EFORBIDDEN:
		return fmt.Sprintf("This server may not write to the Kinesis data stream %s (or use its KMS key).", uri)
	case profiles.ETHROTTLED:
		return fmt.Sprintf("The Kinesis data stream %s throttled the records.", uri)
	case profiles.EINVALID:
		return fmt.Sprintf("The Kinesis data stream %s refused the records (the server's log says why).", uri)
	}
	return fmt.Sprintf("Kinesis PutRecords to %s failed (the server's log says why).", uri)
}

// putRecordsTimeout bounds a PutRecords call: well within the claim of its
// events, so that no other node sends them while it runs.
func (s *Service) putRecordsTimeout() time.Duration {
	return min(10*time.Second, s.eventRetryInterval()/2)
}

// setHealth records the destination's health: healthy for an empty
// message, else unhealthy because of it. It writes the stream's config
// only when its health changes.
func (s *Service) setHealth(ctx context.Context, domain, name string, doc *streamDoc, message string) {
	status := profiles.DestinationHealthy
	if message != "" {
		status = profiles.DestinationUnhealthy
	}
	message = truncate(message, 1000)
	if doc.Status == status && doc.Message == message || ctx.Err() != nil {
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
