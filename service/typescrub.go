package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/templates"
)

// Deleting an object type clears the profile fields its objects set, a
// page of profiles a transaction (scrubPage): one transaction over the
// whole domain held SQLite's one writer for the scan, and on PostgreSQL
// conflicted with every concurrent profile write until its retries gave
// up. That work outlives the type, so it is recorded: a config of kind
// ConfigTypeScrub named after the type, written before the type is
// deleted and deleted once every page is clear, says how far the scrub
// got. The node that deletes the type scrubs at once; if it stops (it is
// killed, the request is cancelled, a page fails), the sweep of any node
// (StartTypeScrubs) goes on from there once the lease of the node that
// held it has run out. A type of that name is created again only after
// its scrub has finished (PutObjectType finishes it), and every page
// checks, in its transaction, that the type is still gone: a scrub never
// clears what objects of a new type of the same name set.

// scrubLease is how long a scrub is left to the node that holds it; each
// page renews it.
const scrubLease = time.Minute

// scrubPageSize is how many profiles one page's transaction reads.
const scrubPageSize = 500

// scrubDoc is what a ConfigTypeScrub config holds.
type scrubDoc struct {
	After      string    `json:"after,omitempty"` // the profiles up to this id are clear
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
}

// DeleteObjectType deletes an object type (a template used as an implicit
// type too) and its objects in one transaction, then clears the profile fields whose value came from the
// type (see above). Once the type is deleted the call succeeds: a scrub
// that stops is finished by the sweep.
func (s *Service) DeleteObjectType(ctx context.Context, domain, name string) error {
	defer s.domains.forget(domain) // search's types
	defer s.crypt.forgetType(domain, name)
	created, err := s.markScrub(ctx, domain, name)
	if err != nil {
		return err
	}
	// UpdateType, not Update: on PostgreSQL the ingestions of the type
	// running meanwhile would fail the deletion's serialization until its
	// retries gave up (see postgres.DB.UpdateType).
	err = s.Store.UpdateType(ctx, domain, name, func(tx profiles.Tx) error {
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
	if _, err := s.scrub(ctx, domain, name, true); err != nil {
		if s.Configs == nil {
			return fmt.Errorf("object type %s deleted; clearing the profile fields it set stopped: %w", name, err)
		}
		if ctx.Err() == nil {
			s.Logger.Warn("object type deleted; clearing the profile fields it set stopped, the sweep goes on", "domain", domain, "object_type", name, "err", err)
		}
	}
	return nil
}

// markScrub records, before an object type is deleted, that its fields
// are to be cleared, and reports whether it made the record (a record
// already there is kept: it is a scrub of the same name still to finish,
// or one whose deletion never happened, which this one's covers).
func (s *Service) markScrub(ctx context.Context, domain, name string) (bool, error) {
	if s.Configs == nil {
		return false, nil
	}
	data, _ := json.Marshal(scrubDoc{LeaseUntil: s.now().Add(scrubLease)})
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

// scrub clears, page after page, the fields that objects of the deleted
// type name set on the domain's profiles, from where its record says, and
// deletes the record when done; it reports whether it ran. It takes the
// scrub over from the node holding it when take is set, else only once
// that node's lease ran out. It stops, without error, when another node
// takes the scrub over, and when the type exists (created again, or never
// deleted by a node stopped before it could).
func (s *Service) scrub(ctx context.Context, domain, name string, take bool) (bool, error) {
	after, lease := "", s.now().Add(scrubLease)
	if s.Configs != nil {
		_, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigTypeScrub, name, func(d *scrubDoc) error {
			if !take && d.LeaseUntil.After(s.now()) {
				return errScrubTaken
			}
			after, d.LeaseUntil = d.After, lease
			return nil
		})
		switch {
		case errors.Is(err, errScrubTaken):
			return false, nil
		case profiles.ErrorCode(err) == profiles.ENOTFOUND && take:
			// Dropped meanwhile (its domain's sweep found the type
			// there, the deletion taking longer than a lease): made
			// again, so that a stop here is still finished.
			if _, err := s.markScrub(ctx, domain, name); err != nil {
				return false, err
			}
		case profiles.ErrorCode(err) == profiles.ENOTFOUND:
			return false, nil
		case err != nil:
			return false, err
		}
	}
	for {
		next, exists, err := s.scrubPage(ctx, domain, name, after)
		if err != nil {
			s.releaseScrub(context.WithoutCancel(ctx), domain, name, lease)
			return true, err
		}
		if next == "" || exists {
			s.dropScrub(context.WithoutCancel(ctx), domain, name)
			return true, nil
		}
		after = next
		if s.Configs == nil {
			continue
		}
		renewed := s.now().Add(scrubLease)
		_, err = changeDoc(context.WithoutCancel(ctx), s.Configs, domain, profiles.ConfigTypeScrub, name, func(d *scrubDoc) error {
			if !d.LeaseUntil.Equal(lease) {
				return errScrubTaken
			}
			d.After, d.LeaseUntil = after, renewed
			return nil
		})
		if errors.Is(err, errScrubTaken) || profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return true, nil // another node goes on, or finished
		} else if err != nil {
			return true, err
		}
		lease = renewed
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

// scrubPage removes, from a page of the domain's profiles after the id
// after, the fields whose value came from objects of the type, in one
// transaction. It returns the last id of the page ("" after the last), or
// that the type exists (and then changes nothing).
func (s *Service) scrubPage(ctx context.Context, domain, objectType, after string) (last string, exists bool, err error) {
	err = s.Store.Update(ctx, func(tx profiles.Tx) error {
		last, exists = "", false
		if _, err := tx.FindObjectType(ctx, domain, objectType); err == nil {
			exists = true
			return nil
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		ids, err := tx.ListProfileIDs(ctx, domain, after, scrubPageSize)
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
			if err := s.putStandardKeys(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", false, nil // the domain, deleted meanwhile: nothing left to clear
	}
	return last, exists, err
}

// finishScrub finishes the scrub of a deleted type of that name, if one is
// recorded and the type does not exist, before a type of that name is
// created again.
func (s *Service) finishScrub(ctx context.Context, domain, name string) error {
	if s.Configs == nil {
		return nil
	}
	if _, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigTypeScrub, name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	_, err := s.scrub(ctx, domain, name, true)
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
			return s.scrub(ctx, domain, name, false)
		})
	})
}
