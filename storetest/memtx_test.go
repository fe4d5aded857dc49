package storetest_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// memState is everything a memStore holds.
type memState struct {
	domains map[string]*profiles.Domain
	data    map[string]*memData // by domain name
	kms     *memKMS             // profiles.KMSStore; outside transactions
	iam     *memIAM             // profiles.IAMStore; outside transactions
	queues  *memQueues          // profiles.QueueStore; outside transactions

	instances map[string]*profiles.Instance // profiles.IntegrationStore; by id; outside transactions

	seq int64 // the last StreamEvent.Seq
}

// memData is a domain's profile data.
type memData struct {
	types    map[string]*profiles.ObjectType
	profiles map[string]*profiles.Profile
	objects  map[[2]string]*profiles.ProfileObject // by type and unique key
	keys     map[profiles.Key]bool
	history  map[[2]string]*profiles.HistoryRecord // by profile id and id
	buckets  map[string]profiles.IngestBucket      // by profile id

	// integrations are the domain's, by Uri: deleting the domain deletes
	// them. Outside transactions (profiles.IntegrationStore).
	integrations map[string]*profiles.Integration

	// configs are the domain's, by kind and name; outside transactions
	// (profiles.ConfigStore).
	configs map[[2]string]*profiles.DomainConfig

	// events wait for event streams, by Seq; claims are the claims of the
	// streams, by name, with when they lapse.
	events map[int64]*memEvent
	claims map[string]time.Time

	// copies are the whole copies of the domain's cut dead letters, by
	// name; outside transactions (profiles.DeadLetterCopyStore).
	copies map[string]*profiles.DeadLetterCopy
}

type memEvent struct {
	e profiles.StreamEvent
}

func newMemData() *memData {
	return &memData{
		types:    map[string]*profiles.ObjectType{},
		profiles: map[string]*profiles.Profile{},
		objects:  map[[2]string]*profiles.ProfileObject{},
		keys:     map[profiles.Key]bool{},
		history:  map[[2]string]*profiles.HistoryRecord{},
		buckets:  map[string]profiles.IngestBucket{},

		integrations: map[string]*profiles.Integration{},
		configs:      map[[2]string]*profiles.DomainConfig{},
		events:       map[int64]*memEvent{},
		claims:       map[string]time.Time{},
		copies:       map[string]*profiles.DeadLetterCopy{},
	}
}

// clone copies the maps of st; the values they hold are shared, and never
// changed in place.
func (st memState) clone() memState {
	out := memState{domains: maps.Clone(st.domains), data: map[string]*memData{}, kms: st.kms, iam: st.iam, queues: st.queues,
		instances: st.instances, seq: st.seq}
	for name, d := range st.data {
		out.data[name] = &memData{
			types:    maps.Clone(d.types),
			profiles: maps.Clone(d.profiles),
			objects:  maps.Clone(d.objects),
			keys:     maps.Clone(d.keys),
			history:  maps.Clone(d.history),
			buckets:  maps.Clone(d.buckets),

			integrations: maps.Clone(d.integrations),
			configs:      maps.Clone(d.configs),
			events:       maps.Clone(d.events),
			claims:       maps.Clone(d.claims),
			copies:       maps.Clone(d.copies),
		}
	}
	return out
}

func (s *memStore) Update(ctx context.Context, fn func(profiles.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st.clone()
	if err := fn(&memTx{st: &st, now: s.now()}); err != nil {
		return err
	}
	s.st = st
	return nil
}

func (s *memStore) View(ctx context.Context, fn func(profiles.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&memTx{st: &s.st, now: s.now(), readOnly: true})
}

func (s *memStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.st.data {
		for k, o := range d.objects {
			if limit > 0 && n == limit {
				return n, nil
			}
			if !live(o, now) {
				dropExpired(d, o)
				delete(d.objects, k)
				r := &profiles.HistoryRecord{DomainName: o.DomainName, ProfileID: o.ProfileID, ID: profiles.NewHistoryID(now),
					ActionType: profiles.ActionExpired, ObjectTypeName: o.ObjectTypeName, ObjectKey: o.UniqueKey,
					PerformedBy: profiles.ServicePerformer, CreatedAt: now, LastUpdatedAt: now}
				d.history[[2]string{r.ProfileID, r.ID}] = r
				n++
			}
		}
	}
	return n, nil
}

// live reports whether o has not expired at now.
func live(o *profiles.ProfileObject, now time.Time) bool {
	return o.ExpiresAt.IsZero() || o.ExpiresAt.After(now)
}

// dropObject deletes the keys o produced on its profile.
func dropObject(d *memData, o *profiles.ProfileObject) {
	for k := range d.keys {
		if k.ProfileID == o.ProfileID && k.Origin == o.ObjectTypeName && k.ObjectKey == o.UniqueKey {
			delete(d.keys, k)
		}
	}
}

// dropExpired deletes the keys of an expired (or deleted) object o and the
// content of its history records on its profile.
func dropExpired(d *memData, o *profiles.ProfileObject) {
	dropObject(d, o)
	for k, r := range d.history {
		if r.ProfileID == o.ProfileID && r.ObjectTypeName == o.ObjectTypeName && r.ObjectKey == o.UniqueKey && len(r.Content) > 0 {
			c := deepCopy(r)
			c.Content = nil
			d.history[k] = c
		}
	}
}

// memTx is a profiles.Tx on a memState.
type memTx struct {
	st       *memState
	now      time.Time
	readOnly bool
}

var errReadOnly = errors.New("memStore: write in View")

func (tx *memTx) data(domain string) (*memData, error) {
	d, ok := tx.st.data[domain]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", domain)
	}
	return d, nil
}

// write returns the data of domain for a writing method.
func (tx *memTx) write(domain string) (*memData, error) {
	if tx.readOnly {
		return nil, errReadOnly
	}
	return tx.data(domain)
}

func (tx *memTx) liveKey(d *memData, k profiles.Key) bool {
	if k.ObjectKey == "" {
		return true
	}
	o := d.objects[[2]string{k.Origin, k.ObjectKey}]
	return o == nil || live(o, tx.now)
}

func (tx *memTx) FindObjectType(ctx context.Context, domain, name string) (*profiles.ObjectType, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	ot, ok := d.types[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "object type %q not found", name)
	}
	return deepCopy(ot), nil
}

func (tx *memTx) PutObjectType(ctx context.Context, ot *profiles.ObjectType, limit int) error {
	d, err := tx.write(ot.DomainName)
	if err != nil {
		return err
	}
	if old, ok := d.types[ot.Name]; ok {
		ot.CreatedAt = old.CreatedAt
	} else if limit > 0 && len(d.types) >= limit {
		return profiles.Errorf(profiles.EQUOTA, "too many object types")
	} else {
		ot.CreatedAt = stamp(ot.CreatedAt, tx.now)
	}
	ot.LastUpdatedAt = stamp(ot.LastUpdatedAt, tx.now)
	d.types[ot.Name] = deepCopy(ot)
	return nil
}

