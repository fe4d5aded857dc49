package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// DefaultDeadLetterHold is how long the dead-letter calls hide the messages
// they take from other receivers at a time, when Service.DeadLetterHold is
// 0.
const DefaultDeadLetterHold = 2 * time.Minute

// minDeadLetterHold is the shortest hold: queues count whole seconds, and
// a holder renews a hold when half of it has passed.
const minDeadLetterHold = 2 * time.Second

// deadLetterHold returns how long the messages taken are hidden at a time.
func (s *Service) deadLetterHold() time.Duration {
	return clampHold(s.DeadLetterHold)
}

// clampHold returns the hold d names: 0 is DefaultDeadLetterHold, and one
// shorter than minDeadLetterHold is that.
func clampHold(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultDeadLetterHold
	case d < minDeadLetterHold:
		return minDeadLetterHold
	default:
		return d
	}
}

// holder keeps the messages a delete or a replay took hidden from other
// receivers while it works on them: each time half the hold has passed, it
// hides those it is not done with for another hold (ChangeVisibilities,
// ten at a time). Without it, a replay that outlasts the hold (many
// letters, slow ingestion) works on messages another reader (a listing, a
// second replay) has received since: its delete, with a stale receipt
// handle, deletes nothing (SQS and localsqs both take it as done), yet the
// replay would count the letter done and remove its whole copy.
//
// So a message is used (ingested, deleted, its copy removed) only while
// its hold is known to last (keep): one whose renewal failed, or is late,
// is checked by its receipt handle first (ChangeVisibility, which refuses
// a stale handle); one that fails the check is left alone, to the reader
// that has it, and is not handed back at the end either.
type holder struct {
	queues profiles.DeadLetters
	logger *slog.Logger
	url    string
	hold   time.Duration

	stopOnce sync.Once
	stop     chan struct{}
	stopped  chan struct{}

	mu   sync.Mutex
	held map[string]*heldMessage // by message ID: the messages not done with
	lost map[string]bool         // the IDs of messages another reader may have
}

// heldMessage is a message a holder keeps hidden.
type heldMessage struct {
	handle string
	until  time.Time // hidden at least until then, by this node's clock; zero: not known
}

// holdTaken starts keeping the messages of ts hidden; since is a time
// before they were received. The caller ends with release.
func (s *Service) holdTaken(ctx context.Context, url string, ts []taken, since time.Time) *holder {
	return startHold(ctx, s.Queues, s.Logger, url, s.deadLetterHold(), ts, since)
}

// startHold starts keeping the messages of ts, received from the queue at
// url through queues and hidden for hold, hidden.
func startHold(ctx context.Context, queues profiles.DeadLetters, logger *slog.Logger, url string, hold time.Duration, ts []taken, since time.Time) *holder {
	h := &holder{queues: queues, logger: logger, url: url, hold: hold, stop: make(chan struct{}), stopped: make(chan struct{}),
		held: make(map[string]*heldMessage, len(ts)), lost: map[string]bool{}}
	for _, t := range ts {
		h.held[t.msg.ID] = &heldMessage{handle: t.msg.ReceiptHandle, until: since.Add(h.hold)}
	}
	go h.run(context.WithoutCancel(ctx), since)
	return h
}

// run renews the holds each time half the hold has passed, until stopped.
func (h *holder) run(ctx context.Context, since time.Time) {
	defer close(h.stopped)
	timer := time.NewTimer(time.Until(since.Add(h.hold / 2)))
	defer timer.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-timer.C:
		}
		h.renew(ctx)
		timer.Reset(h.hold / 2)
	}
}

// renew hides the messages not done with for another hold. A message
// whose hold is not renewed (refused, or the queue not reached) is marked
// unknown: keep checks it before it is used.
func (h *holder) renew(ctx context.Context) {
	h.mu.Lock()
	ids := make([]string, 0, len(h.held))
	handles := make([]string, 0, len(h.held))
	for id, m := range h.held {
		ids = append(ids, id)
		handles = append(handles, m.handle)
	}
	h.mu.Unlock()
	for i := 0; i < len(ids); i += 10 {
		select {
		case <-h.stop:
			return
		default:
		}
		j := min(i+10, len(ids))
		start := time.Now()
		errs, err := h.queues.ChangeVisibilities(ctx, h.url, handles[i:j], h.hold)
		h.mu.Lock()
		for k, id := range ids[i:j] {
			m := h.held[id]
			if m == nil { // done with meanwhile
				continue
			}
			if err == nil && errs[k] == nil {
				m.until = start.Add(h.hold)
				continue
			}
			m.until = time.Time{}
			if err == nil {
				err = errs[k]
			}
			h.logger.Debug("the hold of a dead letter is not renewed; checked before it is used", "queue", h.url, "id", id, "err", err)
		}
		h.mu.Unlock()
	}
}

