package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.IngestService = (*Service)(nil)

// PutProfileObject maps obj with the object type, finds or creates its
// profile and stores object, keys and profile fields in one transaction.
//
// Profile resolution: the profile of the stored object with the same UNIQUE
// key, else the keys (see resolve). With no profile found, one is created
// if the object type allows it.
func (s *Service) PutProfileObject(ctx context.Context, domain, objectType, obj string) (key string, err error) {
	return s.putObject(ctx, domain, objectType, obj, nil)
}

// putObject is PutProfileObject of an object that may have been mapped
// already (pre, else nil: it is mapped here).
func (s *Service) putObject(ctx context.Context, domain, objectType, obj string, pre *premapped) (key string, err error) {
	key, _, err = s.ingestObject(ctx, domain, objectType, nil, time.Time{}, obj, pre)
	return key, err
}

// ingestObject is putObject with the object type t, when set, in place of
// the domain's type of that name (an upload job's type, which the domain
// does not keep), and the outcome: created, matched or stale. A non-zero
// born is the CreatedAt of the domain the object is for (an upload job's):
// a domain of that name created since is another one, and the object
// fails as for a missing domain (ENOTFOUND).
func (s *Service) ingestObject(ctx context.Context, domain, objectType string, fixed *profiles.ObjectType, born time.Time, obj string, pre *premapped) (key, outcome string, err error) {
	if len(obj) > profiles.MaxObjectSize {
		return "", "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonObjectTooLarge, profiles.MsgObjectTooLarge, profiles.MaxObjectSize)
	}
	var gen uint64 // an upload job's row: the domain's forgets, before d is read
	if !born.IsZero() {
		gen = s.domains.generation(domain)
	}
	d, err := s.recentDomain(ctx, domain)
	if err != nil {
		return "", "", domainErr(err, domain)
	}
	if !born.IsZero() && !d.CreatedAt.Equal(born) {
		return "", "", profiles.Errorf(profiles.ENOTFOUND, "Domain %s not found.", domain)
	}
	defer func() { s.ingestStats.record(domain, s.now(), err != nil) }()
	data := []byte(obj)
	if pre == nil {
		pre = s.premap(domain, objectType, data)
	}
	streams, err := s.recentStreams(ctx, domain)
	if err != nil {
		return "", "", err
	}
	var uniqueKey string
	ingest := func(tx profiles.Tx) error {
		t := fixed
		if t == nil {
			var err error
			if t, err = s.findObjectType(ctx, tx, domain, objectType); err != nil {
				return err
			}
		}
		in := &ingestion{s: s, tx: tx, domain: d, t: t, data: data, pre: pre, now: s.now(), streams: streams}
		k, err := in.run(ctx)
		uniqueKey, outcome = k, in.outcome
		return err
	}
	for attempt := 0; ; attempt++ {
		err = s.Store.Update(ctx, func(tx profiles.Tx) error {
			if !born.IsZero() && s.domains.generation(domain) != gen {
				// Checked in the transaction, with no store read (one
				// nested in Update can hang the server): the domain
				// changed through this node since d was read, maybe
				// deleted and created again; d is read again below.
				// Through another node, d is at most domainTTL old.
				return errDomainForgotten
			}
			return ingest(tx)
		})
		if !errors.Is(err, errDomainForgotten) || attempt == 10 {
			break
		}
		gen = s.domains.generation(domain)
		if d, err = s.recentDomain(ctx, domain); err != nil {
			return "", "", domainErr(err, domain)
		}
		if !d.CreatedAt.Equal(born) {
			return "", "", profiles.Errorf(profiles.ENOTFOUND, "Domain %s not found.", domain)
		}
	}
	if isTypeNotFound(err) {
		// The domain recentDomain kept may be gone: tell that first.
		if _, derr := s.Store.FindDomain(ctx, domain); profiles.ErrorCode(derr) == profiles.ENOTFOUND {
			err = derr
		}
	}
	if profiles.ErrorCode(err) == profiles.ENOTFOUND && !isTypeNotFound(err) {
		s.domains.forget(domain)
	}
	if err == nil && len(streams) > 0 {
		s.wakeDelivery()
	}
	if err != nil {
		s.Metrics.ingest(deadLetterCode(err))
	} else {
		s.Metrics.ingest(outcome)
	}
	if profiles.ErrorCode(err) == profiles.ENOTFOUND && !isTypeNotFound(err) {
		return "", "", profiles.Errorf(profiles.ENOTFOUND, "Domain %s not found.", domain)
	} else if err != nil {
		return "", "", ingestKMSError(err)
	}
	return uniqueKey, outcome, nil
}

