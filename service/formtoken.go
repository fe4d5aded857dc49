package service

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"time"

	"github.com/openprofiles/profiles"
)

// A console form's one-time token is a ConfigFormToken of its domain,
// named by the token: claimed (created) by the first submission, which
// then records the profile it made. Every node of a store sees it, so a
// repeat that reaches another node finds it too.

// formTokenDoc is the record of a token.
type formTokenDoc struct {
	ProfileID string    `json:"profileId,omitempty"` // "" while the first submission runs
	Expires   time.Time `json:"expires"`
}

var formTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// A repeat waits up to formTokenWait for the first submission to record
// its profile, looking every formTokenPoll.
const (
	formTokenWait = 10 * time.Second
	formTokenPoll = 50 * time.Millisecond
)

// CreateProfileOnce creates a profile once per token (see
// profiles.ProfileService).
func (s *Service) CreateProfileOnce(ctx context.Context, domain, token string, fields map[string]string) (string, bool, error) {
	if !formTokenRE.MatchString(token) {
		return "", false, profiles.Errorf(profiles.EINVALID, "The form token must be 16 to 64 letters, digits, hyphens (-) and underscores (_).")
	}
	if s.Configs == nil { // no store of records: no repeat can be told
		p, err := s.CreateProfile(ctx, domain, fields)
		if err != nil {
			return "", false, err
		}
		return p.ID, true, nil
	}
	wait := time.NewTimer(formTokenWait)
	defer wait.Stop()
	for {
		data, _ := json.Marshal(formTokenDoc{Expires: s.now().Add(profiles.FormTokenTTL)})
		err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigFormToken, Name: token, Data: data}, 0)
		if err == nil {
			p, err := s.createClaimed(context.WithoutCancel(ctx), domain, token, fields)
			if err != nil {
				return "", false, err
			}
			return p.ID, true, nil
		}
		if profiles.ErrorCode(err) != profiles.ECONFLICT {
			return "", false, domainErr(err, domain)
		}
		// Claimed by another submission: its profile, once it has one.
		c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigFormToken, token)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			continue // released (it failed) or swept meanwhile: claim it
		} else if err != nil {
			return "", false, err
		}
		doc, err := decodeDoc[formTokenDoc](c)
		if err != nil {
			return "", false, err
		}
		switch {
		case doc.ProfileID != "":
			return doc.ProfileID, false, nil
		case !doc.Expires.After(s.now()):
			// Left unfinished a day ago: forgotten, as the sweep would.
			if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigFormToken, token); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return "", false, err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-wait.C:
			return "", false, profiles.Errorf(profiles.ECONFLICT, "An earlier submission of this form has not finished creating its profile. "+
				"Search for the profile before you create it again.")
		case <-time.After(formTokenPoll):
		}
	}
}

// FormTokenUsed reports whether CreateProfileOnce claimed the token (see
// profiles.ProfileService).
func (s *Service) FormTokenUsed(ctx context.Context, domain, token string) (bool, error) {
	if s.Configs == nil || !formTokenRE.MatchString(token) {
		return false, nil
	}
	_, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigFormToken, token)
	switch {
	case err == nil:
		return true, nil
	case profiles.ErrorCode(err) == profiles.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// createClaimed creates the profile of a claimed token and records it on
// the token; a failure releases the token, so that the form can be sent
// again.
func (s *Service) createClaimed(ctx context.Context, domain, token string, fields map[string]string) (*profiles.Profile, error) {
	p, err := s.CreateProfile(ctx, domain, fields)
	if err != nil {
		if derr := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigFormToken, token); derr != nil {
			s.Logger.Error("release a form token", "domain", domain, "err", derr)
		}
		return nil, err
	}
	_, err = s.Configs.UpdateConfig(ctx, domain, profiles.ConfigFormToken, token, func(c *profiles.DomainConfig) error {
		doc, err := decodeDoc[formTokenDoc](c)
		if err != nil {
			return err
		}
		doc.ProfileID = p.ID
		c.Data, err = json.Marshal(doc)
		return err
	})
	if err != nil {
		// The profile is made: a repeat of the form waits, then says to
		// search for it, rather than make another.
		s.Logger.Error("record the profile of a form token", "domain", domain, "profile", p.ID, "err", err)
	}
	return p, nil
}

