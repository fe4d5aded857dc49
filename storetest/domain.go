package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/openprofiles/profiles"
)

func testCreateDomain(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		d := fullDomain("full")
		if zero := zeroFields("Domain", reflect.ValueOf(d)); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		mustCreateDomain(t, ctx, s, d)
		checkDomain(t, "CreateDomain: d", d, stored(fullDomain("full")))
		checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "full"), stored(fullDomain("full")))
	})

	t.Run("NilSettingsStayNil", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		d := fullDomain("partial")
		d.Matching = nil
		d.RuleBasedMatching = &profiles.RuleBasedMatchingSettings{Enabled: true, MatchingRules: [][]string{{"EmailAddress"}}}
		d.DataStore = &profiles.DataStoreSettings{}
		want := stored(d)
		mustCreateDomain(t, ctx, s, d)
		checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "partial"), want)

		mustCreateDomain(t, ctx, s, &profiles.Domain{Name: "bare", DefaultExpirationDays: 1, CreatedAt: want.CreatedAt, LastUpdatedAt: want.CreatedAt})
		got := mustFindDomain(t, ctx, s, "bare")
		if got.Matching != nil || got.RuleBasedMatching != nil || got.DataStore != nil {
			t.Errorf("FindDomain: settings=%+v, %+v, %+v; want nil, nil, nil", got.Matching, got.RuleBasedMatching, got.DataStore)
		}
	})

	t.Run("NoTags", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			tags map[string]string
		}{
			{"Nil", nil},
			{"Empty", map[string]string{}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				d := fullDomain("d")
				d.Tags = tt.tags
				mustCreateDomain(t, ctx, s, d)
				got := mustFindDomain(t, ctx, s, "d")
				if len(got.Tags) != 0 {
					t.Errorf("FindDomain: Tags=%v, want none", got.Tags)
				}
				checkDomain(t, "FindDomain", got, stored(d))
			})
		}
	})

	t.Run("ZeroTimesSetByStore", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenClock(t, open)
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		d := &profiles.Domain{Name: "d", DefaultExpirationDays: 7}
		mustCreateDomain(t, ctx, s, d)
		got := mustFindDomain(t, ctx, s, "d")
		if want := storedTime(clock.Now()); !got.CreatedAt.Equal(want) {
			t.Errorf("FindDomain: CreatedAt=%v, want the store's time %v", got.CreatedAt, want)
		}
		if got, want := got.LastUpdatedAt, got.CreatedAt; !got.Equal(want) {
			t.Errorf("FindDomain: LastUpdatedAt=%v, want CreatedAt %v", got, want)
		}
		checkDomain(t, "CreateDomain: d", d, got)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("d"))
		other := &profiles.Domain{Name: "d", DefaultExpirationDays: 1, Tags: map[string]string{"k": "v"}}
		for _, limit := range []int{0, 1, 10} {
			checkCode(t, fmt.Sprintf("CreateDomain(limit %d)", limit), s.CreateDomain(ctx, other, limit), profiles.ECONFLICT)
		}
		checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "d"), stored(fullDomain("d")))
	})

	t.Run("ErrQuota", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		for i := range 3 {
			if err := s.CreateDomain(ctx, fullDomain(fmt.Sprintf("d%d", i)), 3); err != nil {
				t.Fatalf("CreateDomain(d%d): %v", i, err)
			}
		}
		checkCode(t, "CreateDomain(4th)", s.CreateDomain(ctx, fullDomain("d3"), 3), profiles.EQUOTA)
		_, err := s.FindDomain(ctx, "d3")
		checkCode(t, "FindDomain(4th)", err, profiles.ENOTFOUND)
		if got, want := listNames(t, ctx, s), []string{"d0", "d1", "d2"}; !slices.Equal(got, want) {
			t.Errorf("ListDomains: %q, want %q", got, want)
		}
	})

	t.Run("NoLimit", func(t *testing.T) {
		for _, limit := range []int{0, -1} {
			t.Run(fmt.Sprint(limit), func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				for i := range 12 {
					if err := s.CreateDomain(ctx, &profiles.Domain{Name: fmt.Sprintf("d%02d", i)}, limit); err != nil {
						t.Fatalf("CreateDomain(d%02d, limit %d): %v", i, limit, err)
					}
				}
			})
		}
	})

	t.Run("ConcurrentQuota", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		codes, errs := concurrently(20, func(i int) error {
			return s.CreateDomain(ctx, fullDomain(fmt.Sprintf("d%02d", i)), 5)
		})
		checkCodes(t, "CreateDomain", codes, map[string]int{"": 5, profiles.EQUOTA: 15}, errs)
		if got := listNames(t, ctx, s); len(got) != 5 {
			t.Errorf("ListDomains: %d domains %q, want 5", len(got), got)
		}
		for i, err := range errs {
			if err == nil {
				checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, fmt.Sprintf("d%02d", i)), stored(fullDomain(fmt.Sprintf("d%02d", i))))
			}
		}
	})

	t.Run("ConcurrentSameName", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		codes, errs := concurrently(10, func(i int) error {
			d := fullDomain("same")
			d.DefaultExpirationDays = i + 1
			return s.CreateDomain(ctx, d, 0)
		})
		checkCodes(t, "CreateDomain", codes, map[string]int{"": 1, profiles.ECONFLICT: 9}, errs)
		got := mustFindDomain(t, ctx, s, "same")
		if winner := slices.IndexFunc(errs, func(err error) bool { return err == nil }); winner >= 0 {
			if got, want := got.DefaultExpirationDays, winner+1; got != want {
				t.Errorf("FindDomain: DefaultExpirationDays=%d, want %d (the winner's)", got, want)
			}
		}
	})
}

