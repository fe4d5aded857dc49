package service_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/sqlite"
)

// TestFormDrafts_Bounded: an owner keeps its newest MaxFormDrafts drafts in
// a domain (a new one replaces its oldest, whatever the other owners do),
// each of at most MaxFormDraftSize bytes, so the store holds at most
// MaxFormDrafts drafts per owner however many it sends; they go after
// FormDraftTTL, with the sweep.
func TestFormDrafts_Bounded(t *testing.T) {
	s, _, clock := newDraftService(t, nil)
	ctx := t.Context()
	owner, other := "owner-aaaaaaaaaaaaaaaa", "other-bbbbbbbbbbbbbbbb"
	name := func(i int) string { return "draft-name-" + strconv.Itoa(1000+i) + "-xxxxxx" }
	const sent = 3*profiles.MaxFormDrafts + 5
	for i := range sent {
		if err := s.KeepFormDraft(ctx, "d", owner, name(i), []byte("form "+strconv.Itoa(i))); err != nil {
			t.Fatalf("KeepFormDraft %d: %v", i, err)
		}
		if i == 0 {
			if err := s.KeepFormDraft(ctx, "d", other, name(i), []byte("other's form")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range sent {
		got, err := s.FormDraft(ctx, "d", owner, name(i))
		if kept := i >= sent-profiles.MaxFormDrafts; kept {
			if err != nil || string(got) != "form "+strconv.Itoa(i) {
				t.Errorf("draft %d: %q, %v; want it (one of the newest %d)", i, got, err, profiles.MaxFormDrafts)
			}
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			t.Errorf("draft %d: %q, %v; want ENOTFOUND (replaced by newer ones)", i, got, err)
		}
	}
	if got, err := s.FormDraft(ctx, "d", other, name(0)); err != nil || string(got) != "other's form" {
		t.Errorf("the other owner's draft: %q, %v; want it kept", got, err)
	}
	if _, err := s.FormDraft(ctx, "d", other, name(sent-1)); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("an owner's draft read as another's: %v, want ENOTFOUND", err)
	}
	// Kept again under its name: in its slot, replacing nothing else.
	if err := s.KeepFormDraft(ctx, "d", owner, name(sent-1), []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FormDraft(ctx, "d", owner, name(sent-profiles.MaxFormDrafts)); err != nil || string(got) != "form "+strconv.Itoa(sent-profiles.MaxFormDrafts) {
		t.Errorf("the oldest kept draft after a draft kept again: %q, %v", got, err)
	}
	if got, err := s.FormDraft(ctx, "d", owner, name(sent-1)); err != nil || string(got) != "again" {
		t.Errorf("a draft kept again: %q, %v", got, err)
	}
	configs, err := s.Configs.ListConfigs(ctx, "d", profiles.ConfigFormToken, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	// The owner's slots and index, the other's slot and index.
	if want := profiles.MaxFormDrafts + 1 + 1 + 1; len(configs) != want {
		t.Errorf("%d records after %d drafts of one owner and 1 of another, want %d", len(configs), sent, want)
	}

	if err := s.KeepFormDraft(ctx, "d", owner, name(sent), make([]byte, profiles.MaxFormDraftSize+1)); profiles.ErrorCode(err) != profiles.EINVALID ||
		!strings.Contains(profiles.ErrorMessage(err), "limit") {
		t.Errorf("a draft over MaxFormDraftSize: %v, want EINVALID naming the limit", err)
	}
	if err := s.KeepFormDraft(ctx, "d", owner, name(sent), make([]byte, profiles.MaxFormDraftSize)); err != nil {
		t.Errorf("a draft of MaxFormDraftSize: %v", err)
	}

	*clock = clock.Add(profiles.FormDraftTTL + time.Second)
	if _, err := s.FormDraft(ctx, "d", owner, name(sent)); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("a draft after FormDraftTTL: %v, want ENOTFOUND", err)
	}
	if n, err := s.SweepFormTokens(ctx); err != nil || n != len(configs) {
		t.Errorf("sweep: %d, %v; want %d", n, err, len(configs))
	}
}

// raceDelete is a ConfigStore that calls before, once, when asked to
// delete a config: what another request does between the sweep's reading
// of a record and its deletion.
type raceDelete struct {
	profiles.ConfigStore
	before func()
}

func (r *raceDelete) DeleteConfig(ctx context.Context, domain, kind, name string) error {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.ConfigStore.DeleteConfig(ctx, domain, kind, name)
}

// TestFormDrafts_KeptWhileSwept: a draft kept while the sweep deletes the
// owner's expired drafts (read before it was kept, deleted after) is kept:
// the sweep deletes the expired records it read, not the new draft (the
// ring reused the oldest draft's record, the one the sweep deletes, and
// the index that the new draft's reading went through).
func TestFormDrafts_KeptWhileSwept(t *testing.T) {
	race := &raceDelete{}
	s, db, clock := newDraftService(t, func(db profiles.ConfigStore) profiles.ConfigStore {
		race.ConfigStore = db
		return race
	})
	ctx := t.Context()
	owner := "owner-aaaaaaaaaaaaaaaa"
	name := func(i int) string { return "draft-name-" + strconv.Itoa(1000+i) + "-xxxxxx" }
	for i := range profiles.MaxFormDrafts {
		if err := s.KeepFormDraft(ctx, "d", owner, name(i), []byte("old")); err != nil {
			t.Fatal(err)
		}
	}
	*clock = clock.Add(profiles.FormDraftTTL + time.Second)
	fresh := name(profiles.MaxFormDrafts)
	race.before = func() {
		if err := s.KeepFormDraft(ctx, "d", owner, fresh, []byte("fresh")); err != nil {
			t.Errorf("KeepFormDraft during the sweep: %v", err)
		}
	}
	if _, err := s.SweepFormTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if race.before != nil {
		t.Fatal("the sweep deleted nothing")
	}
	if got, err := s.FormDraft(ctx, "d", owner, fresh); err != nil || string(got) != "fresh" {
		t.Errorf("a draft kept while the sweep ran: %q, %v; want it kept", got, err)
	}
	for i := range profiles.MaxFormDrafts {
		if _, err := s.FormDraft(ctx, "d", owner, name(i)); profiles.ErrorCode(err) != profiles.ENOTFOUND {
			t.Errorf("expired draft %d: %v, want ENOTFOUND", i, err)
		}
	}
	// The next sweep leaves the fresh draft alone, and a later one deletes it.
	if n, err := s.SweepFormTokens(ctx); err != nil {
		t.Fatal(err)
	} else if got, err := s.FormDraft(ctx, "d", owner, fresh); err != nil || string(got) != "fresh" {
		t.Errorf("the fresh draft after another sweep (%d deleted): %q, %v", n, got, err)
	}
	*clock = clock.Add(profiles.FormDraftTTL + time.Second)
	if _, err := s.SweepFormTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if configs, err := db.ListConfigs(ctx, "d", profiles.ConfigFormToken, "", 0); err != nil || len(configs) != 0 {
		t.Errorf("records after the last sweep: %d, %v; want none", len(configs), err)
	}
}

// draftHookedConfigs runs after, once, after the first UpdateConfigs made while
// armed is set.
type draftHookedConfigs struct {
	profiles.ConfigStore
	armed bool
	after func()
}

func (h *draftHookedConfigs) UpdateConfigs(ctx context.Context, domain string, keys []profiles.ConfigKey, fn func([]*profiles.DomainConfig) error) ([]*profiles.DomainConfig, error) {
	out, err := h.ConfigStore.UpdateConfigs(ctx, domain, keys, fn)
	if h.armed {
		h.armed = false
		h.after()
	}
	return out, err
}

// TestFormDrafts_EvictedWhileKept: a draft whose place in its owner's index
// is taken by newer drafts while it is being kept (other requests of the
// owner between its two writes) does not outlive the cap: the store holds
// MaxFormDrafts drafts of the owner after. When the index was written
// before the draft's record, the record came after its eviction's delete
// and stayed (one draft too many, seen under load on two nodes).
func TestFormDrafts_EvictedWhileKept(t *testing.T) {
	hooked := &draftHookedConfigs{}
	s, db, _ := newDraftService(t, func(db profiles.ConfigStore) profiles.ConfigStore {
		hooked.ConfigStore = db
		return hooked
	})
	ctx := t.Context()
	owner := "owner-aaaaaaaaaaaaaaaa"
	name := func(i int) string { return "draft-name-" + strconv.Itoa(1000+i) + "-xxxxxx" }
	hooked.after = func() {
		for i := range profiles.MaxFormDrafts {
			if err := s.KeepFormDraft(ctx, "d", owner, name(i), []byte("meanwhile")); err != nil {
				t.Errorf("KeepFormDraft %d meanwhile: %v", i, err)
			}
		}
	}
	hooked.armed = true
	if err := s.KeepFormDraft(ctx, "d", owner, "draft-name-late-xxxxxxx", []byte("late")); err != nil {
		t.Fatal(err)
	}
	configs, err := db.ListConfigs(ctx, "d", profiles.ConfigFormToken, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	drafts := 0
	for _, c := range configs {
		if strings.HasPrefix(c.Name, "draft.") {
			drafts++
		}
	}
	if drafts != profiles.MaxFormDrafts {
		t.Errorf("%d drafts of one owner in the store after %d kept, want %d", drafts, profiles.MaxFormDrafts+1, profiles.MaxFormDrafts)
	}
	if got, err := s.FormDraft(ctx, "d", owner, "draft-name-late-xxxxxxx"); err != nil || string(got) != "late" {
		t.Errorf("the draft kept last: %q, %v; want it", got, err)
	}
}

// newDraftService returns a service on a new SQLite store, with a KMS key,
// a domain "d" and a clock, whose configs are the store's, or what wrap
// makes of them.
func newDraftService(t *testing.T, wrap func(profiles.ConfigStore) profiles.ConfigStore) (*service.Service, *sqlite.DB, *time.Time) {
	t.Helper()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := MustOpenSQLite(t)
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: time.Now}
	key, err := k.EnsureDefaultKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s := serviceOn(db, &clock)
	s.Keys, s.DefaultKey, s.Configs = k, key, db
	if wrap != nil {
		s.Configs = wrap(db)
	}
	if _, err := s.CreateDomain(t.Context(), &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	return s, db, &clock
}