func (tx *memTx) ListObjectTypes(ctx context.Context, domain, after string, limit int) ([]*profiles.ObjectType, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	var out []*profiles.ObjectType
	for _, name := range slices.Sorted(maps.Keys(d.types)) {
		if name > after && (limit <= 0 || len(out) < limit) {
			out = append(out, deepCopy(d.types[name]))
		}
	}
	return out, nil
}

func (tx *memTx) DeleteObjectType(ctx context.Context, domain, name string) error {
	d, err := tx.write(domain)
	if err != nil {
		return err
	}
	if _, ok := d.types[name]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "object type %q not found", name)
	}
	delete(d.types, name)
	return nil
}

func (tx *memTx) DeleteTypeObjects(ctx context.Context, domain, objectType, after string, before time.Time, limit int) (string, error) {
	d, err := tx.write(domain)
	if err != nil {
		return "", err
	}
	var page []*profiles.ProfileObject
	for _, o := range d.objects {
		if o.ObjectTypeName == objectType && o.UniqueKey > after {
			page = append(page, o)
		}
	}
	slices.SortFunc(page, func(a, b *profiles.ProfileObject) int { return strings.Compare(a.UniqueKey, b.UniqueKey) })
	if limit > 0 && len(page) > limit {
		page = page[:limit]
	}
	if len(page) == 0 {
		return "", nil
	}
	for _, o := range page {
		if before.IsZero() || !o.UpdatedAt.After(before) {
			dropObject(d, o)
			delete(d.objects, [2]string{objectType, o.UniqueKey})
		}
	}
	return page[len(page)-1].UniqueKey, nil
}

func (tx *memTx) FindProfile(ctx context.Context, domain, id string) (*profiles.Profile, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	p, ok := d.profiles[id]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", id)
	}
	return deepCopy(p), nil
}

func (tx *memTx) PutProfile(ctx context.Context, p *profiles.Profile) error {
	d, err := tx.write(p.DomainName)
	if err != nil {
		return err
	}
	if old, ok := d.profiles[p.ID]; ok && p.CreatedAt.IsZero() {
		p.CreatedAt = old.CreatedAt
	}
	p.CreatedAt, p.LastUpdatedAt = stamp(p.CreatedAt, tx.now), stamp(p.LastUpdatedAt, tx.now)
	stored := deepCopy(p)
	for k, src := range stored.Sources {
		src.UpdatedAt = ms(src.UpdatedAt)
		stored.Sources[k] = src
	}
	d.profiles[p.ID] = stored
	return nil
}

func (tx *memTx) DeleteProfile(ctx context.Context, domain, id string) error {
	d, err := tx.write(domain)
	if err != nil {
		return err
	}
	if _, ok := d.profiles[id]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", id)
	}
	delete(d.profiles, id)
	delete(d.buckets, id)
	for k, o := range d.objects {
		if o.ProfileID == id {
			delete(d.objects, k)
		}
	}
	for k := range d.keys {
		if k.ProfileID == id {
			delete(d.keys, k)
		}
	}
	return nil
}

func (tx *memTx) FindIngestBucket(ctx context.Context, domain, profileID string) (*profiles.IngestBucket, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	b, ok := d.buckets[profileID]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "profile %q has no ingest bucket", profileID)
	}
	return &b, nil
}

func (tx *memTx) PutIngestBucket(ctx context.Context, b *profiles.IngestBucket) error {
	d, err := tx.write(b.DomainName)
	if err != nil {
		return err
	}
	if _, ok := d.profiles[b.ProfileID]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", b.ProfileID)
	}
	stored := *b
	stored.UpdatedAt = stamp(b.UpdatedAt, tx.now)
	d.buckets[b.ProfileID] = stored
	return nil
}

func (tx *memTx) TakeIngestToken(ctx context.Context, domain, profileID string, rate, burst float64, now time.Time) (bool, error) {
	d, err := tx.write(domain)
	if err != nil {
		return false, err
	}
	if _, ok := d.profiles[profileID]; !ok {
		return false, profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", profileID)
	}
	b, ok := d.buckets[profileID]
	if !ok {
		b = profiles.IngestBucket{DomainName: domain, ProfileID: profileID, Tokens: burst, UpdatedAt: now}
	}
	b, ok = b.Take(rate, burst, now)
	if !ok {
		return false, nil
	}
	b.UpdatedAt = ms(b.UpdatedAt)
	d.buckets[profileID] = b
	return true, nil
}