func testFindDomain(t *testing.T, open OpenFunc) {
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "a", "c")
		for _, name := range []string{"b", "A", "a ", "", "c%", "c_"} {
			_, err := s.FindDomain(ctx, name)
			checkCode(t, fmt.Sprintf("FindDomain(%q)", name), err, profiles.ENOTFOUND)
		}
	})
}

func testUpdateDomain(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("d"))
		update := func(d *profiles.Domain) error {
			d.DefaultExpirationDays = 30
			d.DefaultEncryptionKey = ""
			d.DeadLetterQueueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/other"
			d.Matching = nil
			d.RuleBasedMatching.Status = "PENDING"
			d.RuleBasedMatching.MatchingRules = append(d.RuleBasedMatching.MatchingRules, []string{"FirstName", "LastName"})
			d.RuleBasedMatching.AttributeTypesSelector = nil
			d.DataStore.Readiness.ProgressPercentage = new(100)
			d.Tags["new"] = "tag"
			delete(d.Tags, "env")
			d.LastUpdatedAt = d.LastUpdatedAt.Add(36*time.Hour + 1500*time.Microsecond)
			return nil
		}
		want := stored(fullDomain("d"))
		update(want)
		want = stored(want)

		got, err := s.UpdateDomain(ctx, "d", update)
		if err != nil {
			t.Fatalf("UpdateDomain: %v", err)
		}
		checkDomain(t, "UpdateDomain", got, want)
		checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "d"), want)
	})

	t.Run("ErrFn", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			err  error
		}{
			{"Plain", errors.New("storetest: fn failed")},
			{"Coded", profiles.Errorf(profiles.EINVALID, "bad setting")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ctx, s := t.Context(), mustOpen(t, open)
				mustCreateDomain(t, ctx, s, fullDomain("d"))
				got, err := s.UpdateDomain(ctx, "d", func(d *profiles.Domain) error {
					d.DefaultExpirationDays = 1
					d.Tags["changed"] = "yes"
					d.DataStore = nil
					return tt.err
				})
				if !errors.Is(err, tt.err) {
					t.Fatalf("UpdateDomain: err=%v, want %v", err, tt.err)
				}
				if got, want := profiles.ErrorCode(err), profiles.ErrorCode(tt.err); got != want {
					t.Errorf("UpdateDomain: code=%q, want %q", got, want)
				}
				if got != nil {
					t.Errorf("UpdateDomain: domain=%+v, want nil", got)
				}
				checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "d"), stored(fullDomain("d")))
			})
		}
	})

	t.Run("ErrRename", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("d"))
		_, err := s.UpdateDomain(ctx, "d", func(d *profiles.Domain) error {
			d.Name, d.DefaultExpirationDays = "e", 1
			return nil
		})
		checkCode(t, "UpdateDomain", err, profiles.EINVALID)
		checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "d"), stored(fullDomain("d")))
		if got, want := listNames(t, ctx, s), []string{"d"}; !slices.Equal(got, want) {
			t.Errorf("ListDomains: %q, want %q", got, want)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "a")
		called := false
		_, err := s.UpdateDomain(ctx, "b", func(*profiles.Domain) error { called = true; return nil })
		checkCode(t, "UpdateDomain", err, profiles.ENOTFOUND)
		if called {
			t.Errorf("UpdateDomain: fn called for a missing domain")
		}
		if got, want := listNames(t, ctx, s), []string{"a"}; !slices.Equal(got, want) {
			t.Errorf("ListDomains: %q, want %q", got, want)
		}
	})

	t.Run("ConcurrentNoLostUpdates", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		d := fullDomain("d")
		d.Tags = nil
		mustCreateDomain(t, ctx, s, d)
		const n = 10
		codes, errs := concurrently(n, func(i int) error {
			_, err := s.UpdateDomain(ctx, "d", func(d *profiles.Domain) error {
				if d.Tags == nil {
					d.Tags = map[string]string{}
				}
				d.Tags[fmt.Sprintf("k%d", i)] = fmt.Sprint(i)
				d.DefaultExpirationDays++
				return nil
			})
			return err
		})
		checkCodes(t, "UpdateDomain", codes, map[string]int{"": n}, errs)

		want := map[string]string{}
		for i := range n {
			want[fmt.Sprintf("k%d", i)] = fmt.Sprint(i)
		}
		got := mustFindDomain(t, ctx, s, "d")
		if diff := cmp.Diff(want, got.Tags); diff != "" {
			t.Errorf("FindDomain: tags mismatch (-want +got):\n%s", diff)
		}
		if got, want := got.DefaultExpirationDays, d.DefaultExpirationDays+n; got != want {
			t.Errorf("FindDomain: DefaultExpirationDays=%d, want %d", got, want)
		}
	})
}

