package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/templates"
)

// Deleting an object type deletes its definition in one short
// transaction, then its objects with their keys, a page of objects a
// transaction (objectsPage), then clears the profile fields its objects
// set, a page of profiles a transaction (scrubPage). One transaction over
// the whole domain held SQLite's one writer for the scan, and on
// PostgreSQL read every key of the domain: ingestion into the same
// profiles, of the type or of another, failed its serialization until its
// retries gave up. The short transaction writes only the type's row, which
// ingestions of the type read: they are ordered before it, or find no
// type. Every page reads the type (gone) too, so is ordered after the
// deletion, and so after every ingestion that found the type: serializable
// transactions see such an object in each page, committed or not yet (one
// of them is then retried).
//
// That work outlives the type, so it is recorded: a config of kind
// ConfigTypeScrub named after the type, written before the type is
// deleted and deleted once every page is clear, says how far it got. The
// node that deletes the type does it at once, for up to its budget
// (callScrub); if it stops there, or otherwise (it is killed, the request
// is cancelled, a page fails), the sweep of any node (StartTypeScrubs)
// goes on from there once the lease of the node that held it has run out
// or was given up. A type of that name is created again only after its
// scrub has finished (PutObjectType finishes it, or is refused with
// ETHROTTLED when that takes longer than its budget), and every page
// checks, in its transaction, that the type is still gone: a scrub never
// removes the objects of a new type of the same name, nor clears what
// they set. A template stays usable by name once its type is deleted
// (an implicit type): of a template's name, the pages delete only the
// objects last written at or before the deletion (Cutoff, recorded once
// the type is deleted: a record without it, left by a node that stopped
// before or just after the deletion, deletes none of them), and leave the
// fields of a profile that holds objects of that name.

// scrubLease is how long a scrub is left to the node that holds it; each
// page renews it.
const scrubLease = time.Minute

// scrubPageSize is how many profiles (or objects) one page's transaction
// reads at most. A page that fails for concurrent changes to the same data
// (ETHROTTLED: on PostgreSQL, a serialization failure on each of its
// attempts) is tried again at half the size, and the pages after it keep
// that size, down to the run's minPage (scrubLimits); a page that can
// still shrink makes scrubPageAttempts attempts, not the store's many. A
// page of 500 profiles reads rows on enough pages of the profiles and keys
// tables (spread by blind-index hashes and random ids) for PostgreSQL to
// lock whole tables and indexes for its serializability checks (past
// max_pred_locks_per_relation, 32 pages by default), so concurrent writes
// of profiles of any domain conflict with it: under steady ingestion into
// another domain such a page failed all its 20 attempts now and then (list
// keys, put profile: SQLSTATE 40001), and the deletion was left to the
// sweep with the fields still on the profiles. Pages of 62 profiles still
// met such writers; pages of a dozen conflict with little more than the
// writers of their own profiles. The size never grows back within a run:
// a run meets a few short failures at most.
const (
	scrubPageSize     = 500
	scrubPageAttempts = 3
)

// scrubLimits bound a run of scrub: the smallest page a refused page
// shrinks to (below it the run stops with the error, and the sweep tries
// again), and how long the run goes on before it leaves the rest to the
// sweep (0: until done).
type scrubLimits struct {
	minPage int
	budget  time.Duration
}

// A call (DeleteObjectType, PutObjectType) answers within about half a
// minute, before the AWS CLI's read timeout (60 s) would send it again,
// and leaves what is left, recorded, to the next sweep; the sweep goes on
// until done, down to pages of one.
var (
	callScrub  = scrubLimits{minPage: 8, budget: 30 * time.Second}
	sweepScrub = scrubLimits{minPage: 1}
)

// scrubDoc is what a ConfigTypeScrub config holds. A record without
// Objects (those written before objects were deleted in pages too) has
// its objects deleted already.
type scrubDoc struct {
	Objects      bool      `json:"objects,omitempty"`      // objects are still to delete, after ObjectsAfter
	ObjectsAfter string    `json:"objectsAfter,omitempty"` // the objects up to this unique key are deleted
	Cutoff       time.Time `json:"cutoff,omitzero"`        // when the type was deleted (at the latest); zero: not known to be
	After        string    `json:"after,omitempty"`        // the profiles up to this id are clear
	LeaseUntil   time.Time `json:"leaseUntil,omitzero"`
}

