package main_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestDomainLayouts drives the five layout operations through the SDK:
// create, read, partial update with a new version, paging, delete, the
// errors of each, and that a layout outlives a restart and not its domain.
func TestDomainLayouts(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("acme"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
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