func testDeleteDomain(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("a"))
		mustCreateDomain(t, ctx, s, fullDomain("b"))
		if err := s.DeleteDomain(ctx, "a"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		_, err := s.FindDomain(ctx, "a")
		checkCode(t, "FindDomain(deleted)", err, profiles.ENOTFOUND)
		checkDomain(t, "FindDomain(other)", mustFindDomain(t, ctx, s, "b"), stored(fullDomain("b")))
		_, err = s.DomainStats(ctx, "a")
		checkCode(t, "DomainStats(deleted)", err, profiles.ENOTFOUND)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "a")
		checkCode(t, "DeleteDomain(missing)", s.DeleteDomain(ctx, "b"), profiles.ENOTFOUND)
		if err := s.DeleteDomain(ctx, "a"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		checkCode(t, "DeleteDomain(again)", s.DeleteDomain(ctx, "a"), profiles.ENOTFOUND)
	})

	t.Run("NameReusable", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("d"))
		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		again := &profiles.Domain{Name: "d", DefaultExpirationDays: 2, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		again.LastUpdatedAt = again.CreatedAt
		if err := s.CreateDomain(ctx, again, 1); err != nil {
			t.Fatalf("CreateDomain(again, limit 1): %v", err)
		}
		checkDomain(t, "FindDomain", mustFindDomain(t, ctx, s, "d"), again)
	})
	testDeleteDomainData(t, open)
}