// DeleteObjectType deletes an object type (a template used as an implicit
// type too), then its objects and the profile fields they set (see
// above). Once the type is deleted the call succeeds: work that stops is
// finished by the sweep.
func (s *Service) DeleteObjectType(ctx context.Context, domain, name string) error {
	defer s.domains.forget(domain) // search's types
	defer s.crypt.forgetType(domain, name)
	created, err := s.markScrub(ctx, domain, name)
	if err != nil {
		return err
	}
	err = s.Store.Update(ctx, func(tx profiles.Tx) error {
		// A template the domain does not define is its implicit type, whose
		// deletion removes the data ingested through it (BEHAVIOUR.md §3.4):
		// the store deletes a type it keeps, so the type is kept first, in
		// this transaction.
		if _, err := tx.FindObjectType(ctx, domain, name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			if tpl, ok := templates.Get(name); ok {
				t := tpl.ObjectType
				t.DomainName, t.Name, t.TemplateID = domain, name, tpl.ID
				if err := tx.PutObjectType(ctx, &t, 0); err != nil {
					return err
				}
			}
		} else if err != nil {
			return err
		}
		return tx.DeleteObjectType(ctx, domain, name)
	})
	if err != nil {
		if created {
			s.dropScrub(context.WithoutCancel(ctx), domain, name)
		}
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			if _, derr := s.Store.FindDomain(ctx, domain); derr != nil {
				return domainErr(derr, domain)
			}
			return typeNotFound(domain, name)
		}
		return err
	}
	// From the start, with this deletion's cutoff: a record there before
	// (a deletion of the template's implicit type not finished) is
	// covered by this one.
	start := &scrubDoc{Objects: true, Cutoff: s.now()}
	if _, err := s.scrub(ctx, domain, name, true, start, callScrub); errors.Is(err, errScrubBudget) {
		s.Logger.Info("object type deleted; removing its objects and the profile fields they set goes on in the sweep", "domain", domain, "object_type", name)
	} else if err != nil {
		if s.Configs == nil {
			return fmt.Errorf("object type %s deleted; removing its objects and the profile fields they set stopped: %w", name, err)
		}
		if ctx.Err() == nil {
			s.Logger.Warn("object type deleted; removing its objects and the profile fields they set stopped, the sweep goes on", "domain", domain, "object_type", name, "err", err)
		}
	}
	return nil
}

// markScrub records, before an object type is deleted, that its objects
// and fields are to be removed, and reports whether it made the record (a
// record already there is kept: it is a scrub of the same name still to
// finish, or one whose deletion never happened, which this one's covers).
func (s *Service) markScrub(ctx context.Context, domain, name string) (bool, error) {
	if s.Configs == nil {
		return false, nil
	}
	// No Cutoff yet: the deletion has not happened, and may never (the
	// node stops first). Until DeleteObjectType records the cutoff once
	// the type is deleted, the objects of a template's name, which need
	// no type to exist, are not to be deleted (objectsPage).
	return s.createScrub(ctx, domain, name, scrubDoc{Objects: true, LeaseUntil: s.now().Add(scrubLease)})
}

// createScrub creates the record of a scrub, and reports whether it did
// (false: there is one).
func (s *Service) createScrub(ctx context.Context, domain, name string, doc scrubDoc) (bool, error) {
	data, _ := json.Marshal(doc)
	err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigTypeScrub, Name: name, Data: data}, 0)
	switch profiles.ErrorCode(err) {
	case "":
		return true, nil
	case profiles.ECONFLICT:
		return false, nil
	case profiles.ENOTFOUND:
		return false, domainErr(err, domain)
	}
	return false, err
}

// dropScrub deletes a scrub's record; a failure is logged (the sweep
// drops it, finding the type there or every page clear).
func (s *Service) dropScrub(ctx context.Context, domain, name string) {
	if s.Configs == nil {
		return
	}
	if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigTypeScrub, name); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Error("object type scrub: drop its record", "domain", domain, "object_type", name, "err", err)
	}
}

// errScrubTaken: another node holds the scrub.
var errScrubTaken = errors.New("scrub held by another node")

// errScrubBudget: a run of scrub stopped at its budget, the rest left to
// the sweep.
var errScrubBudget = errors.New("scrub not finished within its budget")

