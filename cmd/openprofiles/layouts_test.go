package main_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/openprofiles/profiles"
)

// TestDomainLayouts drives the five layout operations through the SDK:
// create, read, partial update with a new version, paging, delete, the
// errors of each, and that a layout outlives a restart and not its domain.
func TestDomainLayouts(t *testing.T) {
	e := newDomainEnv(t, "acme")
	m, client, ctx := e.m, e.client, t.Context()
	layout := `{"sections":[{"title":"Contact","fields":["EmailAddress","PhoneNumber"]}]}`
	created, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
		DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("agent-view"), Description: aws.String("What agents see"),
		DisplayName: aws.String("Agent view"), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String(layout),
		IsDefault: true, Tags: map[string]string{"team": "support"},
	})
	if err != nil {
		t.Fatalf("CreateDomainLayout: %v", err)
	}
	if aws.ToString(created.Version) != "1" || created.CreatedAt == nil || created.LastUpdatedAt == nil || !created.IsDefault ||
		aws.ToString(created.Layout) != layout || created.Tags["team"] != "support" || aws.ToString(created.LayoutDefinitionName) != "agent-view" {
		t.Fatalf("CreateDomainLayout answered %+v", created)
	}

	got, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("agent-view")})
	if err != nil {
		t.Fatalf("GetDomainLayout: %v", err)
	}
	if aws.ToString(got.Description) != "What agents see" || aws.ToString(got.DisplayName) != "Agent view" || got.LayoutType != types.LayoutTypeProfileExplorer ||
		aws.ToString(got.Layout) != layout || aws.ToString(got.Version) != "1" || !got.CreatedAt.Equal(*created.CreatedAt) {
		t.Fatalf("GetDomainLayout answered %+v", got)
	}

	// An update changes what it sends only, and counts a version.
	newLayout := `{"sections":[]}`
	up, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
		LayoutDefinitionName: aws.String("agent-view"), Layout: aws.String(newLayout)})
	if err != nil {
		t.Fatalf("UpdateDomainLayout: %v", err)
	}
	if aws.ToString(up.Version) != "2" || aws.ToString(up.Layout) != newLayout || aws.ToString(up.Description) != "What agents see" ||
		!up.IsDefault || up.Tags["team"] != "support" || !up.CreatedAt.Equal(*created.CreatedAt) || up.LastUpdatedAt.Before(*created.LastUpdatedAt) {
		t.Fatalf("UpdateDomainLayout answered %+v", up)
	}
	// The Go SDK leaves a false IsDefault out of the request (its member is
	// a bool); the wire, as the AWS CLI's --no-is-default sends it, carries it.
	r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/acme/layouts/agent-view", []byte(`{"IsDefault":false,"DisplayName":"Agents"}`), signOpts{}))
	var wire struct {
		Version, DisplayName, Layout string
		IsDefault                    *bool
	}
	if err := json.Unmarshal(r.Body, &wire); r.Status != 200 || err != nil || wire.Version != "3" || wire.IsDefault == nil || *wire.IsDefault ||
		wire.DisplayName != "Agents" || wire.Layout != newLayout {
		t.Fatalf("UpdateDomainLayout(IsDefault false): %d %s", r.Status, r.Body)
	}

	t.Run("Errors", func(t *testing.T) {
		create := func(domain, name, layoutType, layout string) error {
			_, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
				DomainName: aws.String(domain), LayoutDefinitionName: aws.String(name), Description: aws.String("d"),
				DisplayName: aws.String("d"), LayoutType: types.LayoutType(layoutType), Layout: aws.String(layout)})
			return err
		}
		wantAPIError(t, create("acme", "agent-view", "PROFILE_EXPLORER", "{}"), "BadRequestException", "agent-view", "already exists")
		wantAPIError(t, create("nope", "x", "PROFILE_EXPLORER", "{}"), "ResourceNotFoundException", "nope")
		wantAPIError(t, create("acme", "x", "PROFILE_EXPLORER", "{not json"), "BadRequestException", "Layout", "JSON")
		wantAPIError(t, create("acme", "x", "OTHER", "{}"), "BadRequestException", "LayoutType")
		wantAPIError(t, create("acme", "bad name", "PROFILE_EXPLORER", "{}"), "BadRequestException", "LayoutDefinitionName")
		_, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
			LayoutDefinitionName: aws.String("agent-view"), Layout: aws.String("[1,")})
		wantAPIError(t, err, "BadRequestException", "JSON")
		_, err = client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("missing")})
		wantAPIError(t, err, "ResourceNotFoundException", "missing")
		_, err = client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("missing")})
		wantAPIError(t, err, "ResourceNotFoundException", "missing")
		_, err = client.DeleteDomainLayout(ctx, &customerprofiles.DeleteDomainLayoutInput{DomainName: aws.String("nope"), LayoutDefinitionName: aws.String("x")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
		_, err = client.ListDomainLayouts(ctx, &customerprofiles.ListDomainLayoutsInput{DomainName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
		// The refused update changed nothing.
		g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("agent-view")})
		if err != nil || aws.ToString(g.Version) != "3" || aws.ToString(g.Layout) != newLayout {
			t.Fatalf("after refused calls: %+v, %v", g, err)
		}
	})

	t.Run("Paging", func(t *testing.T) {
		var want []string
		for i := range 7 {
			name := fmt.Sprintf("page-%d", i)
			want = append(want, name)
			if _, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
				DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name), Description: aws.String("d"),
				DisplayName: aws.String("d"), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String("{}")}); err != nil {
				t.Fatal(err)
			}
		}
		want = append([]string{"agent-view"}, want...)
		var names []string
		p := customerprofiles.NewListDomainLayoutsPaginator(client, &customerprofiles.ListDomainLayoutsInput{DomainName: aws.String("acme"), MaxResults: aws.Int32(3)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListDomainLayouts: %v", err)
			}
			if len(out.Items) > 3 {
				t.Fatalf("page of %d items, want at most 3", len(out.Items))
			}
			for _, it := range out.Items {
				names = append(names, aws.ToString(it.LayoutDefinitionName))
				if it.CreatedAt == nil || it.LayoutType != types.LayoutTypeProfileExplorer {
					t.Errorf("item %+v", it)
				}
			}
		}
		if !slices.Equal(names, want) {
			t.Fatalf("listed %v, want %v", names, want)
		}
	})

	// Layouts are kept across a restart; deleting one or the domain removes
	// them.
	cfg := m.Config
	m.Close()
	m = MustOpenMain(t, cfg)
	client = MustClient(t, m)
	if g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("agent-view")}); err != nil ||
		aws.ToString(g.Version) != "3" || g.CreatedAt.Truncate(time.Second).IsZero() {
		t.Fatalf("after a restart: %+v, %v", g, err)
	}
	if _, err := client.DeleteDomainLayout(ctx, &customerprofiles.DeleteDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("agent-view")}); err != nil {
		t.Fatalf("DeleteDomainLayout: %v", err)
	}
	_, err = client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("agent-view")})
	wantAPIError(t, err, "ResourceNotFoundException", "agent-view")
	if _, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("acme")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("acme"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	if out, err := client.ListDomainLayouts(ctx, &customerprofiles.ListDomainLayoutsInput{DomainName: aws.String("acme")}); err != nil || len(out.Items) != 0 {
		t.Fatalf("a new domain of a deleted one's name lists %+v, %v", out, err)
	}
}