func testListDomains(t *testing.T, open OpenFunc) {
	t.Run("Empty", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		for _, limit := range []int{0, 1, 100} {
			ds, err := s.ListDomains(ctx, "", limit)
			if err != nil {
				t.Fatalf("ListDomains(limit %d): %v", limit, err)
			} else if len(ds) != 0 {
				t.Errorf("ListDomains(limit %d): %q, want none", limit, names(ds))
			}
		}
	})

	t.Run("ByteOrder", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		// Upper case before lower case, '-' < '.' < '_', a prefix first,
		// UTF-8 after ASCII: the order of the bytes, not of a collation.
		want := []string{"A", "Z", "a", "a-1", "a.1", "a_1", "a_10", "a_2", "b", "z", "é"}
		scrambled := slices.Clone(want)
		slices.Reverse(scrambled)
		scrambled[2], scrambled[7] = scrambled[7], scrambled[2]
		mustCreateDomains(t, ctx, s, scrambled...)
		ds, err := s.ListDomains(ctx, "", 100)
		if err != nil {
			t.Fatalf("ListDomains: %v", err)
		}
		if got := names(ds); !slices.Equal(got, want) {
			t.Errorf("ListDomains: %q, want %q", got, want)
		}
	})

	t.Run("FullDomains", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("a"))
		mustCreateDomain(t, ctx, s, fullDomain("b"))
		ds, err := s.ListDomains(ctx, "", 10)
		if err != nil {
			t.Fatalf("ListDomains: %v", err)
		}
		if len(ds) != 2 {
			t.Fatalf("ListDomains: %q, want [a b]", names(ds))
		}
		checkDomain(t, "ListDomains[0]", ds[0], stored(fullDomain("a")))
		checkDomain(t, "ListDomains[1]", ds[1], stored(fullDomain("b")))
	})

	t.Run("Paging", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		var all []string
		for i := range 25 {
			all = append(all, fmt.Sprintf("d%02d", (i*7)%25)) // created out of order
		}
		mustCreateDomains(t, ctx, s, all...)
		slices.Sort(all)

		var got []string
		var sizes []int
		after := ""
		for range 10 { // 4 pages and an empty one, with room to spare
			ds, err := s.ListDomains(ctx, after, 7)
			if err != nil {
				t.Fatalf("ListDomains(%q, 7): %v", after, err)
			}
			sizes = append(sizes, len(ds))
			if len(ds) == 0 {
				break
			}
			got = append(got, names(ds)...)
			after = ds[len(ds)-1].Name
		}
		if !slices.Equal(got, all) {
			t.Errorf("pages visited %q, want %q", got, all)
		}
		if want := []int{7, 7, 7, 4, 0}; !slices.Equal(sizes, want) {
			t.Errorf("page sizes %v, want %v", sizes, want)
		}
	})

	t.Run("After", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d1", "d3", "d5", "d7")
		for _, tt := range []struct {
			name  string
			after string
			limit int
			want  []string
		}{
			{"Start", "", 10, []string{"d1", "d3", "d5", "d7"}},
			{"Existing", "d3", 10, []string{"d5", "d7"}},
			{"Missing", "d4", 10, []string{"d5", "d7"}},
			{"MissingPrefix", "d3x", 10, []string{"d5", "d7"}},
			{"BeforeAll", "a", 10, []string{"d1", "d3", "d5", "d7"}},
			{"Last", "d7", 10, nil},
			{"AfterAll", "z", 10, nil},
			{"Limit", "d1", 2, []string{"d3", "d5"}},
			{"LimitLargerThanCount", "", 1000, []string{"d1", "d3", "d5", "d7"}},
			{"NoLimit", "d1", 0, []string{"d3", "d5", "d7"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ds, err := s.ListDomains(ctx, tt.after, tt.limit)
				if err != nil {
					t.Fatalf("ListDomains(%q, %d): %v", tt.after, tt.limit, err)
				}
				if got := names(ds); !slices.Equal(got, tt.want) {
					t.Errorf("ListDomains(%q, %d): %q, want %q", tt.after, tt.limit, got, tt.want)
				}
			})
		}
	})
}

func testDomainStats(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomain(t, ctx, s, fullDomain("d"))
		got, err := s.DomainStats(ctx, "d")
		if err != nil {
			t.Fatalf("DomainStats: %v", err)
		}
		if diff := cmp.Diff(&profiles.DomainStats{}, got); diff != "" {
			t.Errorf("DomainStats: mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		_, err := s.DomainStats(ctx, "e")
		checkCode(t, "DomainStats", err, profiles.ENOTFOUND)
	})
	testDomainStatsCounts(t, open)
}
