package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// world is a small domain's worth of profile data: two object types, two
// profiles, three objects and keys of every origin.
type world struct {
	domain   string
	types    []*profiles.ObjectType
	profiles []*profiles.Profile
	objects  []*profiles.ProfileObject
	keys     []profiles.Key
}

func newWorld(domain string) *world {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	p1, p2 := fullProfile(domain, profileID(1)), fullProfile(domain, profileID(2))
	p2.Fields = map[string]string{"FirstName": "Ana", "EmailAddress": "ana@example.com"}
	p2.Sources = nil
	c1 := newObject(domain, "CTR", "contact-1", p1.ID, at)
	c2 := newObject(domain, "CTR", "contact-2", p1.ID, at.Add(time.Minute))
	o1 := newObject(domain, "Orders", "order-1", p2.ID, at)
	c2.ExpiresAt = clockStart().Add(24 * time.Hour)
	return &world{
		domain:   domain,
		types:    []*profiles.ObjectType{fullObjectType(domain, "CTR"), fullObjectType(domain, "Orders")},
		profiles: []*profiles.Profile{p1, p2},
		objects:  []*profiles.ProfileObject{c1, c2, o1},
		keys: []profiles.Key{
			{DomainName: domain, Name: "_phone", Value: "+33612345678", ProfileID: p1.ID, Origin: profiles.KeyOriginProfile},
			{DomainName: domain, Name: "_email", Value: "ana@example.com", ProfileID: p2.ID, Origin: profiles.KeyOriginProfile},
			{DomainName: domain, Name: "_account", Value: "A-1", ProfileID: p2.ID, Origin: profiles.KeyOriginAPI},
			objectKey(c1, "_phone", "+33612345678"),
			objectKey(c1, "contactId", "contact-1"),
			objectKey(c2, "contactId", "contact-2"),
			objectKey(o1, "orderId", "order-1"),
		},
	}
}

// values returns the world as arguments of mustPut.
func (w *world) values() []any {
	var out []any
	for _, ot := range w.types {
		out = append(out, ot)
	}
	for _, p := range w.profiles {
		out = append(out, p)
	}
	for _, o := range w.objects {
		out = append(out, o)
	}
	return append(out, w.keys)
}

// checkWorld checks that s holds the world as stored.
func checkWorld(tb testing.TB, ctx context.Context, s profiles.Store, w *world) {
	tb.Helper()
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		for _, want := range w.types {
			got, err := tx.FindObjectType(ctx, w.domain, want.Name)
			if err != nil {
				return fmt.Errorf("FindObjectType(%q): %w", want.Name, err)
			}
			checkEqual(tb, "FindObjectType", storedObjectType(want), got)
		}
		for _, want := range w.profiles {
			got, err := tx.FindProfile(ctx, w.domain, want.ID)
			if err != nil {
				return fmt.Errorf("FindProfile(%q): %w", want.ID, err)
			}
			checkEqual(tb, "FindProfile", storedProfile(want), got)
		}
		for _, want := range w.objects {
			got, err := tx.FindObject(ctx, w.domain, want.ObjectTypeName, want.UniqueKey)
			if err != nil {
				return fmt.Errorf("FindObject(%q, %q): %w", want.ObjectTypeName, want.UniqueKey, err)
			}
			checkEqual(tb, "FindObject", storedObject(want), got)
		}
		return nil
	})
	for _, p := range w.profiles {
		var want []profiles.Key
		for _, k := range w.keys {
			if k.ProfileID == p.ID {
				want = append(want, k)
			}
		}
		checkEqual(tb, "ListKeys("+p.ID+")", sortedKeys(want...), mustListKeys(tb, ctx, s, w.domain, p.ID))
	}
}