// TestDomainLayouts_OneDefault: a domain has one default layout, the one
// the console shows data with. Making a layout default, when it is created
// or updated, unmarks the one before; concurrent writers each making their
// layout default leave exactly one.
func TestDomainLayouts_OneDefault(t *testing.T) {
	e := newDomainEnv(t, "acme")
	m, client, ctx := e.m, e.client, t.Context()
	create := func(name string, isDefault bool) error {
		out, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
			DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name), Description: aws.String("d"),
			DisplayName: aws.String(name), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String("{}"), IsDefault: isDefault})
		if err == nil && out.IsDefault != isDefault {
			return fmt.Errorf("CreateDomainLayout %s answered IsDefault %t, want %t", name, out.IsDefault, isDefault)
		}
		return err
	}
	// defaults returns the layouts listed as default, and checks that
	// GetDomainLayout says the same of each.
	defaults := func() []string {
		t.Helper()
		out, err := client.ListDomainLayouts(ctx, &customerprofiles.ListDomainLayoutsInput{DomainName: aws.String("acme"), MaxResults: aws.Int32(100)})
		if err != nil {
			t.Fatalf("ListDomainLayouts: %v", err)
		}
		var names []string
		for _, it := range out.Items {
			name := aws.ToString(it.LayoutDefinitionName)
			g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name)})
			if err != nil {
				t.Fatalf("GetDomainLayout %s: %v", name, err)
			}
			if it.IsDefault != g.IsDefault {
				t.Errorf("layout %s: listed IsDefault %t, read %t", name, it.IsDefault, g.IsDefault)
			}
			if g.IsDefault {
				names = append(names, name)
			}
		}
		return names
	}
	for _, l := range []struct {
		name      string
		isDefault bool
	}{{"first", true}, {"plain", false}, {"second", true}} {
		if err := create(l.name, l.isDefault); err != nil {
			t.Fatal(err)
		}
	}
	if got := defaults(); !slices.Equal(got, []string{"second"}) {
		t.Fatalf("defaults after creating first and second default = %v, want [second]", got)
	}
	up, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
		LayoutDefinitionName: aws.String("first"), IsDefault: true})
	if err != nil || !up.IsDefault {
		t.Fatalf("UpdateDomainLayout(first, IsDefault): %+v, %v", up, err)
	}
	if got := defaults(); !slices.Equal(got, []string{"first"}) {
		t.Fatalf("defaults after making first default again = %v, want [first]", got)
	}
	// Unmarking a layout that is not the default changes no default.
	r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/acme/layouts/second", []byte(`{"IsDefault":false}`), signOpts{}))
	if r.Status != 200 {
		t.Fatalf("UpdateDomainLayout(second, IsDefault false): %d %s", r.Status, r.Body)
	}
	if got := defaults(); !slices.Equal(got, []string{"first"}) {
		t.Fatalf("defaults after unmarking second = %v, want [first]", got)
	}
	// A layout deleted as default, created again under its name, is not.
	if _, err := client.DeleteDomainLayout(ctx, &customerprofiles.DeleteDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("first")}); err != nil {
		t.Fatal(err)
	}
	if err := create("first", false); err != nil {
		t.Fatal(err)
	}
	if got := defaults(); len(got) != 0 {
		t.Fatalf("defaults after deleting the default and creating its name again = %v, want none", got)
	}

	// Parallel writers: creations and updates that each make their layout
	// default end with one default.
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { errs <- create(fmt.Sprintf("racer-%d", i), true) })
	}
	for _, name := range []string{"first", "plain", "second"} {
		wg.Go(func() {
			_, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
				LayoutDefinitionName: aws.String(name), IsDefault: true})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := defaults(); len(got) != 1 {
		t.Fatalf("defaults after parallel writers = %v, want exactly one", got)
	}
}

