package storetest

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The integration cases hold stores that implement profiles.IntegrationStore
// (integrations and contact-center instances) to its contract. Every store
// of this project implements it: a store that does not fails them (a
// skipped case would hide a missing component in CI). Besides the contract:
//
//   - Integrations and instances read back as stored: times to the
//     millisecond in UTC; ObjectTypeNames, EventTriggerNames and Tags as
//     given (nil and empty alike). Put methods write the times as stored
//     back into their argument.
//   - PutIntegration sets a zero CreatedAt of a new integration and a zero
//     LastUpdatedAt to the store's current time. Replacing the integration
//     of the same domain and Uri replaces every field but CreatedAt, which
//     stays that of the integration replaced (whatever the argument holds).
//   - A Uri belongs to one domain at most: PutIntegration of a Uri another
//     domain has is ECONFLICT, whose message names that domain, and
//     changes nothing; of concurrent puts of one Uri on different domains,
//     one succeeds. Deleting a domain deletes its integrations and frees
//     their Uris.
//   - UpdateIntegrationTags changes the tags and LastUpdatedAt (the
//     store's current time) only; fn's error changes nothing.
//   - MoveIntegration keeps every field but the domain and LastUpdatedAt,
//     which becomes the store's current time, and returns the integration
//     as FindIntegrationByURI would. A missing target domain or Uri is
//     ENOTFOUND naming it, and changes nothing.
//   - ENOTFOUND of a missing domain names the domain; of a missing
//     integration, its Uri; of a missing instance, its id.
//   - Instances belong to no domain: deleting domains leaves them alone. Ids
//     and ARNs are unique (ECONFLICT); a zero CreatedAt becomes the store's
//     current time. ListInstances sorts by Alias, then ID, in byte order.

func testIntegration(t *testing.T, open OpenFunc) {
	t.Run("Integration", func(t *testing.T) { testIntegrationIntegration(t, open) })
	t.Run("Instance", func(t *testing.T) { testIntegrationInstance(t, open) })
}

// mustOpenIntegrations opens a store and returns it, also as an
// IntegrationStore, or fails t if it does not implement it.
func mustOpenIntegrations(t *testing.T, open OpenFunc) (profiles.Store, profiles.IntegrationStore, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	is, ok := s.(profiles.IntegrationStore)
	if !ok {
		t.Fatalf("%T does not implement profiles.IntegrationStore: every store must (integrations and instances live there)", s)
	}
	return s, is, c
}

// instanceARN returns the ARN of the contact-center instance id.
func instanceARN(id string) string {
	return "arn:aws:connect:us-east-1:123456789012:instance/" + id
}

// fullIntegration returns an integration of the domain and Uri with every
// field set, times below the millisecond and outside UTC.
func fullIntegration(domain, uri string) *profiles.Integration {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.Integration{
		DomainName:        domain,
		URI:               uri,
		ObjectTypeName:    "CTR",
		ObjectTypeNames:   map[string]string{"Contact": "CTR", "Account": "Salesforce-Account", "ünï": "✓", "empty": ""},
		RoleARN:           "arn:aws:iam::123456789012:role/profiles-integration",
		EventTriggerNames: []string{"on-vip", "« quoted \"trigger\" »"},
		Scope:             "PROFILE",
		Tags:              map[string]string{"team": "support", "ünï": "✓", "empty": ""},
		CreatedAt:         time.Date(2024, 2, 29, 23, 59, 58, 123456789, east),
		LastUpdatedAt:     time.Date(2025, 1, 2, 3, 4, 5, 987654321, east),
	}
}

func storedIntegration(in *profiles.Integration) *profiles.Integration {
	out := *in
	out.CreatedAt, out.LastUpdatedAt = storedTime(in.CreatedAt), storedTime(in.LastUpdatedAt)
	return &out
}

// newIntegration returns an integration of the domain and Uri with times
// at the clock's start.
func newIntegration(domain, uri string) *profiles.Integration {
	return &profiles.Integration{DomainName: domain, URI: uri, ObjectTypeName: "CTR",
		CreatedAt: clockStart(), LastUpdatedAt: clockStart()}
}