func (tx *memTx) FindProfileIDs(ctx context.Context, domain, name, value string) ([]string, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	var ids []string
	for k := range d.keys {
		if k.Name == name && k.Value == value && tx.liveKey(d, k) && !slices.Contains(ids, k.ProfileID) {
			ids = append(ids, k.ProfileID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (tx *memTx) PutKeys(ctx context.Context, keys []profiles.Key) error {
	if tx.readOnly {
		return errReadOnly
	}
	for _, k := range keys {
		d, err := tx.data(k.DomainName)
		if err != nil {
			return err
		}
		if _, ok := d.profiles[k.ProfileID]; !ok {
			return profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", k.ProfileID)
		}
	}
	for _, k := range keys {
		tx.st.data[k.DomainName].keys[k] = true
	}
	return nil
}

func (tx *memTx) DeleteKeys(ctx context.Context, domain, profileID, origin, objectKey string) error {
	d, err := tx.write(domain)
	if err != nil {
		return err
	}
	for k := range d.keys {
		if k.ProfileID == profileID && k.Origin == origin && (objectKey == "" || k.ObjectKey == objectKey) {
			delete(d.keys, k)
		}
	}
	return nil
}

func (tx *memTx) ListKeys(ctx context.Context, domain, profileID string) ([]profiles.Key, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	var out []profiles.Key
	for k := range d.keys {
		if k.ProfileID == profileID && tx.liveKey(d, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (tx *memTx) FindObject(ctx context.Context, domain, objectType, uniqueKey string) (*profiles.ProfileObject, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	o, ok := d.objects[[2]string{objectType, uniqueKey}]
	if !ok || !live(o, tx.now) {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "object %q not found", uniqueKey)
	}
	return deepCopy(o), nil
}

func (tx *memTx) PutObject(ctx context.Context, o *profiles.ProfileObject) error {
	d, err := tx.write(o.DomainName)
	if err != nil {
		return err
	}
	if _, ok := d.profiles[o.ProfileID]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", o.ProfileID)
	}
	k := [2]string{o.ObjectTypeName, o.UniqueKey}
	if old, ok := d.objects[k]; ok && !live(old, tx.now) {
		dropExpired(d, old)
		delete(d.objects, k)
	}
	if old, ok := d.objects[k]; ok && o.CreatedAt.IsZero() {
		o.CreatedAt = old.CreatedAt
	}
	o.CreatedAt, o.UpdatedAt = stamp(o.CreatedAt, tx.now), stamp(o.UpdatedAt, tx.now)
	stored := deepCopy(o)
	stored.SourceLastUpdated = ms(o.SourceLastUpdated)
	if !o.ExpiresAt.IsZero() {
		stored.ExpiresAt = ms(o.ExpiresAt)
	}
	d.objects[k] = stored
	return nil
}

func (tx *memTx) DeleteObject(ctx context.Context, domain, objectType, uniqueKey string) error {
	d, err := tx.write(domain)
	if err != nil {
		return err
	}
	k := [2]string{objectType, uniqueKey}
	o, ok := d.objects[k]
	if !ok || !live(o, tx.now) {
		return profiles.Errorf(profiles.ENOTFOUND, "object %q not found", uniqueKey)
	}
	dropExpired(d, o) // its keys, and the content of its history records
	delete(d.objects, k)
	return nil
}

func (tx *memTx) ClearProfileHistory(ctx context.Context, domain, profileID string) error {
	d, err := tx.write(domain)
	if err != nil {
		return err
	}
	for k, r := range d.history {
		if r.ProfileID == profileID && len(r.Content) > 0 {
			c := deepCopy(r)
			c.Content = nil
			d.history[k] = c
		}
	}
	return nil
}

func (tx *memTx) ListObjects(ctx context.Context, q profiles.ObjectQuery) ([]*profiles.ProfileObject, error) {
	d, err := tx.data(q.DomainName)
	if err != nil {
		return nil, err
	}
	cursor := !q.AfterUpdatedAt.IsZero() || q.AfterUniqueKey != ""
	var out []*profiles.ProfileObject
	for _, o := range d.objects {
		if o.ProfileID != q.ProfileID || o.ObjectTypeName != q.ObjectType || !live(o, tx.now) {
			continue
		}
		if cursor && newestFirst(o, q.AfterUpdatedAt, q.AfterUniqueKey) <= 0 {
			continue
		}
		if q.FilterKey != "" && !slices.ContainsFunc(q.FilterValues, func(v string) bool {
			return d.keys[profiles.Key{DomainName: q.DomainName, Name: q.FilterKey, Value: v, ProfileID: o.ProfileID, Origin: o.ObjectTypeName, ObjectKey: o.UniqueKey}]
		}) {
			continue
		}
		out = append(out, deepCopy(o))
	}
	slices.SortFunc(out, func(a, b *profiles.ProfileObject) int { return newestFirst(a, b.UpdatedAt, b.UniqueKey) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// newestFirst compares o with the position (updated, uniqueKey) in the
// order of ListObjects: > 0 if o comes after it.
func newestFirst(o *profiles.ProfileObject, updated time.Time, uniqueKey string) int {
	return cmp.Or(updated.Compare(o.UpdatedAt), strings.Compare(uniqueKey, o.UniqueKey))
}

func (tx *memTx) ProfileUsage(ctx context.Context, domain, profileID, objectType string) (profiles.ProfileUsage, error) {
	d, err := tx.data(domain)
	if err != nil {
		return profiles.ProfileUsage{}, err
	}
	var u profiles.ProfileUsage
	for _, o := range d.objects {
		if o.ProfileID == profileID && (objectType == "" || o.ObjectTypeName == objectType) && live(o, tx.now) {
			u.Objects++
			u.Bytes += int64(len(o.Data))
		}
	}
	return u, nil
}

// ms returns t to the millisecond, in UTC.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// stamp returns t as stored, or now for a zero t.
func stamp(t, now time.Time) time.Time {
	if t.IsZero() {
		return ms(now)
	}
	return ms(t)
}

// deepCopy copies v through JSON.
func deepCopy[T any](v *T) *T {
	buf, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(buf, &out); err != nil {
		panic(err)
	}
	return &out
}

func (tx *memTx) ListProfileIDs(ctx context.Context, domain, after string, limit int) ([]string, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	var ids []string
	for id := range d.profiles {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

func (tx *memTx) DeleteKeyValues(ctx context.Context, domain, profileID, name string, values []string) (int, error) {
	d, err := tx.write(domain)
	if err != nil {
		return 0, err
	}
	n := 0
	for k := range d.keys {
		if k.ProfileID == profileID && k.Name == name && slices.Contains(values, k.Value) && tx.liveKey(d, k) {
			delete(d.keys, k)
			n++
		}
	}
	return n, nil
}

func (tx *memTx) MoveProfileData(ctx context.Context, domain, from, to string) error {
	d, err := tx.write(domain)
	if err != nil {
		return err
	}
	if from == to {
		return profiles.Errorf(profiles.EINVALID, "same profile")
	}
	for _, id := range []string{from, to} {
		if _, ok := d.profiles[id]; !ok {
			return profiles.Errorf(profiles.ENOTFOUND, "profile %q not found", id)
		}
	}
	for k, o := range d.objects {
		if o.ProfileID == from {
			moved := deepCopy(o)
			moved.ProfileID = to
			d.objects[k] = moved
		}
	}
	for k := range d.keys {
		if k.ProfileID == from && k.Origin != profiles.KeyOriginProfile {
			delete(d.keys, k)
			k.ProfileID = to
			d.keys[k] = true
		}
	}
	return nil
}

func (tx *memTx) PutHistory(ctx context.Context, r *profiles.HistoryRecord) error {
	d, err := tx.write(r.DomainName)
	if err != nil {
		return err
	}
	k := [2]string{r.ProfileID, r.ID}
	if _, ok := d.history[k]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "history record %q exists", r.ID)
	}
	r.CreatedAt, r.LastUpdatedAt = stamp(r.CreatedAt, tx.now), stamp(r.LastUpdatedAt, tx.now)
	d.history[k] = deepCopy(r)
	return nil
}

func (tx *memTx) UpdateHistory(ctx context.Context, r *profiles.HistoryRecord) error {
	d, err := tx.write(r.DomainName)
	if err != nil {
		return err
	}
	old, ok := d.history[[2]string{r.ProfileID, r.ID}]
	if !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "history record %q not found", r.ID)
	}
	c := deepCopy(old)
	c.Content, c.PerformedBy, c.LastUpdatedAt = slices.Clone(r.Content), r.PerformedBy, stamp(r.LastUpdatedAt, tx.now)
	d.history[[2]string{r.ProfileID, r.ID}] = c
	r.LastUpdatedAt = c.LastUpdatedAt
	return nil
}

func (tx *memTx) PutStreamEvents(ctx context.Context, events []*profiles.StreamEvent) error {
	for _, e := range events {
		d, err := tx.write(e.DomainName)
		if err != nil {
			return err
		}
		tx.st.seq++
		e.Seq, e.CreatedAt, e.Attempts = tx.st.seq, stamp(e.CreatedAt, tx.now), 0
		c := *e
		c.Data = slices.Clone(e.Data)
		d.events[c.Seq] = &memEvent{e: c}
	}
	return nil
}

func (tx *memTx) FindHistory(ctx context.Context, domain, profileID, id string) (*profiles.HistoryRecord, error) {
	d, err := tx.data(domain)
	if err != nil {
		return nil, err
	}
	r, ok := d.history[[2]string{profileID, id}]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "history record %q not found", id)
	}
	return deepCopy(r), nil
}

func (tx *memTx) ListHistory(ctx context.Context, q profiles.HistoryQuery) ([]*profiles.HistoryRecord, error) {
	d, err := tx.data(q.DomainName)
	if err != nil {
		return nil, err
	}
	cursor := !q.AfterCreatedAt.IsZero() || q.AfterID != ""
	var out []*profiles.HistoryRecord
	for _, r := range d.history {
		if r.ProfileID != q.ProfileID || (cursor && newestHistoryFirst(r, q.AfterCreatedAt, q.AfterID) <= 0) ||
			(q.ObjectTypeName != "" && r.ObjectTypeName != q.ObjectTypeName) ||
			(q.ObjectKey != "" && r.ObjectKey != q.ObjectKey) ||
			(q.ActionType != "" && r.ActionType != q.ActionType) ||
			(q.PerformedBy != "" && r.PerformedBy != q.PerformedBy) {
			continue
		}
		out = append(out, deepCopy(r))
	}
	slices.SortFunc(out, func(a, b *profiles.HistoryRecord) int { return newestHistoryFirst(a, b.CreatedAt, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// newestHistoryFirst compares r with the position (created, id) in the
// order of ListHistory: > 0 if r comes after it.
func newestHistoryFirst(r *profiles.HistoryRecord, created time.Time, id string) int {
	return cmp.Or(created.Compare(r.CreatedAt), strings.Compare(id, r.ID))
}

// memKMS is the profiles.KMSStore part of a memStore.
type memKMS struct {
	keys    map[string]*profiles.KMSKey
	aliases map[string]*profiles.KMSAlias
	grants  map[string]*profiles.KMSGrant // by grant id
}

// kmsState returns the KMS maps, made on first use; s.mu is held.
func (s *memStore) kmsState() *memKMS {
	if s.st.kms == nil {
		s.st.kms = &memKMS{keys: map[string]*profiles.KMSKey{}, aliases: map[string]*profiles.KMSAlias{},
			grants: map[string]*profiles.KMSGrant{}}
	}
	return s.st.kms
}

// optMS returns t as stored, a zero t as the zero time.
func optMS(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return ms(t)
}

func (s *memStore) CreateKMSKey(ctx context.Context, k *profiles.KMSKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if _, ok := st.keys[k.KeyID]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "key %q exists", k.KeyID)
	}
	k.CreatedAt, k.DeletionDate = stamp(k.CreatedAt, s.now()), optMS(k.DeletionDate)
	st.keys[k.KeyID] = deepCopy(k)
	return nil
}

func (s *memStore) FindKMSKey(ctx context.Context, keyID string) (*profiles.KMSKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.kmsState().keys[keyID]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "key %q not found", keyID)
	}
	return deepCopy(k), nil
}

func (s *memStore) UpdateKMSKey(ctx context.Context, keyID string, fn func(*profiles.KMSKey) error) (*profiles.KMSKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	old, ok := st.keys[keyID]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "key %q not found", keyID)
	}
	k := deepCopy(old)
	if err := fn(k); err != nil {
		return nil, err
	}
	if k.KeyID != old.KeyID || k.ARN != old.ARN || string(k.WrappedMaterial) != string(old.WrappedMaterial) {
		return nil, profiles.Errorf(profiles.EINVALID, "immutable field changed")
	}
	k.CreatedAt, k.DeletionDate = optMS(k.CreatedAt), optMS(k.DeletionDate)
	st.keys[keyID] = deepCopy(k)
	return k, nil
}

func (s *memStore) DeleteKMSKey(ctx context.Context, keyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if _, ok := st.keys[keyID]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "key %q not found", keyID)
	}
	delete(st.keys, keyID)
	maps.DeleteFunc(st.aliases, func(_ string, a *profiles.KMSAlias) bool { return a.KeyID == keyID })
	maps.DeleteFunc(st.grants, func(_ string, g *profiles.KMSGrant) bool { return g.KeyID == keyID })
	return nil
}