// TestDomainLayouts_DefaultInOneChange: an update that changes the domain's
// default changes the layout in the same transaction. A default-layout
// record the server cannot read (written here straight to the store) fails
// the unmarking of a default, which then leaves the layout as it was, not
// at a new version; making a layout default replaces the record, and
// answers what is stored.
func TestDomainLayouts_DefaultInOneChange(t *testing.T) {
	e := newDomainEnv(t, "acme")
	m, client, ctx := e.m, e.client, t.Context()
	if _, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
		DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("main"), Description: aws.String("before"),
		DisplayName: aws.String("Main"), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	if err := m.DB.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "acme", Kind: profiles.ConfigDefaultLayout,
		Name: "default", Data: []byte("not json")}, 0); err != nil {
		t.Fatal(err)
	}
	// stored returns the layout's version and description as stored.
	stored := func() (int, string) {
		t.Helper()
		c, err := m.DB.FindConfig(ctx, "acme", profiles.ConfigLayout, "main")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Version     int    `json:"version"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Version, doc.Description
	}

	// (The SDK leaves a false IsDefault out.)
	r := mustDo(t, mustSignedRequest(t, m, "PUT", "/domains/acme/layouts/main", []byte(`{"IsDefault":false,"Description":"lost"}`), signOpts{}))
	if r.Status < 500 {
		t.Fatalf("UpdateDomainLayout(IsDefault false) with an unreadable default record: %d %s, want a server error", r.Status, r.Body)
	}
	if v, d := stored(); v != 1 || d != "before" {
		t.Fatalf("after a failed UpdateDomainLayout the layout is stored at version %d, description %q; want 1, %q", v, d, "before")
	}

	up, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
		LayoutDefinitionName: aws.String("main"), Description: aws.String("after"), IsDefault: true})
	if err != nil {
		t.Fatalf("UpdateDomainLayout(IsDefault true): %v", err)
	}
	if v, d := stored(); !up.IsDefault || aws.ToString(up.Version) != "2" || v != 2 || d != "after" {
		t.Fatalf("UpdateDomainLayout(IsDefault true) answered IsDefault %t, version %s; stored version %d, description %q; want true, 2, 2, %q",
			up.IsDefault, aws.ToString(up.Version), v, d, "after")
	}
	g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("main")})
	if err != nil || !g.IsDefault || aws.ToString(g.Version) != "2" {
		t.Fatalf("GetDomainLayout after making it default: %+v, %v", g, err)
	}
}

// TestDomainLayouts_TimesSizesQuota: what CreateDomainLayout and
// UpdateDomainLayout answer is what GetDomainLayout and ListDomainLayouts
// read (times to the millisecond, Version a count as text); a layout as
// large as the model allows (2,000,000 characters) is kept whole, a longer
// one refused; the display name follows the model's pattern; a domain
// holds at most 100 layouts.
func TestDomainLayouts_TimesSizesQuota(t *testing.T) {
	e := newDomainEnv(t, "acme")
	client, ctx := e.client, t.Context()
	create := func(name, displayName, layout string) (*customerprofiles.CreateDomainLayoutOutput, error) {
		return client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
			DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name), Description: aws.String("d"),
			DisplayName: aws.String(displayName), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String(layout)})
	}
	get := func(name string) *customerprofiles.GetDomainLayoutOutput {
		t.Helper()
		g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name)})
		if err != nil {
			t.Fatalf("GetDomainLayout %s: %v", name, err)
		}
		return g
	}
	c, err := create("main", "Main view 2", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if c.CreatedAt == nil || c.LastUpdatedAt == nil || !c.CreatedAt.Equal(*c.LastUpdatedAt) || c.IsDefault || aws.ToString(c.Version) != "1" {
		t.Fatalf("CreateDomainLayout answered %+v", c)
	}
	if g := get("main"); !g.CreatedAt.Equal(*c.CreatedAt) || !g.LastUpdatedAt.Equal(*c.LastUpdatedAt) {
		t.Fatalf("GetDomainLayout reads %v/%v, created %v/%v", g.CreatedAt, g.LastUpdatedAt, c.CreatedAt, c.LastUpdatedAt)
	}
	big := `{"x":"` + strings.Repeat("a", 2_000_000-8) + `"}`
	for v := 2; v <= 3; v++ {
		u, err := client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
			LayoutDefinitionName: aws.String("main"), Layout: aws.String(big)})
		if err != nil {
			t.Fatalf("UpdateDomainLayout with a layout of %d characters: %v", len(big), err)
		}
		g := get("main")
		if aws.ToString(u.Version) != strconv.Itoa(v) || aws.ToString(g.Version) != strconv.Itoa(v) || !g.LastUpdatedAt.Equal(*u.LastUpdatedAt) ||
			!g.CreatedAt.Equal(*c.CreatedAt) || u.LastUpdatedAt.Before(*c.LastUpdatedAt) || aws.ToString(g.Layout) != big {
			t.Fatalf("update %d answered version %s at %v, reads version %s at %v (layout kept: %t)", v, aws.ToString(u.Version), u.LastUpdatedAt,
				aws.ToString(g.Version), g.LastUpdatedAt, aws.ToString(g.Layout) == big)
		}
	}
	list, err := client.ListDomainLayouts(ctx, &customerprofiles.ListDomainLayoutsInput{DomainName: aws.String("acme")})
	if err != nil || len(list.Items) != 1 || !list.Items[0].LastUpdatedAt.Equal(*get("main").LastUpdatedAt) || list.Items[0].IsDefault ||
		aws.ToString(list.Items[0].DisplayName) != "Main view 2" {
		t.Fatalf("ListDomainLayouts: %+v, %v", list, err)
	}
	_, err = client.UpdateDomainLayout(ctx, &customerprofiles.UpdateDomainLayoutInput{DomainName: aws.String("acme"),
		LayoutDefinitionName: aws.String("main"), Layout: aws.String(big + " ")})
	wantAPIError(t, err, "BadRequestException", "Layout")
	_, err = create("digit", "9 lives", "{}")
	wantAPIError(t, err, "BadRequestException", "DisplayName")
	_, err = client.DeleteDomainLayout(ctx, &customerprofiles.DeleteDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")

	for i := 1; i < profiles.MaxLayoutsPerDomain; i++ {
		if _, err := create(fmt.Sprintf("l%03d", i), "d", "{}"); err != nil {
			t.Fatalf("layout %d: %v", i+1, err)
		}
	}
	_, err = create("one-too-many", "d", "{}")
	wantAPIError(t, err, "BadRequestException", "100")
}

// TestDomainLayouts_RefusedCreateKeepsDefault: a CreateDomainLayout asking
// to be default that is refused (its name is taken) leaves the domain's
// default as it was; tags reach a layout through its ARN.
func TestDomainLayouts_RefusedCreateKeepsDefault(t *testing.T) {
	e := newDomainEnv(t, "acme")
	client, ctx := e.client, t.Context()
	create := func(name string, isDefault bool) error {
		_, err := client.CreateDomainLayout(ctx, &customerprofiles.CreateDomainLayoutInput{
			DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name), Description: aws.String("d"),
			DisplayName: aws.String("d"), LayoutType: types.LayoutTypeProfileExplorer, Layout: aws.String("{}"), IsDefault: isDefault})
		return err
	}
	if err := create("a", true); err != nil {
		t.Fatal(err)
	}
	if err := create("b", false); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, create("b", true), "BadRequestException", "already exists")
	for name, want := range map[string]bool{"a": true, "b": false} {
		g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String(name)})
		if err != nil || g.IsDefault != want {
			t.Fatalf("layout %s after a refused default creation: %+v, %v; want IsDefault %t", name, g, err, want)
		}
	}
	arn := "arn:aws:profile:us-east-1:000000000000:domains/acme/layouts/b"
	if _, err := client.TagResource(ctx, &customerprofiles.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"team": "ops"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if g, err := client.GetDomainLayout(ctx, &customerprofiles.GetDomainLayoutInput{DomainName: aws.String("acme"), LayoutDefinitionName: aws.String("b")}); err != nil || g.Tags["team"] != "ops" {
		t.Fatalf("tags after TagResource: %+v, %v", g, err)
	}
}