// errDomainForgotten ends an upload job's row's transaction begun after
// its domain changed through this node (ingestObject reads it again).
var errDomainForgotten = errors.New("the domain changed through this node")

// ingestKMSError gives a KMS failure during ingestion the brief's message
// for its reason; other errors pass.
func ingestKMSError(err error) error {
	reason := profiles.ErrorReason(err)
	msg := map[string]string{
		profiles.ReasonKMSKeyAccess:  profiles.MsgKMSKeyAccess,
		profiles.ReasonKMSKeyInvalid: profiles.MsgKMSKeyInvalid,
		profiles.ReasonKMSKeyState:   profiles.MsgKMSKeyState,
	}[reason]
	if msg == "" {
		return err
	}
	return profiles.IngestErrorf(profiles.ErrorCode(err), reason, "%s", msg)
}

// ingestion is one object on its way in.
type ingestion struct {
	s      *Service
	tx     profiles.Tx
	domain *profiles.Domain
	t      *profiles.ObjectType
	data   []byte
	pre    *premapped // data mapped before the transaction, or nil
	now    time.Time
	// streams are the domain's event streams (recentStreams), which get
	// the object's event and, when it changes, the profile's.
	streams []streamRef

	res       *mapping.Result
	index     []string // the stored form of each of res.Keys' values (indexValue)
	uniqueKey string
	outcome   string // created, matched or stale
}