// checkNoWorld checks that s holds nothing of the world (its domain exists).
func checkNoWorld(tb testing.TB, ctx context.Context, s profiles.Store, w *world) {
	tb.Helper()
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		for _, ot := range w.types {
			_, err := tx.FindObjectType(ctx, w.domain, ot.Name)
			checkNotFound(tb, "FindObjectType("+ot.Name+")", err, ot.Name)
		}
		if ots, err := tx.ListObjectTypes(ctx, w.domain, "", 0); err != nil || len(ots) > 0 {
			tb.Errorf("ListObjectTypes: %d types, err %v; want none", len(ots), err)
		}
		for _, p := range w.profiles {
			_, err := tx.FindProfile(ctx, w.domain, p.ID)
			checkNotFound(tb, "FindProfile("+p.ID+")", err, p.ID)
			if keys, err := tx.ListKeys(ctx, w.domain, p.ID); err != nil || len(keys) > 0 {
				tb.Errorf("ListKeys(%q): %v, err %v; want none", p.ID, keys, err)
			}
		}
		for _, o := range w.objects {
			_, err := tx.FindObject(ctx, w.domain, o.ObjectTypeName, o.UniqueKey)
			checkNotFound(tb, "FindObject("+o.UniqueKey+")", err, o.UniqueKey)
		}
		for _, k := range w.keys {
			if ids, err := tx.FindProfileIDs(ctx, w.domain, k.Name, k.Value); err != nil || len(ids) > 0 {
				tb.Errorf("FindProfileIDs(%q, %q): %q, err %v; want none", k.Name, k.Value, ids, err)
			}
		}
		return nil
	})
	if got := mustStats(tb, ctx, s, w.domain); got != (profiles.DomainStats{}) {
		tb.Errorf("DomainStats: %+v, want zero", got)
	}
}