func mustPutIntegration(tb testing.TB, ctx context.Context, s profiles.IntegrationStore, in *profiles.Integration) {
	tb.Helper()
	if err := s.PutIntegration(ctx, in); err != nil {
		tb.Fatalf("PutIntegration(%q, %q): %v", in.DomainName, in.URI, err)
	}
}

func mustFindIntegration(tb testing.TB, ctx context.Context, s profiles.IntegrationStore, domain, uri string) *profiles.Integration {
	tb.Helper()
	in, err := s.FindIntegration(ctx, domain, uri)
	if err != nil {
		tb.Fatalf("FindIntegration(%q, %q): %v", domain, uri, err)
	}
	return in
}

func mustFindIntegrationByURI(tb testing.TB, ctx context.Context, s profiles.IntegrationStore, uri string) *profiles.Integration {
	tb.Helper()
	in, err := s.FindIntegrationByURI(ctx, uri)
	if err != nil {
		tb.Fatalf("FindIntegrationByURI(%q): %v", uri, err)
	}
	return in
}

func mustListIntegrations(tb testing.TB, ctx context.Context, s profiles.IntegrationStore, domain, after string, limit int) []*profiles.Integration {
	tb.Helper()
	list, err := s.ListIntegrations(ctx, domain, after, limit)
	if err != nil {
		tb.Fatalf("ListIntegrations(%q, %q, %d): %v", domain, after, limit, err)
	}
	return list
}

func integrationURIs(list []*profiles.Integration) []string {
	var out []string
	for _, in := range list {
		out = append(out, in.URI)
	}
	return out
}

