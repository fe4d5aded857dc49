package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The config cases hold stores that implement profiles.ConfigStore to its
// contract. Every store of this project implements it: a store that does
// not fails them. Besides the contract:
//
//   - Configs read back as stored: Data byte for byte (nil and empty
//     alike), times to the millisecond in UTC.
//   - Kinds are separate: the same name may exist under two kinds, and
//     ListConfigs and the quota count one kind only.
//   - Of concurrent creators of one name, one succeeds and the others get
//     ECONFLICT; of concurrent creators of different names under a limit,
//     exactly limit succeed and the others get EQUOTA.

func testConfig(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, cs, clock := mustOpenConfigs(t, open)
		mustCreateDomains(t, ctx, s, "d")
		at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
		c := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "main", Data: []byte(`{"a":[1,2]}`), CreatedAt: at, LastUpdatedAt: at.Add(time.Hour)}
		mustCreateConfig(t, ctx, cs, c, 0)
		want := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "main", Data: []byte(`{"a":[1,2]}`), CreatedAt: storedTime(at), LastUpdatedAt: storedTime(at.Add(time.Hour))}
		checkKMS(t, "CreateConfig: c", want, c)
		checkKMS(t, "FindConfig", want, mustFindConfig(t, ctx, cs, "d", "layout", "main"))

		// Zero times: the store's clock, LastUpdatedAt = CreatedAt.
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		z := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "zero"}
		mustCreateConfig(t, ctx, cs, z, 0)
		wantZ := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "zero", CreatedAt: storedTime(clock.Now()), LastUpdatedAt: storedTime(clock.Now())}
		checkKMS(t, "CreateConfig(zero): c", wantZ, z)
		checkKMS(t, "FindConfig(zero)", wantZ, mustFindConfig(t, ctx, cs, "d", "layout", "zero"))

		// The same name under another kind is another config.
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "other", Name: "main", Data: []byte("x")}, 0)
		if got := mustFindConfig(t, ctx, cs, "d", "layout", "main"); string(got.Data) != `{"a":[1,2]}` {
			t.Errorf("layout main: data %q after creating other main", got.Data)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		ctx := t.Context()
		s, cs, _ := mustOpenConfigs(t, open)
		mustCreateDomains(t, ctx, s, "d")
		err := cs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "nope", Kind: "layout", Name: "a"}, 0)
		checkNotFound(t, "CreateConfig(missing domain)", err, "nope")
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "a", Data: []byte("1")}, 0)
		err = cs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "a", Data: []byte("2")}, 0)
		checkCode(t, "CreateConfig(existing)", err, profiles.ECONFLICT)
		if !strings.Contains(profiles.ErrorMessage(err), "a") {
			t.Errorf("ECONFLICT %q does not name the config", profiles.ErrorMessage(err))
		}
		if got := mustFindConfig(t, ctx, cs, "d", "layout", "a"); string(got.Data) != "1" {
			t.Errorf("a refused create changed the config: %q", got.Data)
		}
		for op, err := range map[string]error{
			"FindConfig":   findErr(cs.FindConfig(ctx, "d", "layout", "missing")),
			"DeleteConfig": cs.DeleteConfig(ctx, "d", "layout", "missing"),
			"UpdateConfig": findErr(cs.UpdateConfig(ctx, "d", "layout", "missing", func(*profiles.DomainConfig) error { return nil })),
		} {
			checkNotFound(t, op, err, "missing")
		}
		checkNotFound(t, "FindConfig(other kind)", findErr(cs.FindConfig(ctx, "d", "other", "a")), "a")
		for op, err := range map[string]error{
			"FindConfig":   findErr(cs.FindConfig(ctx, "nope", "layout", "a")),
			"DeleteConfig": cs.DeleteConfig(ctx, "nope", "layout", "a"),
			"UpdateConfig": findErr(cs.UpdateConfig(ctx, "nope", "layout", "a", func(*profiles.DomainConfig) error { return nil })),
			"ListConfigs":  listErr(cs.ListConfigs(ctx, "nope", "layout", "", 0)),
		} {
			checkNotFound(t, op+"(missing domain)", err, "nope")
		}
	})

	t.Run("Update", func(t *testing.T) {
		ctx := t.Context()
		s, cs, clock := mustOpenConfigs(t, open)
		mustCreateDomains(t, ctx, s, "d")
		c := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "a", Data: []byte("one")}
		mustCreateConfig(t, ctx, cs, c, 0)
		clock.Add(time.Hour + 1500*time.Microsecond)
		got, err := cs.UpdateConfig(ctx, "d", "layout", "a", func(c *profiles.DomainConfig) error {
			if string(c.Data) != "one" {
				return fmt.Errorf("fn got data %q", c.Data)
			}
			c.Data = []byte("two")
			c.LastUpdatedAt = time.Time{} // the store's clock decides
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateConfig: %v", err)
		}
		want := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "a", Data: []byte("two"), CreatedAt: c.CreatedAt, LastUpdatedAt: storedTime(clock.Now())}
		checkKMS(t, "UpdateConfig", want, got)
		checkKMS(t, "FindConfig", want, mustFindConfig(t, ctx, cs, "d", "layout", "a"))

		// fn's error aborts; changing what identifies the config is EINVALID.
		boom := errors.New("boom")
		if _, err := cs.UpdateConfig(ctx, "d", "layout", "a", func(c *profiles.DomainConfig) error { c.Data = []byte("lost"); return boom }); !errors.Is(err, boom) {
			t.Errorf("UpdateConfig with fn's error: %v, want it as is", err)
		}
		for what, change := range map[string]func(*profiles.DomainConfig){
			"domain":  func(c *profiles.DomainConfig) { c.DomainName = "e" },
			"kind":    func(c *profiles.DomainConfig) { c.Kind = "other" },
			"name":    func(c *profiles.DomainConfig) { c.Name = "b" },
			"created": func(c *profiles.DomainConfig) { c.CreatedAt = c.CreatedAt.Add(time.Hour) },
		} {
			_, err := cs.UpdateConfig(ctx, "d", "layout", "a", func(c *profiles.DomainConfig) error { change(c); c.Data = []byte("lost"); return nil })
			checkCode(t, "UpdateConfig changing the "+what, err, profiles.EINVALID)
		}
		checkKMS(t, "FindConfig after refused updates", want, mustFindConfig(t, ctx, cs, "d", "layout", "a"))
	})

	t.Run("UpdateConfigs", func(t *testing.T) {
		ctx := t.Context()
		s, cs, clock := mustOpenConfigs(t, open)
		mustCreateDomains(t, ctx, s, "d")
		a := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "a", Data: []byte("one")}
		mustCreateConfig(t, ctx, cs, a, 0)
		keys := []profiles.ConfigKey{{Kind: "layout", Name: "a"}, {Kind: "pick", Name: "p"}}
		clock.Add(time.Hour)
		// One read, one missing: the first is updated, the second inserted.
		got, err := cs.UpdateConfigs(ctx, "d", keys, func(l []*profiles.DomainConfig) error {
			if len(l) != 2 || l[0] == nil || string(l[0].Data) != "one" || l[1] != nil {
				return fmt.Errorf("fn got %+v", l)
			}
			l[0].Data = []byte("two")
			l[1] = &profiles.DomainConfig{DomainName: "d", Kind: "pick", Name: "p", Data: []byte("a")}
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateConfigs: %v", err)
		}
		now := storedTime(clock.Now())
		wantA := &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "a", Data: []byte("two"), CreatedAt: a.CreatedAt, LastUpdatedAt: now}
		wantP := &profiles.DomainConfig{DomainName: "d", Kind: "pick", Name: "p", Data: []byte("a"), CreatedAt: now, LastUpdatedAt: now}
		checkKMS(t, "UpdateConfigs", []*profiles.DomainConfig{wantA, wantP}, got)
		checkKMS(t, "FindConfig(a)", wantA, mustFindConfig(t, ctx, cs, "d", "layout", "a"))
		checkKMS(t, "FindConfig(p)", wantP, mustFindConfig(t, ctx, cs, "d", "pick", "p"))

		// An entry set to nil is not written.
		got, err = cs.UpdateConfigs(ctx, "d", keys, func(l []*profiles.DomainConfig) error {
			l[0].Data, l[1] = []byte("three"), nil
			return nil
		})
		if err != nil || got[1] != nil || string(got[0].Data) != "three" {
			t.Fatalf("UpdateConfigs leaving p: %+v, %v", got, err)
		}
		checkKMS(t, "FindConfig(p) left", wantP, mustFindConfig(t, ctx, cs, "d", "pick", "p"))
		wantA.Data = []byte("three")

		// All or nothing: fn's error, a refused entry or a quota past
		// writes none of them, the others' changes neither.
		boom := errors.New("boom")
		if _, err := cs.UpdateConfigs(ctx, "d", keys, func(l []*profiles.DomainConfig) error {
			l[0].Data, l[1].Data = []byte("lost"), []byte("lost")
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("UpdateConfigs with fn's error: %v, want it as is", err)
		}
		_, err = cs.UpdateConfigs(ctx, "d", keys, func(l []*profiles.DomainConfig) error {
			l[0].Data, l[1].Data, l[1].Name = []byte("lost"), []byte("lost"), "q"
			return nil
		})
		checkCode(t, "UpdateConfigs renaming its second entry", err, profiles.EINVALID)
		_, err = cs.UpdateConfigs(ctx, "d", append(keys, profiles.ConfigKey{Kind: "layout", Name: "new", Limit: 1}), func(l []*profiles.DomainConfig) error {
			l[0].Data, l[1].Data = []byte("lost"), []byte("lost")
			l[2] = &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "new"}
			return nil
		})
		checkCode(t, "UpdateConfigs creating past a limit", err, profiles.EQUOTA)
		checkKMS(t, "FindConfig(a) after refused changes", wantA, mustFindConfig(t, ctx, cs, "d", "layout", "a"))
		checkKMS(t, "FindConfig(p) after refused changes", wantP, mustFindConfig(t, ctx, cs, "d", "pick", "p"))
		checkNotFound(t, "FindConfig(new) after a refused create", findErr(cs.FindConfig(ctx, "d", "layout", "new")), "new")
		_, err = cs.UpdateConfigs(ctx, "nope", keys, func([]*profiles.DomainConfig) error { return nil })
		checkNotFound(t, "UpdateConfigs(missing domain)", err, "nope")

		// Concurrent changes of two configs are one after another: each
		// appends to both, which end equal and with all the appends.
		codes, errs := concurrently(8, func(i int) error {
			_, err := cs.UpdateConfigs(ctx, "d", []profiles.ConfigKey{{Kind: "pair", Name: "x"}, {Kind: "pair", Name: "y"}}, func(l []*profiles.DomainConfig) error {
				for j, name := range []string{"x", "y"} {
					if l[j] == nil {
						l[j] = &profiles.DomainConfig{DomainName: "d", Kind: "pair", Name: name}
					}
					l[j].Data = append(l[j].Data, byte('0'+i))
				}
				return nil
			})
			return err
		})
		checkCodes(t, "UpdateConfigs concurrently", codes, map[string]int{"": 8}, errs)
		x, y := mustFindConfig(t, ctx, cs, "d", "pair", "x"), mustFindConfig(t, ctx, cs, "d", "pair", "y")
		if len(x.Data) != 8 || string(x.Data) != string(y.Data) {
			t.Errorf("after 8 concurrent UpdateConfigs: x %q, y %q; want the same 8 appends", x.Data, y.Data)
		}
	})

	t.Run("ListAndDelete", func(t *testing.T) {
		ctx := t.Context()
		s, cs, _ := mustOpenConfigs(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		for _, name := range []string{"b", "a", "B", "c-1", "c"} {
			mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: name, Data: []byte(name)}, 0)
		}
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "other", Name: "aa"}, 0)
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "e", Kind: "layout", Name: "ab"}, 0)
		checkKMS(t, "ListConfigs", []string{"B", "a", "b", "c", "c-1"}, configNames(mustListConfigs(t, ctx, cs, "d", "layout", "", 0)))
		checkKMS(t, "ListConfigs(after a, 2)", []string{"b", "c"}, configNames(mustListConfigs(t, ctx, cs, "d", "layout", "a", 2)))
		checkKMS(t, "ListConfigs(other)", []string{"aa"}, configNames(mustListConfigs(t, ctx, cs, "d", "other", "", 0)))
		checkKMS(t, "ListConfigs(none)", []string(nil), configNames(mustListConfigs(t, ctx, cs, "d", "none", "", 0)))
		if l := mustListConfigs(t, ctx, cs, "d", "layout", "b", 1); len(l) != 1 || string(l[0].Data) != "c" {
			t.Errorf("ListConfigs returns data %+v", l)
		}

		if err := cs.DeleteConfig(ctx, "d", "layout", "b"); err != nil {
			t.Fatalf("DeleteConfig: %v", err)
		}
		checkNotFound(t, "FindConfig(deleted)", findErr(cs.FindConfig(ctx, "d", "layout", "b")), "b")
		checkKMS(t, "ListConfigs after delete", []string{"B", "a", "c", "c-1"}, configNames(mustListConfigs(t, ctx, cs, "d", "layout", "", 0)))

		// Deleting a domain deletes its configs, and a new domain of the
		// same name starts with none.
		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatal(err)
		}
		mustCreateDomains(t, ctx, s, "d")
		checkKMS(t, "ListConfigs of a new domain d", []string(nil), configNames(mustListConfigs(t, ctx, cs, "d", "layout", "", 0)))
		checkKMS(t, "ListConfigs(e)", []string{"ab"}, configNames(mustListConfigs(t, ctx, cs, "e", "layout", "", 0)))
	})

	t.Run("Concurrent", func(t *testing.T) {
		ctx := t.Context()
		s, cs, _ := mustOpenConfigs(t, open)
		mustCreateDomains(t, ctx, s, "d")
		codes, errs := concurrently(8, func(i int) error {
			return cs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "d", Kind: "layout", Name: "same", Data: []byte{byte(i)}}, 0)
		})
		checkCodes(t, "CreateConfig of one name", codes, map[string]int{"": 1, profiles.ECONFLICT: 7}, errs)

		// A quota of 3 configs of a kind: one exists, so two of eight new
		// names go in.
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "quota", Name: "first"}, 3)
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "other", Name: "free"}, 3)
		codes, errs = concurrently(8, func(i int) error {
			return cs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "d", Kind: "quota", Name: fmt.Sprint("n", i)}, 3)
		})
		checkCodes(t, "CreateConfig under a limit", codes, map[string]int{"": 2, profiles.EQUOTA: 6}, errs)
		if n := len(mustListConfigs(t, ctx, cs, "d", "quota", "", 0)); n != 3 {
			t.Errorf("%d configs of kind quota, want 3", n)
		}

		// Concurrent updates of one config all apply, one after another.
		mustCreateConfig(t, ctx, cs, &profiles.DomainConfig{DomainName: "d", Kind: "counter", Name: "c", Data: []byte("")}, 0)
		codes, errs = concurrently(8, func(i int) error {
			_, err := cs.UpdateConfig(ctx, "d", "counter", "c", func(c *profiles.DomainConfig) error {
				c.Data = append(c.Data, 'x')
				return nil
			})
			return err
		})
		checkCodes(t, "UpdateConfig concurrently", codes, map[string]int{"": 8}, errs)
		if got := mustFindConfig(t, ctx, cs, "d", "counter", "c"); string(got.Data) != "xxxxxxxx" {
			t.Errorf("after 8 concurrent appends: %q", got.Data)
		}
	})
}

