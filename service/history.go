package service

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// record adds a history record about profile p.
func (s *Service) record(ctx context.Context, tx profiles.Tx, p *profiles.Profile, action, objectType, objectKey string, content []byte) error {
	by := performer(ctx)
	now := s.now()
	return tx.PutHistory(ctx, &profiles.HistoryRecord{
		DomainName: p.DomainName, ProfileID: p.ID, ID: s.newID(now), ActionType: action,
		ObjectTypeName: objectType, ObjectKey: objectKey, PerformedBy: by, Content: content,
		CreatedAt: now, LastUpdatedAt: now,
	})
}

// performer is the PerformedBy of a history record written for ctx: the
// caller's ARN, else profiles.ServicePerformer.
func performer(ctx context.Context) string {
	if by := profiles.PrincipalFromContext(ctx); by != "" {
		return by
	}
	return profiles.ServicePerformer
}

// newID returns an id that sorts by time: 6 bytes of unix milliseconds, 4
// of a per-process sequence, 6 random; 32 lower-case hex characters, the
// form of an AWS profile id. History records use it, and profiles with
// SortedProfileIDs: ids of the same moment sit side by side in the store's
// indexes, so that a transaction of many new rows writes a few index pages
// at their end instead of one page anywhere in each index per row.
func (s *Service) newID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[5-i] = byte(ms >> (8 * i))
	}
	binary.BigEndian.PutUint32(b[6:10], uint32(s.seq.Add(1)))
	rand.Read(b[10:])
	return hex.EncodeToString(b[:])
}

// newProfileID returns the id of a new profile: 32 lower-case hex
// characters, sorting by time (newID) if s.SortedProfileIDs, else random.
func (s *Service) newProfileID(now time.Time) string {
	if s.SortedProfileIDs {
		return s.newID(now)
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recordProfile adds a history record whose content is the profile, as the
// API shows it (profileDocument: ProfileId, addresses and Attributes as
// objects), as GetProfileHistoryRecord returns it.
func (s *Service) recordProfile(ctx context.Context, tx profiles.Tx, p *profiles.Profile, action string) error {
	content, err := profileDocument(p)
	if err != nil {
		return err
	}
	return s.record(ctx, tx, p, action, profiles.ProfileObjectTypeName, "", content)
}

// ListProfileHistory returns one page of a profile's history, newest first.
func (s *Service) ListProfileHistory(ctx context.Context, domain, profileID string, filter profiles.HistoryQuery, page profiles.Page) ([]*profiles.HistoryRecord, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	q := profiles.HistoryQuery{DomainName: domain, ProfileID: profileID, ObjectTypeName: filter.ObjectTypeName,
		ActionType: filter.ActionType, PerformedBy: filter.PerformedBy, Limit: size + 1}
	scope := strings.Join([]string{"ListProfileHistoryRecords", domain, profileID, q.ObjectTypeName, q.ActionType, q.PerformedBy}, "/")
	if page.Token != "" {
		cursor, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		ms, id, _ := strings.Cut(cursor, "/")
		n, _ := strconv.ParseInt(ms, 10, 64)
		q.AfterCreatedAt, q.AfterID = time.UnixMilli(n).UTC(), id
	}
	var recs []*profiles.HistoryRecord
	err = s.view(ctx, domain, func(tx profiles.Tx) error {
		var err error
		if recs, err = tx.ListHistory(ctx, q); err != nil || len(recs) > 0 || page.Token != "" {
			return err
		}
		// Nothing to list: of a profile there is none of (AWS declares
		// ResourceNotFoundException here, as for the profile of
		// ListProfileObjects), unless it has a history still: a deleted or
		// merged profile keeps its.
		if _, err := tx.FindProfile(ctx, domain, profileID); profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		kept, err := tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: domain, ProfileID: profileID, Limit: 1})
		if err != nil {
			return err
		}
		if len(kept) == 0 {
			return profiles.Errorf(profiles.ENOTFOUND, "Profile %s not found in domain %s.", profileID, domain)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(recs) > size {
		recs = recs[:size]
		last := recs[size-1]
		next = s.tokens.encode(scope, strconv.FormatInt(last.CreatedAt.UnixMilli(), 10)+"/"+last.ID)
	}
	return recs, next, nil
}

// GetProfileHistory returns one history record.
func (s *Service) GetProfileHistory(ctx context.Context, domain, profileID, id string) (*profiles.HistoryRecord, error) {
	var r *profiles.HistoryRecord
	err := s.view(ctx, domain, func(tx profiles.Tx) error {
		var err error
		r, err = tx.FindHistory(ctx, domain, profileID, id)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return profiles.Errorf(profiles.ENOTFOUND, "History record %s of profile %s not found.", id, profileID)
		}
		return err
	})
	if err == nil {
		r.Content = profileContent(r)
	}
	return r, err
}

// profileContent returns the content of a history record, a profile's
// record written by an earlier release (its flat fields, "Address.City",
// "Attributes.tier" and the engagement preferences as a JSON string, and no
// ProfileId) in the API's shape as recordProfile now writes it. Records of
// keys ({"KeyName", "Values": [...]}) and objects are returned as they are.
func profileContent(r *profiles.HistoryRecord) []byte {
	if r.ObjectTypeName != profiles.ProfileObjectTypeName {
		return r.Content
	}
	var fields map[string]string
	if json.Unmarshal(r.Content, &fields) != nil {
		return r.Content
	}
	if _, ok := fields["ProfileId"]; ok {
		return r.Content
	}
	doc, err := profileDocument(&profiles.Profile{ID: r.ProfileID, Fields: fields})
	if err != nil {
		return r.Content
	}
	return doc
}