func testUpdate(t *testing.T, open OpenFunc) {
	t.Run("CommitsEverything", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		w := newWorld("d")
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, w.values()...)
		checkWorld(t, ctx, s, w)
	})

	t.Run("SeesItsOwnWrites", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p := fullProfile("d", profileID(1))
		o := newObject("d", "CTR", "c1", p.ID, clockStart())
		k := objectKey(o, "_phone", "+1")
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			if err := tx.PutProfile(ctx, p); err != nil {
				return err
			}
			if err := tx.PutObject(ctx, o); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{k}); err != nil {
				return err
			}
			if got, err := tx.FindProfile(ctx, "d", p.ID); err != nil {
				return err
			} else {
				checkEqual(t, "FindProfile", storedProfile(p), got)
			}
			if got, err := tx.FindObject(ctx, "d", "CTR", "c1"); err != nil {
				return err
			} else {
				checkEqual(t, "FindObject", storedObject(o), got)
			}
			if ids, err := tx.FindProfileIDs(ctx, "d", "_phone", "+1"); err != nil {
				return err
			} else if !slices.Equal(ids, []string{p.ID}) {
				t.Errorf("FindProfileIDs: %q, want [%q]", ids, p.ID)
			}
			return nil
		})
	})

	t.Run("ErrFnRollsBackEverything", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			err  error
		}{
			{"Plain", errors.New("storetest: fn failed")},
			{"Coded", profiles.Errorf(profiles.EQUOTA, "too many")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				mustCreateDomains(t, ctx, s, "d")
				before := newWorld("d")
				before.types, before.objects = before.types[:1], before.objects[:2]
				before.keys = before.keys[:1]
				mustPut(t, ctx, s, before.values()...)

				w := newWorld("d")
				err := s.Update(ctx, func(tx profiles.Tx) error {
					for _, ot := range w.types {
						ot.Description = "changed"
						if err := tx.PutObjectType(ctx, ot, 0); err != nil {
							return err
						}
					}
					for _, p := range w.profiles {
						p.Fields = map[string]string{"FirstName": "Changed"}
						if err := tx.PutProfile(ctx, p); err != nil {
							return err
						}
					}
					if err := tx.PutKeys(ctx, w.keys); err != nil {
						return err
					}
					for _, o := range w.objects {
						o.Data = []byte(`{"changed":true}`)
						if err := tx.PutObject(ctx, o); err != nil {
							return err
						}
					}
					if err := tx.DeleteObject(ctx, "d", "CTR", "contact-1"); err != nil {
						return err
					}
					if err := tx.DeleteKeys(ctx, "d", profileID(1), profiles.KeyOriginProfile, ""); err != nil {
						return err
					}
					return tt.err
				})
				if !errors.Is(err, tt.err) {
					t.Fatalf("Update: err=%v, want %v as is", err, tt.err)
				}
				checkCode(t, "Update", err, profiles.ErrorCode(tt.err))
				checkWorld(t, ctx, s, before)
				_, err = findObject(t, ctx, s, "d", "Orders", "order-1")
				checkNotFound(t, "FindObject(rolled back)", err, "order-1")
				err = s.View(ctx, func(tx profiles.Tx) error {
					_, err := tx.FindObjectType(ctx, "d", "Orders")
					return err
				})
				checkNotFound(t, "FindObjectType(rolled back)", err, "Orders")
				if ids := mustFindProfileIDs(t, ctx, s, "d", "_account", "A-1"); len(ids) > 0 {
					t.Errorf("FindProfileIDs(rolled back key): %q, want none", ids)
				}
			})
		}
	})

	t.Run("FindNotFoundThenCreate", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		p := fullProfile("d", profileID(1))
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error {
			_, err := tx.FindProfile(ctx, "d", p.ID)
			checkCode(t, "FindProfile", err, profiles.ENOTFOUND)
			_, err = tx.FindObjectType(ctx, "d", "CTR")
			checkCode(t, "FindObjectType", err, profiles.ENOTFOUND)
			_, err = tx.FindObject(ctx, "d", "CTR", "c1")
			checkCode(t, "FindObject", err, profiles.ENOTFOUND)
			return tx.PutProfile(ctx, p)
		})
		checkWorld(t, ctx, s, &world{domain: "d", profiles: []*profiles.Profile{p}})
	})

	t.Run("ConcurrentFindOrCreate", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		const n = 16
		ids := make([]string, n)
		codes, errs := concurrently(n, func(i int) error {
			return s.Update(ctx, func(tx profiles.Tx) error {
				found, err := tx.FindProfileIDs(ctx, "d", "_email", "same@example.com")
				if err != nil {
					return err
				} else if len(found) > 0 {
					ids[i] = found[0]
					return nil
				}
				p := &profiles.Profile{DomainName: "d", ID: profileID(100 + i), Fields: map[string]string{"EmailAddress": "same@example.com"}}
				if err := tx.PutProfile(ctx, p); err != nil {
					return err
				}
				ids[i] = p.ID
				return tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_email", Value: "same@example.com", ProfileID: p.ID, Origin: profiles.KeyOriginProfile}})
			})
		})
		checkCodes(t, "Update", codes, map[string]int{"": n}, errs)
		got := mustFindProfileIDs(t, ctx, s, "d", "_email", "same@example.com")
		if len(got) != 1 {
			t.Fatalf("FindProfileIDs: %q, want one profile", got)
		}
		for i, id := range ids {
			if id != got[0] {
				t.Errorf("goroutine %d: profile %q, want %q", i, id, got[0])
			}
		}
		if st := mustStats(t, ctx, s, "d"); st.ProfileCount != 1 {
			t.Errorf("DomainStats: ProfileCount=%d, want 1", st.ProfileCount)
		}
	})

	t.Run("ConcurrentObjectsOnDifferentProfiles", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		const n = 16
		codes, errs := concurrently(n, func(i int) error {
			return s.Update(ctx, func(tx profiles.Tx) error {
				p := &profiles.Profile{DomainName: "d", ID: profileID(i), Fields: map[string]string{"FirstName": strconv.Itoa(i)}}
				if err := tx.PutProfile(ctx, p); err != nil {
					return err
				}
				o := newObject("d", "CTR", fmt.Sprintf("c%02d", i), p.ID, clockStart())
				if err := tx.PutObject(ctx, o); err != nil {
					return err
				}
				return tx.PutKeys(ctx, []profiles.Key{objectKey(o, "contactId", o.UniqueKey)})
			})
		})
		checkCodes(t, "Update", codes, map[string]int{"": n}, errs)
		for i := range n {
			want := []*profiles.ProfileObject{storedObject(newObject("d", "CTR", fmt.Sprintf("c%02d", i), profileID(i), clockStart()))}
			checkEqual(t, "ListObjects", want, mustListObjects(t, ctx, s, profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: profileID(i)}))
			if ids := mustFindProfileIDs(t, ctx, s, "d", "contactId", fmt.Sprintf("c%02d", i)); !slices.Equal(ids, []string{profileID(i)}) {
				t.Errorf("FindProfileIDs(c%02d): %q, want [%q]", i, ids, profileID(i))
			}
		}
		if st := mustStats(t, ctx, s, "d"); st.ProfileCount != n || st.ObjectCount != n {
			t.Errorf("DomainStats: %+v, want %d profiles and objects", st, n)
		}
	})

	t.Run("ConcurrentNoLostUpdates", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1), Fields: map[string]string{"Attributes.n": "0"}})
		const n = 16
		codes, errs := concurrently(n, func(i int) error {
			return s.Update(ctx, func(tx profiles.Tx) error {
				p, err := tx.FindProfile(ctx, "d", profileID(1))
				if err != nil {
					return err
				}
				v, err := strconv.Atoi(p.Fields["Attributes.n"])
				if err != nil {
					return err
				}
				p.Fields["Attributes.n"] = strconv.Itoa(v + 1)
				return tx.PutProfile(ctx, p)
			})
		})
		checkCodes(t, "Update", codes, map[string]int{"": n}, errs)
		mustView(t, ctx, s, func(tx profiles.Tx) error {
			p, err := tx.FindProfile(ctx, "d", profileID(1))
			if err != nil {
				return err
			}
			if got, want := p.Fields["Attributes.n"], strconv.Itoa(n); got != want {
				t.Errorf("FindProfile: Attributes.n=%s, want %s", got, want)
			}
			return nil
		})
	})
}