// kmsPage returns the values of m whose names sort after after and keep
// says to keep, in name order, up to limit (<= 0: all), deep-copied.
func kmsPage[T any](m map[string]*T, after string, limit int, keep func(*T) bool) []*T {
	var out []*T
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if name > after && keep(m[name]) && (limit <= 0 || len(out) < limit) {
			out = append(out, deepCopy(m[name]))
		}
	}
	return out
}

func (s *memStore) ListKMSKeys(ctx context.Context, after string, limit int) ([]*profiles.KMSKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return kmsPage(s.kmsState().keys, after, limit, func(*profiles.KMSKey) bool { return true }), nil
}

func (s *memStore) CreateKMSAlias(ctx context.Context, a *profiles.KMSAlias) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if _, ok := st.keys[a.KeyID]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "key %q not found", a.KeyID)
	} else if _, ok := st.aliases[a.Name]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "alias %q exists", a.Name)
	}
	a.CreatedAt, a.LastUpdatedAt = stamp(a.CreatedAt, s.now()), stamp(a.LastUpdatedAt, s.now())
	st.aliases[a.Name] = deepCopy(a)
	return nil
}

func (s *memStore) FindKMSAlias(ctx context.Context, name string) (*profiles.KMSAlias, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.kmsState().aliases[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "alias %q not found", name)
	}
	return deepCopy(a), nil
}

func (s *memStore) UpdateKMSAlias(ctx context.Context, name, keyID string, updatedAt time.Time) (*profiles.KMSAlias, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	a, ok := st.aliases[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "alias %q not found", name)
	} else if _, ok := st.keys[keyID]; !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "key %q not found", keyID)
	}
	a = deepCopy(a)
	a.KeyID, a.LastUpdatedAt = keyID, stamp(updatedAt, s.now())
	st.aliases[name] = a
	return deepCopy(a), nil
}

func (s *memStore) DeleteKMSAlias(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if _, ok := st.aliases[name]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "alias %q not found", name)
	}
	delete(st.aliases, name)
	return nil
}

func (s *memStore) ListKMSAliases(ctx context.Context, keyID, after string, limit int) ([]*profiles.KMSAlias, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return kmsPage(s.kmsState().aliases, after, limit, func(a *profiles.KMSAlias) bool {
		return keyID == "" || a.KeyID == keyID
	}), nil
}

func (s *memStore) CreateKMSGrant(ctx context.Context, g *profiles.KMSGrant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if _, ok := st.keys[g.KeyID]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "key %q not found", g.KeyID)
	} else if _, ok := st.grants[g.GrantID]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "grant %q exists", g.GrantID)
	}
	for _, other := range st.grants {
		if other.Token == g.Token {
			return profiles.Errorf(profiles.ECONFLICT, "token taken")
		}
	}
	g.CreatedAt = stamp(g.CreatedAt, s.now())
	st.grants[g.GrantID] = deepCopy(g)
	return nil
}

func (s *memStore) FindKMSGrant(ctx context.Context, keyID, grantID string) (*profiles.KMSGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.kmsState().grants[grantID]
	if !ok || g.KeyID != keyID {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "grant %q not found", grantID)
	}
	return deepCopy(g), nil
}