func testIntegrationIntegration(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		// Flow and WorkflowID are the service's (the workflow keeps the
		// flow), not stored with the integration.
		serviceOnly := func(f string) bool { return f == "Integration.Flow" || f == "Integration.WorkflowID" }
		if zero := slices.DeleteFunc(zeroFields("Integration", reflect.ValueOf(fullIntegration("d", "u"))), serviceOnly); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		mustCreateDomains(t, ctx, s, "d")
		var want []*profiles.Integration
		for _, uri := range []string{instanceARN("11111111-2222-3333-4444-555555555555"), "arn:aws:appflow:us-east-1:123456789012:flow/sf-accounts"} {
			in := fullIntegration("d", uri)
			mustPutIntegration(t, ctx, is, in)
			w := storedIntegration(fullIntegration("d", uri))
			checkKMS(t, "PutIntegration: in", w, in)
			checkKMS(t, "FindIntegration", w, mustFindIntegration(t, ctx, is, "d", uri))
			checkKMS(t, "FindIntegrationByURI", w, mustFindIntegrationByURI(t, ctx, is, uri))
			want = append(want, w)
		}
		bare := &profiles.Integration{DomainName: "d", URI: "bare", CreatedAt: clockStart(), LastUpdatedAt: clockStart()}
		mustPutIntegration(t, ctx, is, bare)
		checkKMS(t, "FindIntegration(bare)", &profiles.Integration{DomainName: "d", URI: "bare",
			CreatedAt: clockStart(), LastUpdatedAt: clockStart()}, mustFindIntegration(t, ctx, is, "d", "bare"))
		list := mustListIntegrations(t, ctx, is, "d", "", 0)
		checkKMS(t, "ListIntegrations", []string{want[1].URI, want[0].URI, "bare"}, integrationURIs(list))
		checkKMS(t, "ListIntegrations: integrations", []*profiles.Integration{want[1], want[0]}, list[:2])
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, is, clock := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "d")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		in := fullIntegration("d", "both")
		in.CreatedAt, in.LastUpdatedAt = time.Time{}, time.Time{}
		mustPutIntegration(t, ctx, is, in)
		want := fullIntegration("d", "both")
		want.CreatedAt, want.LastUpdatedAt = storedTime(clock.Now()), storedTime(clock.Now())
		checkKMS(t, "PutIntegration: in", want, in)
		checkKMS(t, "FindIntegration", want, mustFindIntegration(t, ctx, is, "d", "both"))

		in = fullIntegration("d", "updated")
		in.LastUpdatedAt = time.Time{}
		mustPutIntegration(t, ctx, is, in)
		want = storedIntegration(fullIntegration("d", "updated"))
		want.LastUpdatedAt = storedTime(clock.Now())
		checkKMS(t, "PutIntegration: in", want, in)
		checkKMS(t, "FindIntegration", want, mustFindIntegration(t, ctx, is, "d", "updated"))
	})

	t.Run("Replace", func(t *testing.T) {
		ctx := t.Context()
		s, is, clock := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "d")
		uri := instanceARN("i-1")
		mustPutIntegration(t, ctx, is, fullIntegration("d", uri))
		created := storedTime(fullIntegration("d", uri).CreatedAt)

		// Every field but CreatedAt is replaced, nil ones too.
		clock.Set(time.Date(2026, 8, 1, 0, 0, 0, 999999, time.UTC))
		in := &profiles.Integration{DomainName: "d", URI: uri, ObjectTypeName: "CTR-NoPhone",
			EventTriggerNames: []string{"other"}, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		mustPutIntegration(t, ctx, is, in)
		want := &profiles.Integration{DomainName: "d", URI: uri, ObjectTypeName: "CTR-NoPhone",
			EventTriggerNames: []string{"other"}, CreatedAt: created, LastUpdatedAt: storedTime(clock.Now())}
		checkKMS(t, "PutIntegration (replace): in", want, in)
		checkKMS(t, "FindIntegration after replace", want, mustFindIntegration(t, ctx, is, "d", uri))

		// A zero CreatedAt keeps it too; a given LastUpdatedAt is stored.
		later := time.Date(2026, 9, 1, 1, 2, 3, 456789012, time.FixedZone("UTC-5", -5*60*60))
		in = fullIntegration("d", uri)
		in.CreatedAt, in.LastUpdatedAt = time.Time{}, later
		mustPutIntegration(t, ctx, is, in)
		want = storedIntegration(fullIntegration("d", uri))
		want.CreatedAt, want.LastUpdatedAt = created, storedTime(later)
		checkKMS(t, "PutIntegration (replace, zero CreatedAt): in", want, in)
		checkKMS(t, "FindIntegrationByURI after replace", want, mustFindIntegrationByURI(t, ctx, is, uri))
		checkKMS(t, "ListIntegrations after replace", []string{uri}, integrationURIs(mustListIntegrations(t, ctx, is, "d", "", 0)))
	})

	t.Run("Conflict", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "alpha-domain", "beta-domain")
		uri := instanceARN("i-1")
		mustPutIntegration(t, ctx, is, fullIntegration("alpha-domain", uri))
		want := storedIntegration(fullIntegration("alpha-domain", uri))

		err := is.PutIntegration(ctx, newIntegration("beta-domain", uri))
		checkCode(t, "PutIntegration on another domain", err, profiles.ECONFLICT)
		if msg := profiles.ErrorMessage(err); !strings.Contains(msg, "alpha-domain") {
			t.Errorf("PutIntegration on another domain: message %q does not name the domain of the Uri, %q", msg, "alpha-domain")
		}
		checkKMS(t, "FindIntegrationByURI after conflict", want, mustFindIntegrationByURI(t, ctx, is, uri))
		checkNotFound(t, "FindIntegration(beta-domain)", func() error { _, err := is.FindIntegration(ctx, "beta-domain", uri); return err }(), uri)
		if got := mustListIntegrations(t, ctx, is, "beta-domain", "", 0); len(got) != 0 {
			t.Errorf("ListIntegrations(beta-domain) after conflict: %v, want none", integrationURIs(got))
		}
		// Uris are compared as they are: another case is another Uri.
		mustPutIntegration(t, ctx, is, newIntegration("beta-domain", strings.ToUpper(uri)))
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "d", "other")
		mustPutIntegration(t, ctx, is, newIntegration("d", "kept"))
		for _, tt := range []struct {
			name string
			call func() error
			word string // the message names it
		}{
			{"PutIntegrationMissingDomain", func() error { return is.PutIntegration(ctx, newIntegration("ghost", "u")) }, "ghost"},
			{"FindIntegrationMissingDomain", func() error { _, err := is.FindIntegration(ctx, "ghost", "kept"); return err }, "ghost"},
			{"FindIntegration", func() error { _, err := is.FindIntegration(ctx, "d", "missing-uri"); return err }, "missing-uri"},
			{"FindIntegrationOfOtherDomain", func() error { _, err := is.FindIntegration(ctx, "other", "kept"); return err }, "kept"},
			{"FindIntegrationByURI", func() error { _, err := is.FindIntegrationByURI(ctx, "missing-uri"); return err }, "missing-uri"},
			{"ListIntegrationsMissingDomain", func() error { _, err := is.ListIntegrations(ctx, "ghost", "", 0); return err }, "ghost"},
			{"DeleteIntegrationMissingDomain", func() error { return is.DeleteIntegration(ctx, "ghost", "kept") }, "ghost"},
			{"DeleteIntegration", func() error { return is.DeleteIntegration(ctx, "d", "missing-uri") }, "missing-uri"},
			{"DeleteIntegrationOfOtherDomain", func() error { return is.DeleteIntegration(ctx, "other", "kept") }, "kept"},
			{"MoveIntegration", func() error { _, err := is.MoveIntegration(ctx, "missing-uri", "other"); return err }, "missing-uri"},
			{"MoveIntegrationMissingDomain", func() error { _, err := is.MoveIntegration(ctx, "kept", "ghost"); return err }, "ghost"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, tt.call(), tt.word)
			})
		}
		checkKMS(t, "FindIntegrationByURI(kept)", newIntegration("d", "kept"), mustFindIntegrationByURI(t, ctx, is, "kept"))
		if got := mustListIntegrations(t, ctx, is, "other", "", 0); len(got) != 0 {
			t.Errorf("ListIntegrations(other): %v, want none", integrationURIs(got))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "a", "b")
		mustPutIntegration(t, ctx, is, newIntegration("a", "gone"))
		mustPutIntegration(t, ctx, is, newIntegration("a", "kept"))
		if err := is.DeleteIntegration(ctx, "a", "gone"); err != nil {
			t.Fatalf("DeleteIntegration: %v", err)
		}
		checkNotFound(t, "FindIntegrationByURI(gone)", func() error { _, err := is.FindIntegrationByURI(ctx, "gone"); return err }(), "gone")
		checkNotFound(t, "DeleteIntegration(gone) again", is.DeleteIntegration(ctx, "a", "gone"), "gone")
		checkKMS(t, "ListIntegrations(a)", []string{"kept"}, integrationURIs(mustListIntegrations(t, ctx, is, "a", "", 0)))
		// The Uri is free for any domain.
		mustPutIntegration(t, ctx, is, newIntegration("b", "gone"))
		checkKMS(t, "FindIntegrationByURI(gone)", newIntegration("b", "gone"), mustFindIntegrationByURI(t, ctx, is, "gone"))
	})

	t.Run("DomainDeleteCascades", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "a", "b")
		uri := instanceARN("i-1")
		mustPutIntegration(t, ctx, is, fullIntegration("a", uri))
		mustPutIntegration(t, ctx, is, newIntegration("a", "second"))
		mustPutIntegration(t, ctx, is, newIntegration("b", "of-b"))
		if err := s.DeleteDomain(ctx, "a"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		checkNotFound(t, "FindIntegrationByURI after DeleteDomain", func() error { _, err := is.FindIntegrationByURI(ctx, uri); return err }(), uri)
		checkNotFound(t, "ListIntegrations(a) after DeleteDomain", func() error { _, err := is.ListIntegrations(ctx, "a", "", 0); return err }(), "a")
		checkKMS(t, "FindIntegrationByURI(of-b)", newIntegration("b", "of-b"), mustFindIntegrationByURI(t, ctx, is, "of-b"))

		// The Uri is free, and a domain created again has no integrations.
		mustPutIntegration(t, ctx, is, newIntegration("b", uri))
		mustCreateDomains(t, ctx, s, "a")
		if got := mustListIntegrations(t, ctx, is, "a", "", 0); len(got) != 0 {
			t.Errorf("ListIntegrations of a domain created again: %v, want none", integrationURIs(got))
		}
		checkKMS(t, "ListIntegrations(b)", []string{uri, "of-b"}, integrationURIs(mustListIntegrations(t, ctx, is, "b", "", 0)))
	})

	t.Run("Move", func(t *testing.T) {
		ctx := t.Context()
		s, is, clock := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "from", "to")
		uri := instanceARN("i-1")
		mustPutIntegration(t, ctx, is, fullIntegration("from", uri))
		mustPutIntegration(t, ctx, is, newIntegration("from", "stays"))
		mustPutIntegration(t, ctx, is, newIntegration("to", "already"))

		clock.Set(time.Date(2026, 8, 1, 0, 0, 0, 999999, time.UTC))
		got, err := is.MoveIntegration(ctx, uri, "to")
		if err != nil {
			t.Fatalf("MoveIntegration: %v", err)
		}
		want := storedIntegration(fullIntegration("to", uri))
		want.LastUpdatedAt = storedTime(clock.Now())
		checkKMS(t, "MoveIntegration", want, got)
		checkKMS(t, "FindIntegration(to) after move", want, mustFindIntegration(t, ctx, is, "to", uri))
		checkKMS(t, "FindIntegrationByURI after move", want, mustFindIntegrationByURI(t, ctx, is, uri))
		checkNotFound(t, "FindIntegration(from) after move", func() error { _, err := is.FindIntegration(ctx, "from", uri); return err }(), uri)
		checkKMS(t, "ListIntegrations(from)", []string{"stays"}, integrationURIs(mustListIntegrations(t, ctx, is, "from", "", 0)))
		checkKMS(t, "ListIntegrations(to)", []string{"already", uri}, integrationURIs(mustListIntegrations(t, ctx, is, "to", "", 0)))

		// A missing target changes nothing.
		clock.Add(time.Hour)
		_, err = is.MoveIntegration(ctx, uri, "ghost")
		checkNotFound(t, "MoveIntegration to a missing domain", err, "ghost")
		checkKMS(t, "FindIntegrationByURI after a failed move", want, mustFindIntegrationByURI(t, ctx, is, uri))

		// The integration now goes with its new domain, not its old one.
		if err := s.DeleteDomain(ctx, "from"); err != nil {
			t.Fatalf("DeleteDomain(from): %v", err)
		}
		checkKMS(t, "FindIntegrationByURI after deleting the old domain", want, mustFindIntegrationByURI(t, ctx, is, uri))
		if err := s.DeleteDomain(ctx, "to"); err != nil {
			t.Fatalf("DeleteDomain(to): %v", err)
		}
		checkNotFound(t, "FindIntegrationByURI after deleting the new domain", func() error { _, err := is.FindIntegrationByURI(ctx, uri); return err }(), uri)
	})

	t.Run("UpdateTags", func(t *testing.T) {
		ctx := t.Context()
		s, is, clock := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "d", "other")
		uri := instanceARN("i-1")
		mustPutIntegration(t, ctx, is, fullIntegration("d", uri))

		clock.Set(time.Date(2026, 8, 1, 0, 0, 0, 999999, time.UTC))
		var given map[string]string
		if err := is.UpdateIntegrationTags(ctx, "d", uri, func(tags map[string]string) (map[string]string, error) {
			given = maps.Clone(tags)
			tags["env"] = "prod"
			delete(tags, "team")
			return tags, nil
		}); err != nil {
			t.Fatalf("UpdateIntegrationTags: %v", err)
		}
		checkKMS(t, "the tags fn was given", fullIntegration("d", uri).Tags, given)
		want := storedIntegration(fullIntegration("d", uri))
		want.Tags = map[string]string{"ünï": "✓", "empty": "", "env": "prod"}
		want.LastUpdatedAt = storedTime(clock.Now())
		checkKMS(t, "FindIntegration after UpdateIntegrationTags", want, mustFindIntegration(t, ctx, is, "d", uri))

		// fn's error is returned as is and changes nothing.
		clock.Add(time.Hour)
		refused := profiles.Errorf(profiles.EINVALID, "too many tags")
		if err := is.UpdateIntegrationTags(ctx, "d", uri, func(tags map[string]string) (map[string]string, error) {
			tags["more"] = "x"
			return tags, refused
		}); err != refused {
			t.Errorf("UpdateIntegrationTags with fn refusing: %v, want fn's error", err)
		}
		checkKMS(t, "FindIntegration after a refused UpdateIntegrationTags", want, mustFindIntegration(t, ctx, is, "d", uri))

		// Every tag removed.
		if err := is.UpdateIntegrationTags(ctx, "d", uri, func(map[string]string) (map[string]string, error) { return nil, nil }); err != nil {
			t.Fatalf("UpdateIntegrationTags to none: %v", err)
		}
		if got := mustFindIntegration(t, ctx, is, "d", uri); len(got.Tags) != 0 || got.ObjectTypeName != want.ObjectTypeName {
			t.Errorf("FindIntegration after removing every tag: tags %v, object type %q; want none, %q", got.Tags, got.ObjectTypeName, want.ObjectTypeName)
		}

		noop := func(tags map[string]string) (map[string]string, error) { return tags, nil }
		checkNotFound(t, "UpdateIntegrationTags of a missing Uri", is.UpdateIntegrationTags(ctx, "d", "missing-uri", noop), "missing-uri")
		checkNotFound(t, "UpdateIntegrationTags of another domain's Uri", is.UpdateIntegrationTags(ctx, "other", uri, noop), uri)
		checkNotFound(t, "UpdateIntegrationTags of a missing domain", is.UpdateIntegrationTags(ctx, "ghost", uri, noop), "ghost")
	})

	t.Run("ConcurrentUpdateTags", func(t *testing.T) {
		// Concurrent TagResource calls on one integration each add their
		// tag: none is lost to another's read of the tags before it.
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "d")
		uri := instanceARN("i-tags")
		mustPutIntegration(t, ctx, is, newIntegration("d", uri))
		const n = 10
		codes, errs := concurrently(n, func(i int) error {
			return is.UpdateIntegrationTags(ctx, "d", uri, func(tags map[string]string) (map[string]string, error) {
				if tags == nil {
					tags = map[string]string{}
				}
				tags[fmt.Sprintf("k%02d", i)] = "v"
				return tags, nil
			})
		})
		checkCodes(t, "UpdateIntegrationTags of one integration, 10 at once", codes, map[string]int{"": n}, errs)
		want := map[string]string{}
		for i := range n {
			want[fmt.Sprintf("k%02d", i)] = "v"
		}
		checkKMS(t, "tags after 10 concurrent UpdateIntegrationTags", want, mustFindIntegration(t, ctx, is, "d", uri).Tags)
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		mustCreateDomains(t, ctx, s, "d", "other", "empty")
		for _, uri := range []string{"éa", "b", "a.", "a_b", "a", "B", "ab", "a-1", "é", "a-"} {
			mustPutIntegration(t, ctx, is, newIntegration("d", uri))
		}
		for _, uri := range []string{"0-other", "aa-other", "zz-other"} {
			mustPutIntegration(t, ctx, is, newIntegration("other", uri))
		}
		all := []string{"B", "a", "a-", "a-1", "a.", "a_b", "ab", "b", "é", "éa"} // byte order
		for _, tt := range []struct {
			after string
			limit int
			want  []string
		}{
			{"", 0, all},
			{"", -1, all},
			{"", 3, []string{"B", "a", "a-"}},
			{"a", 3, []string{"a-", "a-1", "a."}},
			{"a-0", 2, []string{"a-1", "a."}},
			{"ab", 0, []string{"b", "é", "éa"}},
			{"éa", 0, nil},
			{"zz", 5, []string{"é", "éa"}}, // é sorts after every ASCII string
			{"é", 0, []string{"éa"}},
		} {
			got := mustListIntegrations(t, ctx, is, "d", tt.after, tt.limit)
			checkKMS(t, fmt.Sprintf("ListIntegrations(d, %q, %d)", tt.after, tt.limit), tt.want, integrationURIs(got))
		}
		if got := mustListIntegrations(t, ctx, is, "empty", "", 0); len(got) != 0 {
			t.Errorf("ListIntegrations(empty): %v, want none", integrationURIs(got))
		}

		// Paging one at a time lists every integration of the domain once.
		var paged []string
		for after := ""; ; {
			page := mustListIntegrations(t, ctx, is, "d", after, 1)
			if len(page) == 0 {
				break
			} else if len(page) > 1 {
				t.Fatalf("ListIntegrations(d, %q, 1) = %v, more than 1", after, integrationURIs(page))
			}
			if page[0].DomainName != "d" {
				t.Errorf("ListIntegrations(d, %q, 1): DomainName %q, want d", after, page[0].DomainName)
			}
			paged, after = append(paged, page[0].URI), page[0].URI
		}
		checkKMS(t, "ListIntegrations(d) paged", all, paged)
	})

	t.Run("ConcurrentPut", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		const n = 10
		domains := make([]string, n)
		for i := range domains {
			domains[i] = fmt.Sprintf("domain-%02d", i)
		}
		mustCreateDomains(t, ctx, s, domains...)
		uri := instanceARN("contested")
		codes, errs := concurrently(n, func(i int) error {
			return is.PutIntegration(ctx, newIntegration(domains[i], uri))
		})
		checkCodes(t, "PutIntegration of one Uri on 10 domains", codes, map[string]int{"": 1, profiles.ECONFLICT: n - 1}, errs)
		winner := ""
		for i, err := range errs {
			if err == nil {
				winner = domains[i]
			}
		}
		checkKMS(t, "FindIntegrationByURI", newIntegration(winner, uri), mustFindIntegrationByURI(t, ctx, is, uri))
		for i, err := range errs {
			if err != nil && !strings.Contains(profiles.ErrorMessage(err), winner) {
				t.Errorf("PutIntegration on %s: message %q does not name the domain of the Uri, %s", domains[i], profiles.ErrorMessage(err), winner)
			}
		}
		for _, d := range domains {
			want := 0
			if d == winner {
				want = 1
			}
			if got := mustListIntegrations(t, ctx, is, d, "", 0); len(got) != want {
				t.Errorf("ListIntegrations(%s): %v, want %d integrations", d, integrationURIs(got), want)
			}
		}
	})
}