func (in *ingestion) run(ctx context.Context) (string, error) {
	res, err := in.mapObject()
	if err != nil {
		var e *profiles.Error
		if errors.As(err, &e) && e.Reason == "" {
			e.Reason = profiles.ReasonInvalidObject
		}
		return "", err
	}
	in.res = res
	unique, ok := in.keyWith(profiles.IdentifierUnique)
	if !ok {
		return "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonKeyMissing, profiles.MsgKeyMissing)
	}
	in.uniqueKey = objectKey(in.t.Name, unique.Name, unique.Value)
	updated := res.SourceLastUpdated
	if updated.IsZero() {
		updated = in.now
	}

	old, err := in.tx.FindObject(ctx, in.domain.Name, in.t.Name, in.uniqueKey)
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return "", err
	}
	if old != nil && updated.Before(old.SourceLastUpdated) {
		// An older version of an object never replaces a newer one.
		in.outcome = "stale"
		return in.uniqueKey, nil
	}
	contact := unique.Name == keyCTRContactID
	if contact && old != nil && bytes.Equal(old.Data, in.data) && !in.t.LastUpdatedAt.After(old.UpdatedAt) {
		// A contact record delivered again as it is (the contact center
		// retries after a timeout) changes nothing: no history record, no
		// event. One whose type changed since it was stored goes in again,
		// for the keys the type may now derive.
		in.outcome = "unchanged"
		return in.uniqueKey, nil
	}

	profileID := ""
	if old != nil {
		profileID = old.ProfileID
	} else if profileID, err = in.resolve(ctx); err != nil {
		return "", err
	}
	created := false
	in.outcome = "matched"
	var p *profiles.Profile
	if profileID == "" {
		if !in.t.AllowProfileCreation {
			return "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonNoProfile,
				"No profile matches the keys of this object, and object type %s does not allow profile creation", in.t.Name)
		}
		p = &profiles.Profile{DomainName: in.domain.Name, ID: in.s.newProfileID(in.now), Fields: map[string]string{}, Sources: map[string]profiles.FieldSource{}, CreatedAt: in.now}
		created, in.outcome = true, "created"
	} else if p, err = in.tx.FindProfile(ctx, in.domain.Name, profileID); err != nil {
		return "", err
	}

	if !created { // a new profile holds nothing yet
		if err := in.checkQuotas(ctx, p.ID, old); err != nil {
			return "", err
		}
	}

	// The standard keys follow the profile's fields: a new profile has
	// none yet (they go in with the object's keys, below), and unchanged
	// fields keep theirs.
	var oldStandard []profiles.Key
	standardMayChange := !created && mayChangeStandardKeys(p, in.res.Fields)
	if standardMayChange {
		oldStandard = in.s.standardKeys(p)
	}
	var before map[string]string
	if len(in.streams) > 0 && !created {
		before = maps.Clone(p.Fields)
	}
	size := profileSize(p)
	in.mergeFields(p, updated, created)
	// A profile holds at most MaxProfileSize bytes of fields, as
	// CreateProfile and UpdateProfile enforce; one already past it (stored
	// before) may keep its size, not grow.
	if n := profileSize(p); n > MaxProfileSize && n > size {
		return "", profiles.IngestErrorf(profiles.EQUOTA, profiles.ReasonProfileQuota,
			"The object would make its profile %d bytes; a profile holds at most %d", n, MaxProfileSize)
	}
	p.LastUpdatedAt = in.now
	if err := in.tx.PutProfile(ctx, p); err != nil {
		return "", err
	}
	if standardMayChange {
		if newStandard := in.s.standardKeys(p); !slices.Equal(oldStandard, newStandard) {
			if err := in.s.putStandardKeys(ctx, in.tx, p, differentStandardKeys(oldStandard, newStandard)); err != nil {
				return "", err
			}
		}
	}

	// The profile's ingestion rate: its bucket, in the store, is written
	// once the profile is.
	if ok, err := in.s.limiter.take(ctx, in.tx, in.domain.Name, p.ID, in.now); err != nil {
		return "", err
	} else if !ok {
		return "", profiles.IngestErrorf(profiles.ETHROTTLED, profiles.ReasonRateExceeded, profiles.MsgRateExceeded)
	}

	o := &profiles.ProfileObject{
		DomainName: in.domain.Name, ObjectTypeName: in.t.Name, UniqueKey: in.uniqueKey, ProfileID: p.ID,
		Data: in.data, SourceLastUpdated: updated, CreatedAt: in.now, UpdatedAt: in.now,
		ExpiresAt: in.now.AddDate(0, 0, in.expirationDays()),
	}
	if old != nil {
		o.CreatedAt = old.CreatedAt
	}
	if err := in.tx.PutObject(ctx, o); err != nil {
		return "", err
	}
	// NEW_ONLY keys go on a profile that this object created: now, or
	// when an earlier version of it came in (its keys are replaced below).
	newOnly := created
	if old != nil && !created {
		if newOnly, err = in.createdItsProfile(ctx, old); err != nil {
			return "", err
		}
	}
	if old != nil { // a new object has no keys yet (PutObject removed those of an expired one)
		if err := in.tx.DeleteKeys(ctx, in.domain.Name, old.ProfileID, in.t.Name, in.uniqueKey); err != nil {
			return "", err
		}
	}
	var keys []profiles.Key
	if created {
		keys = in.s.standardKeys(p)
	}
	for i, k := range res.Keys {
		switch {
		case hasIdentifier(k.Identifiers, profiles.IdentifierLookupOnly):
			continue // used to find the profile, never stored
		case hasIdentifier(k.Identifiers, profiles.IdentifierNewOnly) && !newOnly:
			continue // stored only on a profile this object created
		}
		keys = append(keys, profiles.Key{
			DomainName: in.domain.Name, Name: k.Name, Value: in.index[i],
			ProfileID: p.ID, Origin: in.t.Name, ObjectKey: in.uniqueKey,
		})
	}
	if err := in.tx.PutKeys(ctx, keys); err != nil {
		return "", err
	}
	if created {
		if err := in.s.recordProfile(ctx, in.tx, p, profiles.ActionCreated); err != nil {
			return "", err
		}
	}
	if err := in.recordIngested(ctx, p, contact && old != nil); err != nil {
		return "", err
	}
	if len(in.streams) > 0 {
		if err := in.putEvents(ctx, p, o, old == nil, created, created || !maps.Equal(before, p.Fields)); err != nil {
			return "", err
		}
	}
	return in.uniqueKey, nil
}