func (s *memStore) FindKMSGrantByToken(ctx context.Context, token string) (*profiles.KMSGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.kmsState().grants {
		if g.Token == token {
			return deepCopy(g), nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "grant token not found")
}

func (s *memStore) ListKMSGrants(ctx context.Context, keyID, after string, limit int) ([]*profiles.KMSGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if _, ok := st.keys[keyID]; !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "key %q not found", keyID)
	}
	return kmsPage(st.grants, after, limit, func(g *profiles.KMSGrant) bool { return g.KeyID == keyID }), nil
}

func (s *memStore) DeleteKMSGrant(ctx context.Context, keyID, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsState()
	if g, ok := st.grants[grantID]; !ok || g.KeyID != keyID {
		return profiles.Errorf(profiles.ENOTFOUND, "grant %q not found", grantID)
	}
	delete(st.grants, grantID)
	return nil
}

// memIAM is the profiles.IAMStore part of a memStore.
type memIAM struct {
	principals map[string]*profiles.Principal
	keys       map[string]*profiles.AccessKey          // by id
	policies   map[[2]string]*profiles.PrincipalPolicy // by principal and name
	revoked    map[string]time.Time                    // console sessions, by id: their expiry
}

// iamState returns the IAM maps, made on first use; s.mu is held.
func (s *memStore) iamState() *memIAM {
	if s.st.iam == nil {
		s.st.iam = &memIAM{principals: map[string]*profiles.Principal{}, keys: map[string]*profiles.AccessKey{},
			policies: map[[2]string]*profiles.PrincipalPolicy{}, revoked: map[string]time.Time{}}
	}
	return s.st.iam
}

func iamPrincipalNotFound(name string) error {
	return profiles.Errorf(profiles.ENOTFOUND, "principal %q not found", name)
}

// activeKeys counts the active keys of principal but the key except.
func (st *memIAM) activeKeys(principal, except string) int {
	n := 0
	for _, k := range st.keys {
		if k.PrincipalName == principal && k.ID != except && k.Status == profiles.AccessKeyActive {
			n++
		}
	}
	return n
}

func validKeyStatus(status string) error {
	if status != profiles.AccessKeyActive && status != profiles.AccessKeyInactive {
		return profiles.Errorf(profiles.EINVALID, "bad status %q", status)
	}
	return nil
}

func (s *memStore) CreatePrincipal(ctx context.Context, p *profiles.Principal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if p.Type != profiles.PrincipalUser && p.Type != profiles.PrincipalRole {
		return profiles.Errorf(profiles.EINVALID, "bad type %q", p.Type)
	} else if _, ok := st.principals[p.Name]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "principal %q exists", p.Name)
	}
	p.CreatedAt = stamp(p.CreatedAt, s.now())
	st.principals[p.Name] = deepCopy(p)
	return nil
}

func (s *memStore) FindPrincipal(ctx context.Context, name string) (*profiles.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.iamState().principals[name]
	if !ok {
		return nil, iamPrincipalNotFound(name)
	}
	return deepCopy(p), nil
}

func (s *memStore) ListPrincipals(ctx context.Context, typ, after string, limit int) ([]*profiles.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return kmsPage(s.iamState().principals, after, limit, func(p *profiles.Principal) bool {
		return typ == "" || p.Type == typ
	}), nil
}

func (s *memStore) DeletePrincipal(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if _, ok := st.principals[name]; !ok {
		return iamPrincipalNotFound(name)
	}
	delete(st.principals, name)
	maps.DeleteFunc(st.keys, func(_ string, k *profiles.AccessKey) bool { return k.PrincipalName == name })
	maps.DeleteFunc(st.policies, func(k [2]string, _ *profiles.PrincipalPolicy) bool { return k[0] == name })
	return nil
}

func (s *memStore) CreateAccessKey(ctx context.Context, k *profiles.AccessKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if err := validKeyStatus(k.Status); err != nil {
		return err
	} else if _, ok := st.principals[k.PrincipalName]; !ok {
		return iamPrincipalNotFound(k.PrincipalName)
	} else if _, ok := st.keys[k.ID]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "access key %q exists", k.ID)
	} else if k.Status == profiles.AccessKeyActive && st.activeKeys(k.PrincipalName, "") >= profiles.MaxActiveAccessKeys {
		return profiles.Errorf(profiles.EQUOTA, "too many active keys")
	}
	k.CreatedAt, k.LastUsedAt = stamp(k.CreatedAt, s.now()), optMS(k.LastUsedAt)
	st.keys[k.ID] = deepCopy(k)
	return nil
}

func (s *memStore) FindAccessKey(ctx context.Context, id string) (*profiles.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.iamState().keys[id]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "access key %q not found", id)
	}
	return deepCopy(k), nil
}

func (s *memStore) ListAccessKeys(ctx context.Context, principal string) ([]*profiles.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if _, ok := st.principals[principal]; !ok {
		return nil, iamPrincipalNotFound(principal)
	}
	var out []*profiles.AccessKey
	for _, k := range st.keys {
		if k.PrincipalName == principal {
			out = append(out, deepCopy(k))
		}
	}
	slices.SortFunc(out, func(a, b *profiles.AccessKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// key returns the key id of principal, or ENOTFOUND naming what is
// missing; s.mu is held.
func (st *memIAM) key(principal, id string) (*profiles.AccessKey, error) {
	if _, ok := st.principals[principal]; !ok {
		return nil, iamPrincipalNotFound(principal)
	}
	k, ok := st.keys[id]
	if !ok || k.PrincipalName != principal {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "access key %q not found", id)
	}
	return k, nil
}

func (s *memStore) UpdateAccessKeyStatus(ctx context.Context, principal, id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if err := validKeyStatus(status); err != nil {
		return err
	}
	k, err := st.key(principal, id)
	if err != nil {
		return err
	}
	if status == profiles.AccessKeyActive && st.activeKeys(principal, id) >= profiles.MaxActiveAccessKeys {
		return profiles.Errorf(profiles.EQUOTA, "too many active keys")
	}
	k = deepCopy(k)
	k.Status = status
	st.keys[id] = k
	return nil
}

func (s *memStore) TouchAccessKey(ctx context.Context, id string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	k, ok := st.keys[id]
	if !ok {
		return nil
	}
	if used := stamp(t, s.now()); used.After(k.LastUsedAt) {
		k = deepCopy(k)
		k.LastUsedAt = used
		st.keys[id] = k
	}
	return nil
}

func (s *memStore) DeleteAccessKey(ctx context.Context, principal, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if _, err := st.key(principal, id); err != nil {
		return err
	}
	delete(st.keys, id)
	return nil
}

func (s *memStore) PutPrincipalPolicy(ctx context.Context, p *profiles.PrincipalPolicy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if _, ok := st.principals[p.PrincipalName]; !ok {
		return iamPrincipalNotFound(p.PrincipalName)
	}
	p.UpdatedAt = stamp(p.UpdatedAt, s.now())
	st.policies[[2]string{p.PrincipalName, p.PolicyName}] = deepCopy(p)
	return nil
}

// policy returns a policy of principal, or ENOTFOUND naming what is
// missing; s.mu is held.
func (st *memIAM) policy(principal, name string) (*profiles.PrincipalPolicy, error) {
	if _, ok := st.principals[principal]; !ok {
		return nil, iamPrincipalNotFound(principal)
	}
	p, ok := st.policies[[2]string{principal, name}]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "policy %q not found", name)
	}
	return p, nil
}