func testView(t *testing.T, open OpenFunc) {
	t.Run("SeesCommittedState", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		w := newWorld("d")
		mustPut(t, ctx, s, w.values()...)
		checkWorld(t, ctx, s, w) // checkWorld reads in View
	})

	t.Run("ErrFn", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		want := profiles.Errorf(profiles.EINVALID, "bad")
		if err := s.View(ctx, func(profiles.Tx) error { return want }); !errors.Is(err, want) {
			t.Errorf("View: err=%v, want %v as is", err, want)
		}
	})

	t.Run("ErrWrite", func(t *testing.T) {
		other := newWorld("d") // what the writes would write
		for _, ot := range other.types {
			ot.Description = "changed"
		}
		for _, p := range other.profiles {
			p.ID = profileID(9)
		}
		for _, tt := range []struct {
			name  string
			write func(ctx context.Context, tx profiles.Tx) error
		}{
			{"PutObjectType", func(ctx context.Context, tx profiles.Tx) error { return tx.PutObjectType(ctx, other.types[0], 0) }},
			{"DeleteObjectType", func(ctx context.Context, tx profiles.Tx) error { return tx.DeleteObjectType(ctx, "d", "CTR") }},
			{"PutProfile", func(ctx context.Context, tx profiles.Tx) error { return tx.PutProfile(ctx, other.profiles[0]) }},
			{"DeleteProfile", func(ctx context.Context, tx profiles.Tx) error { return tx.DeleteProfile(ctx, "d", profileID(1)) }},
			{"PutKeys", func(ctx context.Context, tx profiles.Tx) error {
				return tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "n", Value: "v", ProfileID: profileID(1), Origin: profiles.KeyOriginAPI}})
			}},
			{"DeleteKeys", func(ctx context.Context, tx profiles.Tx) error {
				return tx.DeleteKeys(ctx, "d", profileID(1), profiles.KeyOriginProfile, "")
			}},
			{"PutObject", func(ctx context.Context, tx profiles.Tx) error {
				return tx.PutObject(ctx, newObject("d", "CTR", "new", profileID(1), clockStart()))
			}},
			{"DeleteObject", func(ctx context.Context, tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", "contact-1") }},
			{"DeleteKeyValues", func(ctx context.Context, tx profiles.Tx) error {
				_, err := tx.DeleteKeyValues(ctx, "d", profileID(1), "_phone", []string{"+33612345678"})
				return err
			}},
			{"MoveProfileData", func(ctx context.Context, tx profiles.Tx) error {
				return tx.MoveProfileData(ctx, "d", profileID(1), profileID(2))
			}},
			{"PutHistory", func(ctx context.Context, tx profiles.Tx) error {
				return tx.PutHistory(ctx, fullHistory("d", profileID(1), historyID(1)))
			}},
			{"ClearProfileHistory", func(ctx context.Context, tx profiles.Tx) error { return tx.ClearProfileHistory(ctx, "d", profileID(1)) }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				mustCreateDomains(t, ctx, s, "d")
				w := newWorld("d")
				mustPut(t, ctx, s, w.values()...)
				var werr error
				err := s.View(ctx, func(tx profiles.Tx) error {
					werr = tt.write(ctx, tx)
					return werr
				})
				if werr == nil {
					t.Errorf("%s in View: err=nil, want an error", tt.name)
				} else if !errors.Is(err, werr) {
					t.Errorf("View: err=%v, want fn's %v", err, werr)
				}
				checkWorld(t, ctx, s, w)
				_, err = findObject(t, ctx, s, "d", "CTR", "new")
				checkCode(t, "FindObject(new)", err, profiles.ENOTFOUND)
				_, err = findHistory(t, ctx, s, "d", profileID(1), historyID(1))
				checkCode(t, "FindHistory", err, profiles.ENOTFOUND)
			})
		}
	})
}