// SweepFormTokens deletes the tokens of CreateProfileOnce, the records of
// activations and the drafts of KeepFormDraft whose time has passed, in
// every domain, and returns how many it deleted.
func (s *Service) SweepFormTokens(ctx context.Context) (int, error) {
	if s.Configs == nil {
		return 0, nil
	}
	return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		return s.eachDue(ctx, d.Name, profiles.ConfigFormToken, func(c *profiles.DomainConfig) bool {
			doc, err := decodeDoc[formTokenDoc](c)
			return err != nil || !doc.Expires.After(s.now())
		}, func(ctx context.Context, domain, name string) (bool, error) {
			err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigFormToken, name)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				return false, nil
			}
			return err == nil, err
		})
	})
}

// activationName is the name of the ConfigFormToken that records the
// console activation of token on the domain it created: the "." keeps it
// apart from CreateProfileOnce's tokens, which have none.
func activationName(token string) string { return "activation." + token }

// RecordActivation records the activation of token on the domain it
// created (see profiles.DomainService).
func (s *Service) RecordActivation(ctx context.Context, domain, token string) error {
	if !formTokenRE.MatchString(token) {
		return profiles.Errorf(profiles.EINVALID, "The activation token must be 16 to 64 letters, digits, hyphens (-) and underscores (_).")
	}
	if s.Configs == nil {
		return nil
	}
	data, _ := json.Marshal(formTokenDoc{Expires: s.now().Add(profiles.FormTokenTTL)})
	err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigFormToken, Name: activationName(token), Data: data}, 0)
	if profiles.ErrorCode(err) == profiles.ECONFLICT {
		return nil // recorded already
	}
	return domainErr(err, domain)
}