func (s *memStore) FindPrincipalPolicy(ctx context.Context, principal, name string) (*profiles.PrincipalPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.iamState().policy(principal, name)
	if err != nil {
		return nil, err
	}
	return deepCopy(p), nil
}

func (s *memStore) ListPrincipalPolicies(ctx context.Context, principal string) ([]*profiles.PrincipalPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if _, ok := st.principals[principal]; !ok {
		return nil, iamPrincipalNotFound(principal)
	}
	var out []*profiles.PrincipalPolicy
	for k, p := range st.policies {
		if k[0] == principal {
			out = append(out, deepCopy(p))
		}
	}
	slices.SortFunc(out, func(a, b *profiles.PrincipalPolicy) int { return strings.Compare(a.PolicyName, b.PolicyName) })
	return out, nil
}

func (s *memStore) DeletePrincipalPolicy(ctx context.Context, principal, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	if _, err := st.policy(principal, name); err != nil {
		return err
	}
	delete(st.policies, [2]string{principal, name})
	return nil
}

// memQueues is the profiles.QueueStore part of a memStore.
type memQueues struct {
	queues   map[string]*profiles.Queue
	messages map[string]map[string]*profiles.StoredMessage // by queue name and id
}

// queueState returns the queue maps, made on first use; s.mu is held.
func (s *memStore) queueState() *memQueues {
	if s.st.queues == nil {
		s.st.queues = &memQueues{queues: map[string]*profiles.Queue{}, messages: map[string]map[string]*profiles.StoredMessage{}}
	}
	return s.st.queues
}

// queueMessages returns the messages of a queue, or ENOTFOUND.
func (st *memQueues) queueMessages(name string) (map[string]*profiles.StoredMessage, error) {
	if _, ok := st.queues[name]; !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "queue %q not found", name)
	}
	return st.messages[name], nil
}

// byHandle returns the message of a queue whose last receipt handle is
// handle, or ENOTFOUND.
func (st *memQueues) byHandle(queue, handle string) (*profiles.StoredMessage, error) {
	msgs, err := st.queueMessages(queue)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if handle != "" && m.ReceiptHandle == handle {
			return m, nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "no message with receipt handle %q", handle)
}

func (s *memStore) CreateQueue(ctx context.Context, q *profiles.Queue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.queueState()
	if _, ok := st.queues[q.Name]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "queue %q exists", q.Name)
	}
	q.CreatedAt = stamp(q.CreatedAt, s.now())
	q.UpdatedAt = stamp(q.UpdatedAt, q.CreatedAt)
	st.queues[q.Name] = deepCopy(q)
	st.messages[q.Name] = map[string]*profiles.StoredMessage{}
	return nil
}

func (s *memStore) FindQueue(ctx context.Context, name string) (*profiles.Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queueState().queues[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "queue %q not found", name)
	}
	return deepCopy(q), nil
}

func (s *memStore) ListQueues(ctx context.Context, prefix, after string, limit int) ([]*profiles.Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return kmsPage(s.queueState().queues, after, limit, func(q *profiles.Queue) bool {
		return strings.HasPrefix(q.Name, prefix)
	}), nil
}

func (s *memStore) UpdateQueue(ctx context.Context, name string, fn func(*profiles.Queue) error) (*profiles.Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.queueState()
	old, ok := st.queues[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "queue %q not found", name)
	}
	q := deepCopy(old)
	if err := fn(q); err != nil {
		return nil, err
	} else if q.Name != name {
		return nil, profiles.Errorf(profiles.EINVALID, "rename")
	}
	q.CreatedAt, q.UpdatedAt = stamp(q.CreatedAt, s.now()), stamp(q.UpdatedAt, s.now())
	st.queues[name] = deepCopy(q)
	return deepCopy(q), nil
}

func (s *memStore) DeleteQueue(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.queueState()
	if _, err := st.queueMessages(name); err != nil {
		return err
	}
	delete(st.queues, name)
	delete(st.messages, name)
	return nil
}

func (s *memStore) PutMessage(ctx context.Context, m *profiles.StoredMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.queueState().queueMessages(m.QueueName)
	if err != nil {
		return err
	} else if _, ok := msgs[m.ID]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "message %q exists", m.ID)
	}
	m.SentAt = stamp(m.SentAt, s.now())
	m.VisibleAt, m.FirstReceive = stamp(m.VisibleAt, m.SentAt), optMS(m.FirstReceive)
	msgs[m.ID] = deepCopy(m)
	return nil
}

func (s *memStore) ReceiveMessages(ctx context.Context, queue string, max int, now time.Time, visibility, retention time.Duration, handle func() string) ([]*profiles.StoredMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.queueState().queueMessages(queue)
	if err != nil {
		return nil, err
	} else if max < 1 {
		return nil, profiles.Errorf(profiles.EINVALID, "max %d", max)
	}
	now = ms(now)
	var visible []*profiles.StoredMessage
	for id, m := range msgs {
		if m.VisibleAt.After(now) {
			continue
		} else if retention > 0 && !m.SentAt.After(now.Add(-retention)) {
			delete(msgs, id)
			continue
		}
		visible = append(visible, m)
	}
	slices.SortFunc(visible, func(a, b *profiles.StoredMessage) int {
		return cmp.Or(a.SentAt.Compare(b.SentAt), strings.Compare(a.ID, b.ID))
	})
	var out []*profiles.StoredMessage
	for _, m := range visible[:min(max, len(visible))] {
		m.VisibleAt, m.ReceiptHandle = ms(now.Add(visibility)), handle()
		m.ReceiveCount++
		if m.FirstReceive.IsZero() {
			m.FirstReceive = now
		}
		out = append(out, deepCopy(m))
	}
	return out, nil
}

func (s *memStore) DeleteMessage(ctx context.Context, queue, handle string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.queueState()
	m, err := st.byHandle(queue, handle)
	if err != nil {
		return err
	}
	delete(st.messages[queue], m.ID)
	return nil
}

func (s *memStore) ChangeVisibility(ctx context.Context, queue, handle string, visibleAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.queueState().byHandle(queue, handle)
	if err != nil {
		return err
	}
	m.VisibleAt = ms(visibleAt)
	return nil
}

func (s *memStore) PurgeQueue(ctx context.Context, queue string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.queueState().queueMessages(queue)
	if err != nil {
		return err
	}
	clear(msgs)
	return nil
}

func (s *memStore) CountMessages(ctx context.Context, queue string, now time.Time) (visible, hidden int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.queueState().queueMessages(queue)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		if m.VisibleAt.After(ms(now)) {
			hidden++
		} else {
			visible++
		}
	}
	return visible, hidden, nil
}

// The profiles.IntegrationStore part of a memStore: integrations live in
// their domain's memData, instances in memState.instances.

