package service

import (
	"context"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// Deleting a domain marks it in one short transaction
// (Store.MarkDomainDeleting): from then on the domain is gone for every
// request, and this node forgets what it keeps of it in memory. What the
// domain holds is then removed a page a transaction (Store.PurgeDomain),
// its row last, so that the other domains' writes go on between pages:
// one transaction for a domain of a million profiles held SQLite's one
// writer for minutes, and on PostgreSQL outlasted the statement timeout,
// so that such a domain could not be deleted at all. DeleteDomain waits
// for the purge up to DomainPurgeWait (a small domain is gone when it
// returns, as before), then returns while the purge goes on in the
// background. The purge holds a lease on the domain's row, renewed as it
// goes; if its node stops, the sweep of any node (StartDomainPurges) takes
// it over once the lease has run out (at once after a clean stop, which
// gives the lease up). CreateDomain of a name whose purge is under way
// finishes it first, within DomainPurgeWait, or refuses.

// DefaultDomainPurgeWait is how long DeleteDomain and CreateDomain wait for
// a domain's purge when DomainPurgeWait is 0.
const DefaultDomainPurgeWait = 5 * time.Second

// DefaultDomainPurgePage is how many profiles (with their objects, keys and
// history), or rows of the other tables, one page of a purge deletes.
const DefaultDomainPurgePage = 200

// purgeLease is how long a purge is left to the node that holds it; it is
// renewed once half of it has passed.
const purgeLease = time.Minute

// purges are the purges this node runs, by domain name.
type purges struct {
	mu      sync.Mutex
	running map[string]chan struct{} // closed when the purge stops
}

// start records a purge of name and returns its channel, or reports false
// if this node runs one already.
func (p *purges) start(name string) (chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.running[name]; ok {
		return nil, false
	}
	if p.running == nil {
		p.running = map[string]chan struct{}{}
	}
	done := make(chan struct{})
	p.running[name] = done
	return done, true
}

// stop ends the purge of name.
func (p *purges) stop(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.running[name])
	delete(p.running, name)
}

// find returns the channel of this node's purge of name, or nil.
func (p *purges) find(name string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running[name]
}

func (s *Service) purgeWait() time.Duration {
	if s.DomainPurgeWait == 0 {
		return DefaultDomainPurgeWait
	}
	return max(s.DomainPurgeWait, 0)
}

func (s *Service) purgePage() int {
	if s.DomainPurgePage <= 0 {
		return DefaultDomainPurgePage
	}
	return s.DomainPurgePage
}

// DeleteDomain marks a domain deleted, then removes everything it holds,
// waiting for that up to DomainPurgeWait (see above). Returns ENOTFOUND.
func (s *Service) DeleteDomain(ctx context.Context, name string) error {
	defer s.crypt.forget(name)
	defer s.domains.forget(name)
	defer s.ingestStats.forget(name)
	defer s.ruleRefusals.forget(name)
	lease := s.now().Add(purgeLease)
	if err := s.Store.MarkDomainDeleting(ctx, name, lease); err != nil {
		return domainErr(err, name)
	}
	// Gone for every request from now on (CheckDomain), not once the
	// wait for the purge is over.
	s.domains.forget(name)
	s.crypt.forget(name)
	s.Metrics.purgeStarted()
	// The whole copies of its cut dead letters, sealed under the domain's
	// key, are its data too: those of the store go with its purge; the
	// files earlier versions wrote in the data dir go here (other nodes':
	// SweepDeadLetterCopies).
	s.removeDeadLetterCopies(name)
	if done, ok := s.startPurge(name, lease); ok {
		s.waitPurge(ctx, done)
	}
	return nil
}

// startPurge runs, in the background, the purge of a domain whose lease
// this node holds until lease, and returns a channel closed when it
// stops; false if this node runs it already.
func (s *Service) startPurge(name string, lease time.Time) (chan struct{}, bool) {
	done, ok := s.purges.start(name)
	if !ok {
		return nil, false
	}
	ctx := s.bg.context()
	s.bg.wg.Go(func() {
		defer s.purges.stop(name)
		if err := s.purge(ctx, name, lease); err != nil && ctx.Err() == nil {
			s.Logger.Error("domain deletion: removing its data stopped; the sweep goes on", "domain", name, "err", err)
		}
	})
	return done, true
}