// scrub deletes, page after page, the objects of the deleted type name
// and then clears the fields they set on the domain's profiles, from where
// its record says (or from start, which it records), and deletes the
// record when done; it reports whether it ran. It takes the scrub over
// from the node holding it when take is set, else only once that node's
// lease ran out. It stops, without error, when another node takes the
// scrub over, and when the type exists (created again, or never deleted
// by a node stopped before it could). lim bounds the run (a refused page
// is tried at half the size, see scrubPageSize): one that stops at its
// budget leaves the record, with its lease given up, to the sweep, and
// returns errScrubBudget.
func (s *Service) scrub(ctx context.Context, domain, name string, take bool, start *scrubDoc, lim scrubLimits) (bool, error) {
	began := time.Now() // the budget is of real time, whatever s.now says
	var doc scrubDoc
	if start != nil {
		doc = *start
	}
	lease := s.now().Add(scrubLease)
	if s.Configs != nil {
		_, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigTypeScrub, name, func(d *scrubDoc) error {
			if start != nil {
				*d = *start
			} else if !take && d.LeaseUntil.After(s.now()) {
				return errScrubTaken
			}
			d.LeaseUntil = lease
			doc = *d
			return nil
		})
		switch {
		case errors.Is(err, errScrubTaken):
			return false, nil
		case profiles.ErrorCode(err) == profiles.ENOTFOUND && start != nil:
			// Dropped meanwhile (its domain's sweep found the type
			// there, the deletion taking longer than a lease): made
			// again, so that a stop here is still finished.
			doc.LeaseUntil = lease
			if _, err := s.createScrub(ctx, domain, name, doc); err != nil {
				return false, err
			}
		case profiles.ErrorCode(err) == profiles.ENOTFOUND:
			// Finished or dropped by another node since it was seen
			// (finishScrub): nothing is left to do. Made again, with a
			// cutoff of now, it would delete the objects ingested
			// through a template of that name since the deletion.
			return false, nil
		case err != nil:
			return false, err
		}
	}
	size := scrubPageSize
	for {
		var next string
		var exists, done bool
		var err error
		shrinks := size/2 >= max(lim.minPage, 1)
		pageCtx := ctx
		if shrinks {
			pageCtx = profiles.NewContextWithMaxAttempts(ctx, scrubPageAttempts)
		}
		if doc.Objects {
			next, exists, err = s.objectsPage(pageCtx, domain, name, doc.ObjectsAfter, doc.Cutoff, size)
		} else {
			next, exists, err = s.scrubPage(pageCtx, domain, name, doc.After, size)
		}
		if profiles.ErrorCode(err) == profiles.ETHROTTLED && shrinks && ctx.Err() == nil {
			size /= 2 // the same page, smaller, and those after it (see scrubPageSize)
			s.Logger.Debug("object type scrub: a page met concurrent changes, smaller pages", "domain", domain, "object_type", name, "page", size, "err", err)
			continue
		} else if err != nil {
			s.releaseScrub(context.WithoutCancel(ctx), domain, name, lease)
			return true, err
		}
		if doc.Objects {
			doc.Objects, doc.ObjectsAfter = next != "", next // then the profiles, from the first
		} else {
			doc.After, done = next, next == ""
		}
		if exists || done {
			s.dropScrub(context.WithoutCancel(ctx), domain, name)
			return true, nil
		}
		if s.Configs == nil {
			continue
		}
		renewed := s.now().Add(scrubLease)
		_, err = changeDoc(context.WithoutCancel(ctx), s.Configs, domain, profiles.ConfigTypeScrub, name, func(d *scrubDoc) error {
			if !d.LeaseUntil.Equal(lease) {
				return errScrubTaken
			}
			*d = doc
			d.LeaseUntil = renewed
			return nil
		})
		if errors.Is(err, errScrubTaken) || profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return true, nil // another node goes on, or finished
		} else if err != nil {
			return true, err
		}
		lease = renewed
		if lim.budget > 0 && time.Since(began) > lim.budget {
			s.releaseScrub(context.WithoutCancel(ctx), domain, name, lease)
			return true, errScrubBudget
		}
	}
}

// releaseScrub gives up the lease of a scrub that failed, so that the next
// sweep tries again.
func (s *Service) releaseScrub(ctx context.Context, domain, name string, lease time.Time) {
	if s.Configs == nil {
		return
	}
	changeDoc(ctx, s.Configs, domain, profiles.ConfigTypeScrub, name, func(d *scrubDoc) error {
		if !d.LeaseUntil.Equal(lease) {
			return errScrubTaken
		}
		d.LeaseUntil = time.Time{}
		return nil
	})
}