// integrationOwner returns the domain whose integrations hold uri, and
// false if none does; s.mu is held.
func (s *memStore) integrationOwner(uri string) (string, bool) {
	for name, d := range s.st.data {
		if _, ok := d.integrations[uri]; ok {
			return name, true
		}
	}
	return "", false
}

// integrationData returns the data of a domain, or ENOTFOUND.
func (s *memStore) integrationData(domain string) (*memData, error) {
	d, ok := s.st.data[domain]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", domain)
	}
	return d, nil
}

func (s *memStore) PutIntegration(ctx context.Context, in *profiles.Integration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(in.DomainName)
	if err != nil {
		return err
	}
	if owner, ok := s.integrationOwner(in.URI); ok && owner != in.DomainName {
		return profiles.Errorf(profiles.ECONFLICT, "Uri %s is associated with domain %s", in.URI, owner)
	}
	if old, ok := d.integrations[in.URI]; ok {
		in.CreatedAt = old.CreatedAt
	}
	in.CreatedAt, in.LastUpdatedAt = stamp(in.CreatedAt, s.now()), stamp(in.LastUpdatedAt, s.now())
	d.integrations[in.URI] = deepCopy(in)
	return nil
}

func (s *memStore) FindIntegration(ctx context.Context, domain, uri string) (*profiles.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(domain)
	if err != nil {
		return nil, err
	}
	in, ok := d.integrations[uri]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s in domain %s", uri, domain)
	}
	return deepCopy(in), nil
}

func (s *memStore) FindIntegrationByURI(ctx context.Context, uri string) (*profiles.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, ok := s.integrationOwner(uri)
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s", uri)
	}
	return deepCopy(s.st.data[owner].integrations[uri]), nil
}

func (s *memStore) ListIntegrations(ctx context.Context, domain, after string, limit int) ([]*profiles.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(domain)
	if err != nil {
		return nil, err
	}
	return kmsPage(d.integrations, after, limit, func(*profiles.Integration) bool { return true }), nil
}

func (s *memStore) DeleteIntegration(ctx context.Context, domain, uri string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(domain)
	if err != nil {
		return err
	} else if _, ok := d.integrations[uri]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s in domain %s", uri, domain)
	}
	delete(d.integrations, uri)
	return nil
}

func (s *memStore) UpdateIntegrationTags(ctx context.Context, domain, uri string, fn func(map[string]string) (map[string]string, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(domain)
	if err != nil {
		return err
	}
	old, ok := d.integrations[uri]
	if !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s in domain %s", uri, domain)
	}
	in := deepCopy(old)
	if in.Tags, err = fn(maps.Clone(old.Tags)); err != nil {
		return err
	}
	if len(in.Tags) == 0 {
		in.Tags = nil
	}
	in.LastUpdatedAt = ms(s.now())
	d.integrations[uri] = in
	return nil
}

func (s *memStore) MoveIntegration(ctx context.Context, uri, to string) (*profiles.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(to)
	if err != nil {
		return nil, err
	}
	owner, ok := s.integrationOwner(uri)
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "no integration of Uri %s", uri)
	}
	in := deepCopy(s.st.data[owner].integrations[uri])
	delete(s.st.data[owner].integrations, uri)
	in.DomainName, in.LastUpdatedAt = to, ms(s.now())
	d.integrations[uri] = deepCopy(in)
	return in, nil
}

func (s *memStore) PutInstance(ctx context.Context, in *profiles.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.instances == nil {
		s.st.instances = map[string]*profiles.Instance{}
	}
	for _, old := range s.st.instances {
		if old.ID == in.ID || old.ARN == in.ARN {
			return profiles.Errorf(profiles.ECONFLICT, "instance %q or ARN %s exists", in.ID, in.ARN)
		}
	}
	in.CreatedAt = stamp(in.CreatedAt, s.now())
	s.st.instances[in.ID] = deepCopy(in)
	return nil
}

func (s *memStore) FindInstance(ctx context.Context, id string) (*profiles.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.st.instances[id]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "instance %q not found", id)
	}
	return deepCopy(in), nil
}

func (s *memStore) ListInstances(ctx context.Context) ([]*profiles.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*profiles.Instance
	for _, in := range s.st.instances {
		out = append(out, deepCopy(in))
	}
	slices.SortFunc(out, func(a, b *profiles.Instance) int {
		return cmp.Or(strings.Compare(a.Alias, b.Alias), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// The profiles.ConfigStore part of a memStore: configs live in their
// domain's memData.

func (s *memStore) CreateConfig(ctx context.Context, c *profiles.DomainConfig, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(c.DomainName)
	if err != nil {
		return err
	}
	if _, ok := d.configs[[2]string{c.Kind, c.Name}]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "%s %s exists", c.Kind, c.Name)
	}
	n := 0
	for k := range d.configs {
		if k[0] == c.Kind {
			n++
		}
	}
	if limit > 0 && n >= limit {
		return profiles.Errorf(profiles.EQUOTA, "%d configs of kind %s", n, c.Kind)
	}
	c.CreatedAt = stamp(c.CreatedAt, s.now())
	c.LastUpdatedAt = stamp(c.LastUpdatedAt, c.CreatedAt)
	d.configs[[2]string{c.Kind, c.Name}] = deepCopy(c)
	return nil
}

func (s *memStore) FindConfig(ctx context.Context, domain, kind, name string) (*profiles.DomainConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findConfig(domain, kind, name)
}

// findConfig returns a copy of a config; s.mu is held.
func (s *memStore) findConfig(domain, kind, name string) (*profiles.DomainConfig, error) {
	d, err := s.integrationData(domain)
	if err != nil {
		return nil, err
	}
	c, ok := d.configs[[2]string{kind, name}]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "no %s %s", kind, name)
	}
	return deepCopy(c), nil
}

func (s *memStore) UpdateConfig(ctx context.Context, domain, kind, name string, fn func(*profiles.DomainConfig) error) (*profiles.DomainConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.findConfig(domain, kind, name)
	if err != nil {
		return nil, err
	}
	c := deepCopy(old)
	if err := fn(c); err != nil {
		return nil, err
	}
	if c.DomainName != domain || c.Kind != kind || c.Name != name || !c.CreatedAt.Equal(old.CreatedAt) {
		return nil, profiles.Errorf(profiles.EINVALID, "changes what identifies the config")
	}
	c.LastUpdatedAt = ms(s.now())
	s.st.data[domain].configs[[2]string{kind, name}] = deepCopy(c)
	return c, nil
}