// mustOpenConfigs opens a store and returns it, also as a ConfigStore, or
// fails t if it does not implement it.
func mustOpenConfigs(t *testing.T, open OpenFunc) (profiles.Store, profiles.ConfigStore, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	cs, ok := s.(profiles.ConfigStore)
	if !ok {
		t.Fatalf("%T does not implement profiles.ConfigStore: every store must (domain configs such as layouts live there)", s)
	}
	return s, cs, c
}

func mustCreateConfig(tb testing.TB, ctx context.Context, cs profiles.ConfigStore, c *profiles.DomainConfig, limit int) {
	tb.Helper()
	if err := cs.CreateConfig(ctx, c, limit); err != nil {
		tb.Fatalf("CreateConfig(%s %s %s): %v", c.DomainName, c.Kind, c.Name, err)
	}
}

func mustFindConfig(tb testing.TB, ctx context.Context, cs profiles.ConfigStore, domain, kind, name string) *profiles.DomainConfig {
	tb.Helper()
	c, err := cs.FindConfig(ctx, domain, kind, name)
	if err != nil {
		tb.Fatalf("FindConfig(%s %s %s): %v", domain, kind, name, err)
	}
	return c
}

func mustListConfigs(tb testing.TB, ctx context.Context, cs profiles.ConfigStore, domain, kind, after string, limit int) []*profiles.DomainConfig {
	tb.Helper()
	l, err := cs.ListConfigs(ctx, domain, kind, after, limit)
	if err != nil {
		tb.Fatalf("ListConfigs(%s %s): %v", domain, kind, err)
	}
	return l
}

func configNames(l []*profiles.DomainConfig) []string {
	var out []string
	for _, c := range l {
		out = append(out, c.Name)
	}
	return out
}

func findErr(_ *profiles.DomainConfig, err error) error   { return err }
func listErr(_ []*profiles.DomainConfig, err error) error { return err }