// recordIngested adds the profile's INGESTED history record of the object,
// or, when again (a later version of a contact record), updates the one
// the contact has on the profile already: a contact is one entry of its
// profile's history, whatever the number of its versions. A contact whose
// profile has no such record (it came before a merge moved the contact to
// this profile) gets a new one.
func (in *ingestion) recordIngested(ctx context.Context, p *profiles.Profile, again bool) error {
	if again {
		recs, err := in.tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: p.DomainName, ProfileID: p.ID,
			ObjectTypeName: in.t.Name, ObjectKey: in.uniqueKey, ActionType: profiles.ActionIngested, Limit: 1})
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		if len(recs) == 1 {
			r := recs[0]
			r.Content, r.PerformedBy, r.LastUpdatedAt = in.data, performer(ctx), in.now
			return in.tx.UpdateHistory(ctx, r)
		}
	}
	return in.s.record(ctx, in.tx, p, profiles.ActionIngested, in.t.Name, in.uniqueKey, in.data)
}

// putEvents writes the events of the domain's event streams: the object's
// (CREATED for a new object, else UPDATED) and, when the profile is new or
// its fields changed, the profile's.
func (in *ingestion) putEvents(ctx context.Context, p *profiles.Profile, o *profiles.ProfileObject, newObject, newProfile, profileChanged bool) error {
	if profileChanged {
		kind := "UPDATED"
		if newProfile {
			kind = "CREATED"
		}
		ev, err := in.s.profileEvent(p, kind, in.now)
		if err != nil {
			return err
		}
		if err := in.s.putEvents(ctx, in.tx, in.streams, ev, p.ID, ""); err != nil {
			return err
		}
	}
	kind := "UPDATED"
	if newObject {
		kind = "CREATED"
	}
	typeKey := in.t.EncryptionKey
	if typeKey == in.domain.DefaultEncryptionKey {
		typeKey = ""
	}
	return in.s.putEvents(ctx, in.tx, in.streams, objectEvent(o, kind, in.now), p.ID, typeKey)
}

// premapped is an object mapped before its transaction (premap).
type premapped struct {
	mapper *mapping.Mapper
	res    *mapping.Result
	index  []string
}

// premap maps an object before its transaction with the mapping last
// compiled for its type, and derives the stored form of its key values:
// the JSON decoding and the HMACs then run on the request's goroutine, in
// parallel with other requests, instead of inside the transaction, where
// they would hold SQLite's one writer. It returns nil when there is no such
// mapping yet or the object does not map; ingestion then maps inside.
func (s *Service) premap(domain, objectType string, data []byte) *premapped {
	m := s.mappers.peek(domain, objectType)
	if m == nil {
		return nil
	}
	res, err := m.Map(data)
	if err != nil {
		return nil // told inside, with the type the transaction reads
	}
	return &premapped{mapper: m, res: res, index: s.indexValues(domain, res.Keys)}
}

// mapObject maps the object with its type as the transaction read it: the
// premapped result when the type still compiles to the mapping that made
// it (mappers compares the definitions), else anew.
func (in *ingestion) mapObject() (*mapping.Result, error) {
	m, err := in.s.mappers.get(in.t)
	if err != nil {
		return nil, err
	}
	if in.pre != nil && in.pre.mapper == m {
		in.index = in.pre.index
		return in.pre.res, nil
	}
	res, err := m.Map(in.data)
	if err != nil {
		return nil, err
	}
	in.index = in.s.indexValues(in.domain.Name, res.Keys)
	return res, nil
}

// indexValues returns the stored form of each key's value.
func (s *Service) indexValues(domain string, keys []mapping.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = s.indexValue(domain, k.Name, k.Value)
	}
	return out
}

// keyWith returns the first key of the result carrying identifier id.
func (in *ingestion) keyWith(id string) (mapping.Key, bool) {
	for _, k := range in.res.Keys {
		if hasIdentifier(k.Identifiers, id) {
			return k, true
		}
	}
	return mapping.Key{}, false
}

// keyCTRContactID is the key of a contact record's id in the CTR templates.
const keyCTRContactID = "_ctrContactId"