// testDomainStatsCounts runs the DomainStats cases on profile data.
func testDomainStatsCounts(t *testing.T, open OpenFunc) {
	// counts[i] objects for profile i; metering per profile: 1, 1, 1, 2, 2, 3.
	counts := []int{0, 1, 100, 101, 200, 201}
	wantMetering := int64(1 + 1 + 1 + 2 + 2 + 3)

	populate := func(t *testing.T, ctx context.Context, s profiles.Store, domain string, expiresAt time.Time) (want profiles.DomainStats) {
		t.Helper()
		var values []any
		for i, n := range counts {
			p := &profiles.Profile{DomainName: domain, ID: profileID(i), Fields: map[string]string{"FirstName": "Name" + strconv.Itoa(i), "Attributes.x": ""}}
			values = append(values, p)
			want.ProfileCount++
			want.TotalSize += profileBytes(p)
			for j := range n {
				o := newObject(domain, "CTR", fmt.Sprintf("p%d-o%03d", i, j), p.ID, clockStart())
				o.Data = append(o.Data, make([]byte, i)...)
				if j == n-1 {
					o.ExpiresAt = expiresAt // the last object of each profile
				}
				values = append(values, o)
				want.ObjectCount++
				want.TotalSize += int64(len(o.Data))
			}
		}
		want.MeteringProfileCount = wantMetering
		mustPut(t, ctx, s, values...)
		return want
	}

	t.Run("CountsProfilesObjectsAndBytes", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "other")
		want := populate(t, ctx, s, "d", time.Time{})
		populate(t, ctx, s, "other", time.Time{})
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "other", ID: profileID(99), Fields: map[string]string{"FirstName": "x"}})
		checkEqual(t, "DomainStats", want, mustStats(t, ctx, s, "d"))
	})

	t.Run("LeavesOutExpiredObjects", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		mustCreateDomains(t, ctx, s, "d")
		expiresAt := clockStart().Add(time.Hour)
		want := populate(t, ctx, s, "d", expiresAt)
		checkEqual(t, "DomainStats before expiry", want, mustStats(t, ctx, s, "d"))

		clock.Set(expiresAt)
		for i, n := range counts {
			if n > 0 {
				want.ObjectCount--
				want.TotalSize -= int64(len(newObject("d", "CTR", fmt.Sprintf("p%d-o%03d", i, n-1), profileID(i), clockStart()).Data) + i)
			}
		}
		want.MeteringProfileCount = 1 + 1 + 1 + 1 + 2 + 2 // 0, 0, 99, 100, 199, 200 objects
		checkEqual(t, "DomainStats after expiry", want, mustStats(t, ctx, s, "d"))
	})
}

// testDeleteDomainData runs the DeleteDomain cases on profile data.
func testDeleteDomainData(t *testing.T, open OpenFunc) {
	t.Run("DeletesEverything", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		w, kept := newWorld("d"), newWorld("e")
		mustPut(t, ctx, s, w.values()...)
		mustPut(t, ctx, s, kept.values()...)
		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		err := s.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.FindProfile(ctx, "d", profileID(1))
			return err
		})
		checkNotFound(t, "FindProfile in deleted domain", err, `"d"`)

		mustCreateDomains(t, ctx, s, "d") // the name again: nothing of the old one shows
		checkNoWorld(t, ctx, s, w)
		checkWorld(t, ctx, s, kept)
	})
}