// objectsPage deletes, of a page of up to size objects of the deleted type
// after the unique key after, those of a non-template name and those of a
// template's name last written at or before cutoff, with their keys, in
// one transaction. It returns the last unique key of the page ("" after
// the last), or that the type exists (and then changes nothing).
func (s *Service) objectsPage(ctx context.Context, domain, objectType, after string, cutoff time.Time, size int) (last string, exists bool, err error) {
	if _, ok := templates.Get(objectType); !ok {
		cutoff = time.Time{} // no object of the name comes in after the deletion
	} else if cutoff.IsZero() {
		// Recorded before the deletion (markScrub) by a node that
		// stopped before it recorded the cutoff: the type's row being
		// gone does not tell that a template's name was deleted (it
		// has no row when used by name), so its objects stay; the
		// profile fields' pages, which leave those of a profile
		// holding objects of the name, go on.
		return "", false, nil
	}
	err = s.Store.Update(ctx, func(tx profiles.Tx) error {
		last, exists = "", false
		if _, err := tx.FindObjectType(ctx, domain, objectType); err == nil {
			exists = true
			return nil
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		var err error
		last, err = tx.DeleteTypeObjects(ctx, domain, objectType, after, cutoff, size)
		return err
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", false, nil // the domain, deleted meanwhile: nothing left
	}
	return last, exists, err
}

// scrubPage removes, from a page of up to size of the domain's profiles
// after the id after, the fields whose value came from objects of the
// type, in one transaction, with an UPDATED event of each profile changed
// for the domain's event streams. It returns the last id of the page ("" after
// the last), or that the type exists (and then changes nothing).
func (s *Service) scrubPage(ctx context.Context, domain, objectType, after string, size int) (last string, exists bool, err error) {
	streams, err := s.recentStreams(ctx, domain)
	if err != nil {
		return "", false, err
	}
	changed := false
	err = s.Store.Update(ctx, func(tx profiles.Tx) error {
		last, exists, changed = "", false, false
		if _, err := tx.FindObjectType(ctx, domain, objectType); err == nil {
			exists = true
			return nil
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		ids, err := tx.ListProfileIDs(ctx, domain, after, size)
		if err != nil || len(ids) == 0 {
			return err
		}
		last = ids[len(ids)-1]
		for _, id := range ids {
			p, err := tx.FindProfile(ctx, domain, id)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				continue // deleted or merged since the page was listed
			} else if err != nil {
				return err
			}
			set := false
			for _, src := range p.Sources {
				set = set || src.ObjectType == objectType
			}
			if !set {
				continue
			}
			// Objects of the type on the profile came in after the
			// delete, through the template of that name (an implicit
			// type, which stays usable): the fields are theirs.
			if u, err := tx.ProfileUsage(ctx, domain, id, objectType); err != nil {
				return err
			} else if u.Objects > 0 {
				continue
			}
			before := maps.Clone(p.Fields)
			for field, src := range p.Sources {
				if src.ObjectType == objectType {
					delete(p.Fields, field)
					delete(p.Sources, field)
				}
			}
			p.LastUpdatedAt = s.now()
			if err := tx.PutProfile(ctx, p); err != nil {
				return err
			}
			if err := s.putStandardKeys(ctx, tx, p, changedStandardKeys(before, p.Fields)); err != nil {
				return err
			}
			// An update of the profile: the event streams tell it.
			if err := s.putProfileEvent(ctx, tx, streams, p, "UPDATED"); err != nil {
				return err
			}
			changed = true
		}
		return nil
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", false, nil // the domain, deleted meanwhile: nothing left to clear
	}
	if err == nil && changed && len(streams) > 0 {
		s.wakeDelivery()
	}
	return last, exists, err
}

// finishScrub finishes the scrub of a deleted type of that name, if one is
// recorded and the type does not exist, before a type of that name is
// created again; past a call's budget it fails with ETHROTTLED, the rest
// left to the sweep.
func (s *Service) finishScrub(ctx context.Context, domain, name string) error {
	if s.Configs == nil {
		return nil
	}
	if _, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigTypeScrub, name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	_, err := s.scrub(ctx, domain, name, true, nil, callScrub)
	if errors.Is(err, errScrubBudget) {
		return profiles.Errorf(profiles.ETHROTTLED, "Object type %s was deleted and its objects and the profile fields they set are still being removed; retry the request later.", name)
	}
	return err
}

// StartTypeScrubs finishes, every interval in the background, the scrubs
// of deleted object types whose node stopped; Close stops it.
func (s *Service) StartTypeScrubs(interval time.Duration) {
	s.runEvery(interval, "object type scrub", s.RunTypeScrubs)
}

// RunTypeScrubs finishes the scrubs no node holds, one after the other,
// and returns how many it ran.
func (s *Service) RunTypeScrubs(ctx context.Context) (int, error) {
	if s.Configs == nil {
		return 0, nil
	}
	return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		return s.eachDue(ctx, d.Name, profiles.ConfigTypeScrub, func(c *profiles.DomainConfig) bool {
			doc, err := decodeDoc[scrubDoc](c)
			return err == nil && !doc.LeaseUntil.After(s.now())
		}, func(ctx context.Context, domain, name string) (bool, error) {
			return s.scrub(ctx, domain, name, false, nil, sweepScrub)
		})
	})
}
