package service

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/looplog"
	"github.com/openprofiles/profiles/mapping"
)

// ListProfileObjects returns one page of a profile's objects of one type,
// newest first.
func (s *Service) ListProfileObjects(ctx context.Context, domain, objectType, profileID, filterKey string, filterValues []string, page profiles.Page) ([]*profiles.ProfileObject, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	q := profiles.ObjectQuery{DomainName: domain, ObjectType: objectType, ProfileID: profileID, FilterKey: filterKey, Limit: size + 1}
	scope := "ListProfileObjects/" + domain + "/" + objectType + "/" + profileID + "/" + filterKey + "/" + strings.Join(filterValues, "\x00")
	if page.Token != "" {
		cursor, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		ms, key, _ := strings.Cut(cursor, "/")
		n, _ := strconv.ParseInt(ms, 10, 64)
		q.AfterUpdatedAt, q.AfterUniqueKey = time.UnixMilli(n).UTC(), key
	}
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, "", domainErr(err, domain)
	}
	var objs []*profiles.ProfileObject
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		t, err := s.findObjectType(ctx, tx, domain, objectType)
		if err != nil {
			return err
		}
		if _, err := s.findProfile(ctx, tx, domain, profileID); err != nil {
			return err
		}
		if filterKey != "" {
			// The filter matches the keys the type's objects stored, made
			// by the type's own definition of the key when it has one
			// (another type may give that name another content type).
			ct, ok := typeKeyContentType(t, filterKey)
			if !ok {
				if ct, err = s.keyContentType(ctx, tx, domain, filterKey); err != nil {
					return err
				}
			}
			for _, v := range filterValues {
				if n := mapping.Normalize(ct, v); n != "" {
					q.FilterValues = append(q.FilterValues, s.indexValue(domain, filterKey, n))
				}
			}
			if len(q.FilterValues) == 0 {
				return nil
			}
		}
		objs, err = tx.ListObjects(ctx, q)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(objs) > size {
		objs = objs[:size]
		last := objs[size-1]
		next = s.tokens.encode(scope, strconv.FormatInt(last.UpdatedAt.UnixMilli(), 10)+"/"+last.UniqueKey)
	}
	return objs, next, nil
}

// DeleteProfileObject deletes one object of a profile and its keys. The
// object's history records on the profile lose their content (the store's
// DeleteObject), and the profile gets a DELETED_BY_CUSTOMER record of the
// object (its type and key, the caller, no content).
func (s *Service) DeleteProfileObject(ctx context.Context, domain, objectType, profileID, uniqueKey string) error {
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return domainErr(err, domain)
	}
	return s.Store.Update(ctx, func(tx profiles.Tx) error {
		o, err := tx.FindObject(ctx, domain, objectType, uniqueKey)
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		if err != nil || o.ProfileID != profileID {
			return profiles.Errorf(profiles.ENOTFOUND, "Profile object %s of type %s not found on profile %s.", uniqueKey, objectType, profileID)
		}
		if err := tx.DeleteObject(ctx, domain, objectType, uniqueKey); err != nil {
			return err
		}
		return s.record(ctx, tx, &profiles.Profile{DomainName: domain, ID: profileID}, profiles.ActionDeletedByCustomer, objectType, uniqueKey, nil)
	})
}

// Sweep deletes expired objects until none is left, in batches. Reads hide
// expired objects already; this frees their space.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.Store.DeleteExpired(ctx, s.now(), 1000)
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// Cleanup is a clean-up RunSweeper runs after the expiry sweep; Name
// is the message of the log line of its failure.
type Cleanup struct {
	Name string
	Run  func(context.Context) (int, error)
}

// RunSweeper calls Sweep, then each of more (other clean-ups, such as
// deleting KMS keys whose deletion date passed), every interval until ctx
// ends. A failure that repeats the previous run's of the same step is
// logged at DEBUG only (looplog).
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration, more ...Cleanup) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sweep := &looplog.Loop{Logger: s.Logger, Name: "sweep expired objects"}
	failures := make([]*looplog.Loop, len(more))
	for i, c := range more {
		failures[i] = &looplog.Loop{Logger: s.Logger, Name: c.Name}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				sweep.Failed(ctx, err)
			} else if err == nil {
				sweep.Succeeded(ctx)
				if n > 0 {
					s.Logger.Log(ctx, slog.LevelInfo, "swept expired objects", "count", n)
				}
			}
			for i, c := range more {
				if _, err := c.Run(ctx); err != nil && ctx.Err() == nil {
					failures[i].Failed(ctx, err)
				} else if err == nil {
					failures[i].Succeeded(ctx)
				}
			}
		}
	}
}