func testIntegrationInstance(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		_, is, clock := mustOpenIntegrations(t, open)
		east := time.FixedZone("UTC+2", 2*60*60)
		in := &profiles.Instance{ID: "11111111-2222-3333-4444-555555555555", Alias: "Support « FR » ✓",
			CreatedAt: time.Date(2024, 2, 29, 23, 59, 58, 123456789, east)}
		in.ARN = instanceARN(in.ID)
		if zero := zeroFields("Instance", reflect.ValueOf(*in)); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		if err := is.PutInstance(ctx, in); err != nil {
			t.Fatalf("PutInstance: %v", err)
		}
		want := &profiles.Instance{ID: in.ID, ARN: instanceARN(in.ID), Alias: "Support « FR » ✓",
			CreatedAt: storedTime(time.Date(2024, 2, 29, 23, 59, 58, 123456789, east))}
		checkKMS(t, "PutInstance: in", want, in)
		got, err := is.FindInstance(ctx, in.ID)
		if err != nil {
			t.Fatalf("FindInstance: %v", err)
		}
		checkKMS(t, "FindInstance", want, got)

		// A zero CreatedAt becomes the store's current time; no alias is fine.
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		bare := &profiles.Instance{ID: "bare", ARN: instanceARN("bare")}
		if err := is.PutInstance(ctx, bare); err != nil {
			t.Fatalf("PutInstance(bare): %v", err)
		}
		wantBare := &profiles.Instance{ID: "bare", ARN: instanceARN("bare"), CreatedAt: storedTime(clock.Now())}
		checkKMS(t, "PutInstance(bare): in", wantBare, bare)
		got, err = is.FindInstance(ctx, "bare")
		if err != nil {
			t.Fatalf("FindInstance(bare): %v", err)
		}
		checkKMS(t, "FindInstance(bare)", wantBare, got)
		list, err := is.ListInstances(ctx)
		if err != nil {
			t.Fatalf("ListInstances: %v", err)
		}
		checkKMS(t, "ListInstances", []*profiles.Instance{wantBare, want}, list)
	})

	t.Run("Conflict", func(t *testing.T) {
		ctx := t.Context()
		_, is, _ := mustOpenIntegrations(t, open)
		first := &profiles.Instance{ID: "i-1", ARN: instanceARN("i-1"), Alias: "first", CreatedAt: clockStart()}
		if err := is.PutInstance(ctx, first); err != nil {
			t.Fatalf("PutInstance: %v", err)
		}
		checkCode(t, "PutInstance of a taken id", is.PutInstance(ctx,
			&profiles.Instance{ID: "i-1", ARN: instanceARN("other"), Alias: "second"}), profiles.ECONFLICT)
		checkCode(t, "PutInstance of a taken ARN", is.PutInstance(ctx,
			&profiles.Instance{ID: "i-2", ARN: instanceARN("i-1"), Alias: "third"}), profiles.ECONFLICT)
		list, err := is.ListInstances(ctx)
		if err != nil {
			t.Fatalf("ListInstances: %v", err)
		}
		checkKMS(t, "ListInstances after conflicts", []*profiles.Instance{
			{ID: "i-1", ARN: instanceARN("i-1"), Alias: "first", CreatedAt: clockStart()}}, list)
		checkNotFound(t, "FindInstance(i-2)", func() error { _, err := is.FindInstance(ctx, "i-2"); return err }(), "i-2")
		// Ids are compared as they are.
		if err := is.PutInstance(ctx, &profiles.Instance{ID: "I-1", ARN: instanceARN("I-1")}); err != nil {
			t.Fatalf("PutInstance(I-1): %v", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		_, is, _ := mustOpenIntegrations(t, open)
		_, err := is.FindInstance(ctx, "ghost")
		checkNotFound(t, "FindInstance", err, "ghost")
		list, err := is.ListInstances(ctx)
		if err != nil {
			t.Fatalf("ListInstances: %v", err)
		}
		if len(list) != 0 {
			t.Errorf("ListInstances of an empty store: %v, want none", list)
		}
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		_, is, _ := mustOpenIntegrations(t, open)
		for _, in := range []struct{ id, alias string }{
			{"i-3", "b"}, {"i-2", "a"}, {"i-9", ""}, {"i-1", "a"}, {"i-0", "é"}, {"i-5", "B"}, {"i-4", "a-"}, {"i-10", "a"},
		} {
			if err := is.PutInstance(ctx, &profiles.Instance{ID: in.id, ARN: instanceARN(in.id), Alias: in.alias}); err != nil {
				t.Fatalf("PutInstance(%s): %v", in.id, err)
			}
		}
		list, err := is.ListInstances(ctx)
		if err != nil {
			t.Fatalf("ListInstances: %v", err)
		}
		var got []string
		for _, in := range list {
			got = append(got, in.Alias+"/"+in.ID)
		}
		// By alias, then id, in byte order.
		checkKMS(t, "ListInstances", []string{"/i-9", "B/i-5", "a/i-1", "a/i-10", "a/i-2", "a-/i-4", "b/i-3", "é/i-0"}, got)
	})

	t.Run("NotTiedToDomains", func(t *testing.T) {
		ctx := t.Context()
		s, is, _ := mustOpenIntegrations(t, open)
		id := "i-1"
		if err := is.PutInstance(ctx, &profiles.Instance{ID: id, ARN: instanceARN(id), CreatedAt: clockStart()}); err != nil {
			t.Fatalf("PutInstance: %v", err)
		}
		mustCreateDomains(t, ctx, s, "d")
		mustPutIntegration(t, ctx, is, newIntegration("d", instanceARN(id)))
		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		got, err := is.FindInstance(ctx, id)
		if err != nil {
			t.Fatalf("FindInstance after DeleteDomain: %v", err)
		}
		checkKMS(t, "FindInstance after DeleteDomain", &profiles.Instance{ID: id, ARN: instanceARN(id), CreatedAt: clockStart()}, got)
		checkNotFound(t, "FindIntegrationByURI after DeleteDomain", func() error {
			_, err := is.FindIntegrationByURI(ctx, instanceARN(id))
			return err
		}(), instanceARN(id))
	})
}