func (s *memStore) UpdateConfigs(ctx context.Context, domain string, keys []profiles.ConfigKey, fn func([]*profiles.DomainConfig) error) ([]*profiles.DomainConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(domain)
	if err != nil {
		return nil, err
	}
	old := make([]*profiles.DomainConfig, len(keys))
	cs := make([]*profiles.DomainConfig, len(keys))
	for i, k := range keys {
		if c, ok := d.configs[[2]string{k.Kind, k.Name}]; ok {
			old[i], cs[i] = deepCopy(c), deepCopy(c)
		}
	}
	if err := fn(cs); err != nil {
		return nil, err
	}
	next := maps.Clone(d.configs)
	for i, c := range cs {
		k := keys[i]
		switch {
		case c == nil:
			continue
		case c.DomainName != domain || c.Kind != k.Kind || c.Name != k.Name || old[i] != nil && !c.CreatedAt.Equal(old[i].CreatedAt):
			return nil, profiles.Errorf(profiles.EINVALID, "changes what identifies the config")
		case old[i] != nil:
			c.LastUpdatedAt = ms(s.now())
		default:
			n := 0
			for kk := range next {
				if kk[0] == k.Kind {
					n++
				}
			}
			if k.Limit > 0 && n >= k.Limit {
				return nil, profiles.Errorf(profiles.EQUOTA, "%d configs of kind %s", n, k.Kind)
			}
			c.CreatedAt = stamp(c.CreatedAt, s.now())
			c.LastUpdatedAt = stamp(c.LastUpdatedAt, c.CreatedAt)
		}
		next[[2]string{k.Kind, k.Name}] = deepCopy(c)
	}
	d.configs = next
	return cs, nil
}

func (s *memStore) DeleteConfig(ctx context.Context, domain, kind, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.findConfig(domain, kind, name); err != nil {
		return err
	}
	delete(s.st.data[domain].configs, [2]string{kind, name})
	return nil
}

func (s *memStore) ListConfigs(ctx context.Context, domain, kind, after string, limit int) ([]*profiles.DomainConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(domain)
	if err != nil {
		return nil, err
	}
	var out []*profiles.DomainConfig
	for k, c := range d.configs {
		if k[0] == kind && k[1] > after {
			out = append(out, deepCopy(c))
		}
	}
	slices.SortFunc(out, func(a, b *profiles.DomainConfig) int { return strings.Compare(a.Name, b.Name) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memStore) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.iamState()
	for k, e := range st.revoked {
		if !e.After(s.now().Add(-profiles.RevocationGrace)) {
			delete(st.revoked, k)
		}
	}
	if e, ok := st.revoked[id]; !ok || expires.After(e) {
		st.revoked[id] = expires
	}
	return nil
}

func (s *memStore) SessionRevoked(ctx context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.iamState().revoked[id]
	return ok, nil
}

// The outbox (profiles.EventOutbox) works on the committed state, in place,
// under the store's lock.

func (s *memStore) ClaimStreamEvents(ctx context.Context, now time.Time, lease, retention time.Duration, limit int) ([]*profiles.StreamEvent, int, error) {
	if limit < 1 {
		return nil, 0, profiles.Errorf(profiles.EINVALID, "limit %d", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now = now.UTC().Truncate(time.Millisecond)
	dropped := 0
	type stream struct {
		d      *memData
		name   string
		lapsed time.Time // zero: never claimed
		events []*memEvent
	}
	byName := map[[2]string]*stream{}
	var ready []*stream
	for domain, d := range s.st.data {
		for seq, m := range d.events {
			if retention > 0 && m.e.CreatedAt.Before(now.Add(-retention)) {
				delete(d.events, seq)
				dropped++
				continue
			}
			until, held := d.claims[m.e.StreamName]
			if held && until.After(now) {
				continue
			}
			k := [2]string{domain, m.e.StreamName}
			st := byName[k]
			if st == nil {
				st = &stream{d: d, name: m.e.StreamName, lapsed: until}
				byName[k] = st
				ready = append(ready, st)
			}
			st.events = append(st.events, m)
		}
	}
	for _, st := range ready {
		slices.SortFunc(st.events, func(a, b *memEvent) int { return cmp.Compare(a.e.Seq, b.e.Seq) })
	}
	slices.SortFunc(ready, func(a, b *stream) int {
		return cmp.Or(a.lapsed.Compare(b.lapsed), cmp.Compare(a.events[0].e.Seq, b.events[0].e.Seq))
	})
	until := now.Add(lease.Truncate(time.Millisecond))
	var out []*profiles.StreamEvent
	for _, st := range ready {
		if len(out) == limit {
			break
		}
		st.d.claims[st.name] = until
		for _, m := range st.events[:min(len(st.events), limit-len(out))] {
			m.e.Attempts++
			c := m.e
			c.Data, c.ClaimedUntil = slices.Clone(m.e.Data), until
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *profiles.StreamEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, dropped, nil
}

func (s *memStore) FinishStreamClaim(ctx context.Context, domain, stream string, claimedUntil time.Time, delivered []int64, release bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.data[domain]
	if !ok {
		return nil
	}
	for _, seq := range delivered {
		if m, ok := d.events[seq]; ok && m.e.StreamName == stream {
			delete(d.events, seq)
		}
	}
	if until, ok := d.claims[stream]; release && ok && until.Equal(claimedUntil.UTC().Truncate(time.Millisecond)) {
		delete(d.claims, stream)
	}
	return nil
}

func (s *memStore) PurgeStreamEvents(ctx context.Context, domain, stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.st.data[domain]; ok {
		for seq, m := range d.events {
			if m.e.StreamName == stream {
				delete(d.events, seq)
			}
		}
		delete(d.claims, stream)
	}
	return nil
}

func (s *memStore) CountStreamEvents(ctx context.Context, domain, stream string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	if d, ok := s.st.data[domain]; ok {
		for _, m := range d.events {
			if m.e.StreamName == stream {
				n++
			}
		}
	}
	return n, nil
}

// The profiles.DeadLetterCopyStore part of a memStore: copies live in
// their domain's memData.

func (s *memStore) PutDeadLetterCopy(ctx context.Context, c *profiles.DeadLetterCopy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.integrationData(c.DomainName)
	if err != nil {
		return err
	}
	c.CreatedAt = stamp(c.CreatedAt, s.now())
	d.copies[c.Name] = deepCopy(c)
	return nil
}

func (s *memStore) FindDeadLetterCopy(ctx context.Context, domain, name string) (*profiles.DeadLetterCopy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.st.data[domain]; ok {
		if c, ok := d.copies[name]; ok {
			return deepCopy(c), nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "no copy %s in domain %s", name, domain)
}

func (s *memStore) DeleteDeadLetterCopy(ctx context.Context, domain, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.st.data[domain]; ok {
		if _, ok := d.copies[name]; ok {
			delete(d.copies, name)
			return nil
		}
	}
	return profiles.Errorf(profiles.ENOTFOUND, "no copy %s in domain %s", name, domain)
}

func (s *memStore) DeleteDeadLetterCopiesBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old []*profiles.DeadLetterCopy
	for _, d := range s.st.data {
		for _, c := range d.copies {
			if c.CreatedAt.Before(before) {
				old = append(old, c)
			}
		}
	}
	slices.SortFunc(old, func(a, b *profiles.DeadLetterCopy) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if limit > 0 && len(old) > limit {
		old = old[:limit]
	}
	for _, c := range old {
		delete(s.st.data[c.DomainName].copies, c.Name)
	}
	return len(old), nil
}