// resolve finds the profile of a new object through its keys, in rounds:
// PROFILE keys that are not SECONDARY, then SECONDARY ones, then the keys
// that link standard objects. A key value held by one profile finds it; one
// held by several is ambiguous and ignored. Two keys of a round that find
// different profiles (the message names them), or every key that says
// something being ambiguous, refuse the object. A contact record's own id
// (_ctrContactId, UNIQUE and PROFILE in the CTR templates) that finds
// nothing says nothing: it is on no profile unless an agent associated
// the contact (AddProfileKey), so a contact record whose phone number
// several profiles share is refused (BEHAVIOUR.md §6.2), not given one
// more profile with that number, which would make the next call from it
// more ambiguous still. Other keys keep AWS's rule: an ambiguous key is
// ignored, and no profile found makes a new one. It returns "" when no key
// finds a profile.
func (in *ingestion) resolve(ctx context.Context) (string, error) {
	rounds := []func(ids []string) bool{
		func(ids []string) bool {
			return hasIdentifier(ids, profiles.IdentifierProfile) && !hasIdentifier(ids, profiles.IdentifierSecondary)
		},
		func(ids []string) bool {
			return hasIdentifier(ids, profiles.IdentifierProfile) && hasIdentifier(ids, profiles.IdentifierSecondary)
		},
		func(ids []string) bool {
			return !hasIdentifier(ids, profiles.IdentifierProfile) &&
				(hasIdentifier(ids, profiles.IdentifierAsset) || hasIdentifier(ids, profiles.IdentifierCase) || hasIdentifier(ids, profiles.IdentifierOrder))
		},
	}
	keys, telling, ambiguous := 0, 0, 0
	for _, inRound := range rounds {
		found, foundBy := "", ""
		for i, k := range in.res.Keys {
			if !inRound(k.Identifiers) {
				continue
			}
			keys++
			ids, err := in.s.findProfileIDs(ctx, in.tx, in.domain.Name, k.Name, k.Value, in.index[i])
			if err != nil {
				return "", err
			}
			if len(ids) > 0 || k.Name != keyCTRContactID || !hasIdentifier(k.Identifiers, profiles.IdentifierUnique) {
				telling++
			}
			switch {
			case len(ids) == 0:
			case len(ids) > 1:
				ambiguous++
			case found != "" && found != ids[0]:
				return "", conflictingKeys(foundBy, k.Name)
			default:
				found, foundBy = ids[0], k.Name
			}
		}
		if found != "" {
			return found, nil
		}
	}
	switch {
	case keys == 0:
		return "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonKeyMissing, profiles.MsgKeyMissing)
	case telling > 0 && ambiguous == telling:
		return "", profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonAmbiguousKeys, profiles.MsgAmbiguousKeys)
	}
	return "", nil
}

// conflictingKeys is the refusal of an object two of whose keys of one
// round, a and b (maybe one key name with two values), find two different
// profiles: the brief's message, then the keys (names only: their values
// may be personal data), so that the mapping or the object can be fixed.
func conflictingKeys(a, b string) error {
	if a == b {
		return profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonAmbiguousKeys,
			"%s: the values of key %s find different profiles", profiles.MsgAmbiguousKeys, a)
	}
	return profiles.IngestErrorf(profiles.EINVALID, profiles.ReasonAmbiguousKeys,
		"%s: key %s finds one profile and key %s another", profiles.MsgAmbiguousKeys, a, b)
}

// createdItsProfile reports whether the stored version old of the object
// created its profile: whether it left a NEW_ONLY key of the type on it,
// which only an object that creates its profile does. It reads the
// profile's keys only when the type has NEW_ONLY keys.
func (in *ingestion) createdItsProfile(ctx context.Context, old *profiles.ProfileObject) (bool, error) {
	// The names of keys that the type stores only as NEW_ONLY.
	names := map[string]bool{}
	for name, defs := range in.t.Keys {
		names[name] = len(defs) > 0
		for _, d := range defs {
			if !hasIdentifier(d.StandardIdentifiers, profiles.IdentifierNewOnly) || hasIdentifier(d.StandardIdentifiers, profiles.IdentifierLookupOnly) {
				names[name] = false
			}
		}
		if !names[name] {
			delete(names, name)
		}
	}
	if len(names) == 0 {
		return false, nil
	}
	keys, err := in.tx.ListKeys(ctx, in.domain.Name, old.ProfileID)
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return false, err
	}
	for _, k := range keys {
		if k.Origin == in.t.Name && k.ObjectKey == old.UniqueKey && names[k.Name] {
			return true, nil
		}
	}
	return false, nil
}