// waitPurge waits for done up to DomainPurgeWait, or until ctx ends, and
// reports whether the purge stopped.
func (s *Service) waitPurge(ctx context.Context, done chan struct{}) bool {
	t := time.NewTimer(s.purgeWait())
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// purge deletes the domain's data page after page, renewing its lease,
// until the domain is gone, another node takes the purge over, or ctx
// ends (its lease is then given up, for the sweep of any node to go on).
func (s *Service) purge(ctx context.Context, name string, lease time.Time) error {
	start, rows, logged := time.Now(), 0, false
	for after := ""; ; {
		p, err := s.Store.PurgeDomain(ctx, name, after, s.purgePage())
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return nil // finished by another node
		} else if err != nil {
			s.releasePurge(context.WithoutCancel(ctx), name, lease)
			return err
		}
		rows += p.Rows
		s.Metrics.purged(p.Rows)
		if p.Done {
			s.Metrics.purgeDone()
			if logged {
				s.Logger.Info("domain deletion: its data is removed", "domain", name, "rows", rows, "took", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		after = p.After
		if !logged && time.Since(start) > s.purgeWait() {
			s.Logger.Info("domain deletion: a large domain; removing its data goes on in the background", "domain", name, "rows", rows)
			logged = true
		}
		if s.now().Add(purgeLease / 2).After(lease) {
			renewed := s.now().Add(purgeLease)
			ok, err := s.Store.LeaseDomainPurge(ctx, name, lease, renewed)
			switch {
			case profiles.ErrorCode(err) == profiles.ENOTFOUND:
				return nil
			case err != nil:
				s.releasePurge(context.WithoutCancel(ctx), name, lease)
				return err
			case !ok:
				return nil // another node took it over
			}
			lease = renewed
		}
	}
}

// releasePurge gives up the lease of a purge that stopped, so that the
// next sweep of any node goes on with it.
func (s *Service) releasePurge(ctx context.Context, name string, lease time.Time) {
	if _, err := s.Store.LeaseDomainPurge(ctx, name, lease, time.Time{}); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Error("domain deletion: give up the purge's lease", "domain", name, "err", err)
	}
}

// StartDomainPurges goes on, every interval in the background, with the
// purges of deleted domains whose node stopped; Close stops it.
func (s *Service) StartDomainPurges(interval time.Duration) {
	s.runEvery(interval, "domain purge", s.RunDomainPurges)
}

// RunDomainPurges goes on with the purges no node holds (their lease run
// out or given up), one after the other, and returns how many it ran.
func (s *Service) RunDomainPurges(ctx context.Context) (int, error) {
	ds, err := s.Store.DeletingDomains(ctx)
	if err != nil {
		return 0, err
	}
	s.Metrics.purgesPending(len(ds))
	n := 0
	for _, d := range ds {
		if d.PurgeUntil.After(s.now()) || s.purges.find(d.Name) != nil {
			continue
		}
		ran, err := s.resumePurge(ctx, d.Name)
		if err != nil {
			return n, err
		}
		if ran {
			n++
		}
	}
	return n, nil
}

// resumePurge takes over the purge of name if no node holds it and runs it
// to its end, and reports whether it did.
func (s *Service) resumePurge(ctx context.Context, name string) (bool, error) {
	lease := s.now().Add(purgeLease)
	ok, err := s.Store.LeaseDomainPurge(ctx, name, time.Time{}, lease)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND || (err == nil && !ok) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	done, started := s.startPurge(name, lease)
	if !started {
		return false, nil
	}
	select {
	case <-done:
	case <-ctx.Done():
		return true, ctx.Err()
	}
	return true, nil
}

// finishPurge finishes, within DomainPurgeWait, the purge of a domain of
// that name being deleted, before a domain of that name is created again,
// and reports whether none is left.
func (s *Service) finishPurge(ctx context.Context, name string) (bool, error) {
	deadline := time.Now().Add(s.purgeWait())
	for {
		deleting, err := s.deleting(ctx, name)
		if err != nil || deleting == nil {
			return deleting == nil, err
		}
		done := s.purges.find(name)
		if done == nil && !deleting.PurgeUntil.After(s.now()) {
			lease := s.now().Add(purgeLease)
			if ok, err := s.Store.LeaseDomainPurge(ctx, name, time.Time{}, lease); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return false, err
			} else if ok {
				done, _ = s.startPurge(name, lease)
			}
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return false, nil
		}
		// This node's purge, or another node's, polled.
		t := time.NewTimer(min(wait, 100*time.Millisecond))
		select {
		case <-done: // nil: never
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		}
		t.Stop()
	}
}

// deleting returns the domain of that name being deleted, or nil.
func (s *Service) deleting(ctx context.Context, name string) (*profiles.DeletingDomain, error) {
	ds, err := s.Store.DeletingDomains(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.Name == name {
			return &d, nil
		}
	}
	return nil, nil
}

// errStillDeleting is CreateDomain's answer for a name whose domain's
// deletion goes on.
func errStillDeleting(name string) error {
	return profiles.Errorf(profiles.ECONFLICT, "Domain %s is still being deleted: its data is being removed. Try again shortly.", name)
}