// ActivatedBy reports whether RecordActivation recorded token on the
// domain (see profiles.DomainService).
func (s *Service) ActivatedBy(ctx context.Context, domain, token string) (bool, error) {
	if s.Configs == nil || !formTokenRE.MatchString(token) {
		return false, nil
	}
	_, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigFormToken, activationName(token))
	switch {
	case err == nil:
		return true, nil
	case profiles.ErrorCode(err) == profiles.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// A refused console form is a ConfigFormToken of its domain too, named
// draftName(owner, name): a record of its own, never reused (a name is
// never kept again by the console). An owner (a console principal) has one
// index per domain, named draftIndexName(owner), which lists its newest
// MaxFormDrafts drafts: a new draft takes the place of the oldest, which
// is then deleted, so no owner holds more than MaxFormDrafts live drafts of
// at most MaxFormDraftSize each, however many forms it sends. Each record
// holds the time it goes, which SweepFormTokens reads as a token's, so the
// sweep deletes it then. The sweep deletes what it read as expired by name:
// were records reused, a draft kept between its reading and its deletion
// would go with them; a fresh record is not among what it read, and the
// draft is read without the index (which the sweep may delete so: the
// drafts it listed had all expired).

// formDraftDoc is the record of a draft.
type formDraftDoc struct {
	Expires time.Time `json:"expires"`
	Sealed  []byte    `json:"sealed"`
}

// formDraftIndex is the record of an owner's drafts.
type formDraftIndex struct {
	Expires time.Time `json:"expires"` // that of the newest draft
	Next    int       `json:"next"`    // the place the next draft takes
	Names   []string  `json:"names"`   // the drafts, "" for none
}

func draftIndexName(owner string) string  { return "drafts." + owner }
func draftName(owner, name string) string { return "draft." + owner + "." + name }

// KeepFormDraft keeps a refused console form (see
// profiles.FormDraftService).
func (s *Service) KeepFormDraft(ctx context.Context, domain, owner, name string, data []byte) error {
	if !formTokenRE.MatchString(owner) || !formTokenRE.MatchString(name) {
		return profiles.Errorf(profiles.EINVALID, "The draft's owner and name must be 16 to 64 letters, digits, hyphens (-) and underscores (_).")
	}
	if len(data) > profiles.MaxFormDraftSize {
		return profiles.Errorf(profiles.EINVALID, "The draft is %d bytes; the limit is %d.", len(data), profiles.MaxFormDraftSize)
	}
	if s.Configs == nil {
		return profiles.Errorf(profiles.EINVALID, "This server keeps no drafts.")
	}
	sealed, err := s.crypt.Seal(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordDraft, ID: name}, data)
	if err != nil {
		return domainErr(err, domain)
	}
	expires := s.now().Add(profiles.FormDraftTTL)
	// The draft's record first, then the index: a name enters the index
	// only once its record is there, so the request that evicts it (the
	// index cycling past it while this one runs) always finds the record
	// to delete. The other way round, a draft evicted between the index's
	// update and its record's write was written after its deletion, and
	// outlived the cap. A record whose index update fails stays until its
	// time has passed and the sweep runs.
	doc, _ := json.Marshal(formDraftDoc{Expires: expires, Sealed: sealed})
	key := profiles.ConfigKey{Kind: profiles.ConfigFormToken, Name: draftName(owner, name)}
	_, err = s.Configs.UpdateConfigs(ctx, domain, []profiles.ConfigKey{key}, func(cs []*profiles.DomainConfig) error {
		if cs[0] == nil {
			cs[0] = &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigFormToken, Name: key.Name}
		}
		cs[0].Data = doc
		return nil
	})
	if err != nil {
		return domainErr(err, domain)
	}
	// The index in one transaction: concurrent drafts of one owner take
	// different places, and each replaces a different oldest one.
	evicted := ""
	index := profiles.ConfigKey{Kind: profiles.ConfigFormToken, Name: draftIndexName(owner)}
	_, err = s.Configs.UpdateConfigs(ctx, domain, []profiles.ConfigKey{index}, func(cs []*profiles.DomainConfig) error {
		idx := formDraftIndex{}
		if cs[0] == nil {
			cs[0] = &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigFormToken, Name: index.Name}
		} else if err := json.Unmarshal(cs[0].Data, &idx); err != nil {
			idx = formDraftIndex{} // unreadable: start again
		}
		if len(idx.Names) != profiles.MaxFormDrafts {
			idx.Names = append(idx.Names, make([]string, profiles.MaxFormDrafts)...)[:profiles.MaxFormDrafts]
		}
		evicted = ""
		if !slices.Contains(idx.Names, name) { // else kept again, in its place
			at := ((idx.Next % profiles.MaxFormDrafts) + profiles.MaxFormDrafts) % profiles.MaxFormDrafts
			evicted, idx.Names[at], idx.Next = idx.Names[at], name, (at+1)%profiles.MaxFormDrafts
		}
		idx.Expires = expires
		var err error
		cs[0].Data, err = json.Marshal(idx)
		return err
	})
	if err != nil {
		return domainErr(err, domain)
	}
	if evicted != "" {
		// Failing, it stays until its time has passed and the sweep runs.
		if err := s.Configs.DeleteConfig(ctx, domain, profiles.ConfigFormToken, draftName(owner, evicted)); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			s.Logger.Error("form draft: delete a replaced draft", "domain", domain, "err", err)
		}
	}
	return nil
}

// FormDraft returns a refused console form kept by KeepFormDraft (see
// profiles.FormDraftService).
func (s *Service) FormDraft(ctx context.Context, domain, owner, name string) ([]byte, error) {
	gone := profiles.Errorf(profiles.ENOTFOUND, "The form is no longer kept.")
	if s.Configs == nil || !formTokenRE.MatchString(owner) || !formTokenRE.MatchString(name) {
		return nil, gone
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigFormToken, draftName(owner, name))
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, gone // never kept, replaced by newer drafts, or swept
	} else if err != nil {
		return nil, err
	}
	doc, err := decodeDoc[formDraftDoc](c)
	if err != nil {
		return nil, err
	}
	if !doc.Expires.After(s.now()) {
		return nil, gone
	}
	return s.crypt.Open(ctx, profiles.RecordRef{Domain: domain, Kind: profiles.RecordDraft, ID: name}, doc.Sealed)
}