// checkQuotas refuses an object that would take a profile past its limits.
func (in *ingestion) checkQuotas(ctx context.Context, profileID string, old *profiles.ProfileObject) error {
	all, err := in.tx.ProfileUsage(ctx, in.domain.Name, profileID, "")
	if err != nil {
		return err
	}
	count, bytes := all.Objects+1, all.Bytes+int64(len(in.data))
	if old != nil {
		count, bytes = count-1, bytes-int64(len(old.Data))
	}
	if count > profiles.MaxObjectsPerProfile {
		return profiles.IngestErrorf(profiles.EQUOTA, profiles.ReasonProfileQuota, "Profile %s already holds the maximum of %d objects", profileID, profiles.MaxObjectsPerProfile)
	}
	if bytes > profiles.MaxObjectBytesPerProfile {
		return profiles.IngestErrorf(profiles.EQUOTA, profiles.ReasonProfileQuota, "The objects of profile %s would exceed %d bytes", profileID, profiles.MaxObjectBytesPerProfile)
	}
	if max := in.t.MaxProfileObjectCount; max > 0 && old == nil {
		typ, err := in.tx.ProfileUsage(ctx, in.domain.Name, profileID, in.t.Name)
		if err != nil {
			return err
		}
		if typ.Objects+1 > max {
			return profiles.IngestErrorf(profiles.EQUOTA, profiles.ReasonProfileQuota, "Profile %s already holds the maximum of %d objects of type %s (MaxProfileObjectCount)", profileID, max, in.t.Name)
		}
	}
	return nil
}

// mergeFields writes the mapped fields into the profile. A value set
// through the profile API is never overwritten by ingestion; a value from a
// type of better SourcePriority (lower number; none ranks lowest) is kept;
// between equals, the newer source wins.
func (in *ingestion) mergeFields(p *profiles.Profile, updated time.Time, created bool) {
	fields := in.res.Fields // read only: a retried transaction maps with the same result
	if created && len(fields) == 0 {
		// An inferred profile: nothing maps to it, but it is found by the
		// first email and phone of the object.
		fields = map[string]string{}
		if in.res.FirstEmail != "" {
			fields["EmailAddress"] = in.res.FirstEmail
		}
		if in.res.FirstPhone != "" {
			fields["PhoneNumber"] = in.res.FirstPhone
		}
	}
	if p.Sources == nil {
		p.Sources = map[string]profiles.FieldSource{}
	}
	if p.Fields == nil {
		p.Fields = map[string]string{}
	}
	src := profiles.FieldSource{ObjectType: in.t.Name, Priority: in.t.SourcePriority, UpdatedAt: updated}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		old, fromObject := p.Sources[name]
		if _, set := p.Fields[name]; set && !fromObject {
			continue // set through the profile API
		}
		if fromObject && !wins(src, old) {
			continue
		}
		p.Fields[name] = fields[name]
		p.Sources[name] = src
	}
}

// wins reports whether a value from source a replaces one from source b.
func wins(a, b profiles.FieldSource) bool {
	rank := func(p int) int {
		if p == 0 {
			return 1 << 30
		}
		return p
	}
	if rank(a.Priority) != rank(b.Priority) {
		return rank(a.Priority) < rank(b.Priority)
	}
	return !a.UpdatedAt.Before(b.UpdatedAt)
}

func (in *ingestion) expirationDays() int {
	if in.t.ExpirationDays > 0 {
		return in.t.ExpirationDays
	}
	return in.domain.DefaultExpirationDays
}

// objectKey derives an object's ProfileObjectUniqueKey from its type and the
// value of its UNIQUE key.
func objectKey(objectType, keyName, value string) string {
	h := sha256.Sum256([]byte(objectType + "\x00" + keyName + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}