// keep tells whether the message of t is still held, for at least a
// quarter of the hold: if not known, it renews its hold by its receipt
// handle. A message that is not held any more (its handle refused: another
// reader received it since; or the queue not reached) is lost: it is not
// to be used, and is left alone.
func (h *holder) keep(ctx context.Context, t taken) bool {
	id := t.msg.ID
	h.mu.Lock()
	m := h.held[id]
	sure := m != nil && time.Until(m.until) > h.hold/4
	h.mu.Unlock()
	if m == nil || sure {
		return sure
	}
	start := time.Now()
	err := h.queues.ChangeVisibility(ctx, h.url, t.msg.ReceiptHandle, h.hold)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		delete(h.held, id)
		h.lost[id] = true
		h.logger.Warn("dead letter left alone: its hold ran out, and another reader may have it", "queue", h.url, "id", id, "err", err)
		return false
	}
	if m := h.held[id]; m != nil {
		m.until = start.Add(h.hold)
	}
	return true
}

// add starts keeping the messages of ts hidden too: received (hidden for
// the hold) at since or later. The next renewal, at most half a hold away,
// takes them in.
func (h *holder) add(ts []taken, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range ts {
		h.held[t.msg.ID] = &heldMessage{handle: t.msg.ReceiptHandle, until: since.Add(h.hold)}
	}
}

// done stops keeping the message of id hidden (deleted).
func (h *holder) done(id string) {
	h.mu.Lock()
	delete(h.held, id)
	h.mu.Unlock()
}

// release stops renewing the holds and hands back the messages of ts,
// but those lost (another reader's now).
func (h *holder) release(ctx context.Context, ts []taken) {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.stopped
	var back []taken
	h.mu.Lock()
	for _, t := range ts {
		if !h.lost[t.msg.ID] {
			back = append(back, t)
		}
	}
	h.mu.Unlock()
	handBack(ctx, h.queues, h.logger, h.url, back)
}

// DeadLetterHolder keeps the messages a caller outside the service took
// from a dead-letter queue hidden from other receivers while it works on
// them, as the console's replay keeps its own (holder): `openprofiles dlq
// replay`, which reaches the queue through the SQS API.
type DeadLetterHolder struct{ h *holder }

// HoldDeadLetters starts keeping msgs hidden: they were received from the
// queue at url, through queues, at since or later, hidden for hold (at
// least 2 s; 0: DefaultDeadLetterHold), which it renews each time half of
// it has passed for those not done with. The caller uses a message only if
// Keep says it is still held, calls Done once it deleted it, and ends with
// Release. What goes wrong is logged to logger.
func HoldDeadLetters(ctx context.Context, queues profiles.DeadLetters, logger *slog.Logger, url string, hold time.Duration, msgs []profiles.QueueMessage, since time.Time) *DeadLetterHolder {
	return &DeadLetterHolder{startHold(ctx, queues, logger, url, clampHold(hold), takenOf(msgs), since)}
}

// Add starts keeping msgs hidden too: received from the holder's queue at
// since or later, hidden for its hold. A caller that receives a queue in
// several calls starts the holder (with the first messages, or none) before
// it receives the rest, and adds each batch as it comes: the holds of the
// first run out otherwise while it receives the rest of a long queue.
func (d *DeadLetterHolder) Add(msgs []profiles.QueueMessage, since time.Time) {
	d.h.add(takenOf(msgs), since)
}

// Keep tells whether m is still held, for long enough to be used
// (ingested, deleted); if not known, it checks by m's receipt handle. A
// message it is not (another reader received it since) is to be left
// alone.
func (d *DeadLetterHolder) Keep(ctx context.Context, m profiles.QueueMessage) bool {
	return d.h.keep(ctx, taken{msg: m})
}

// Done stops keeping the message of id hidden (deleted).
func (d *DeadLetterHolder) Done(id string) { d.h.done(id) }

// Release stops renewing the holds and makes msgs visible again at once,
// but those Keep found another reader's.
func (d *DeadLetterHolder) Release(ctx context.Context, msgs []profiles.QueueMessage) {
	d.h.release(ctx, takenOf(msgs))
}

func takenOf(msgs []profiles.QueueMessage) []taken {
	ts := make([]taken, len(msgs))
	for i, m := range msgs {
		ts[i].msg = m
	}
	return ts
}
