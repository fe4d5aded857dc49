package main_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

func bigOrder() []types.EventTriggerCondition {
	return []types.EventTriggerCondition{{LogicalOperator: types.EventTriggerLogicalOperatorAll,
		EventTriggerDimensions: []types.EventTriggerDimension{{ObjectAttributes: []types.ObjectAttribute{
			{FieldName: aws.String("total"), ComparisonOperator: types.ComparisonOperatorGreaterThan, Values: []string{"100"}},
			{Source: aws.String("_source.channel"), ComparisonOperator: types.ComparisonOperatorInclusive, Values: []string{"web", "phone"}},
		}}}}}
}

// TestEventTriggers drives the five event-trigger operations through the
// SDK: create with conditions, a segment filter and limits, read back,
// partial update, paging, delete, and the checks against the domain.
func TestEventTriggers(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	e.putType(contactType("contact"))
	if err := e.createSegment("everyone", &types.SegmentGroup{Groups: []types.Group{{Dimensions: []types.Dimension{
		&types.DimensionMemberProfileAttributes{Value: types.ProfileAttributes{FirstName: &types.ProfileDimension{
			DimensionType: types.StringDimensionTypeExclusive, Values: []string{"nobody"}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	created, err := e.client.CreateEventTrigger(t.Context(), &customerprofiles.CreateEventTriggerInput{
		DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order"), ObjectTypeName: aws.String("Orders"),
		Description: aws.String("orders over 100"), EventTriggerConditions: bigOrder(), SegmentFilter: aws.String("everyone"),
		EventTriggerLimits: &types.EventTriggerLimits{EventExpiration: aws.Int64(60000), Periods: []types.Period{
			{Unit: types.PeriodUnitDays, Value: aws.Int32(1), MaxInvocationsPerProfile: aws.Int32(2)}}},
		Tags: map[string]string{"team": "sales"},
	})
	if err != nil {
		t.Fatalf("CreateEventTrigger: %v", err)
	}
	if created.CreatedAt == nil || aws.ToString(created.SegmentFilter) != "everyone" || len(created.EventTriggerConditions) != 1 ||
		aws.ToInt64(created.EventTriggerLimits.EventExpiration) != 60000 || created.Tags["team"] != "sales" {
		t.Fatalf("CreateEventTrigger answered %+v", created)
	}
	got, err := e.client.GetEventTrigger(t.Context(), &customerprofiles.GetEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order")})
	if err != nil {
		t.Fatalf("GetEventTrigger: %v", err)
	}
	attrs := got.EventTriggerConditions[0].EventTriggerDimensions[0].ObjectAttributes
	if len(attrs) != 2 || aws.ToString(attrs[0].FieldName) != "total" || aws.ToString(attrs[1].Source) != "_source.channel" ||
		attrs[1].Values[1] != "phone" || aws.ToInt32(got.EventTriggerLimits.Periods[0].MaxInvocationsPerProfile) != 2 {
		t.Fatalf("GetEventTrigger answered %+v", got)
	}

	// An update changes what it sends.
	up, err := e.client.UpdateEventTrigger(t.Context(), &customerprofiles.UpdateEventTriggerInput{DomainName: aws.String(e.domain),
		EventTriggerName: aws.String("big-order"), Description: aws.String("orders over 100, any channel")})
	if err != nil || aws.ToString(up.Description) != "orders over 100, any channel" || aws.ToString(up.SegmentFilter) != "everyone" ||
		len(up.EventTriggerConditions) != 1 || !up.CreatedAt.Equal(*created.CreatedAt) {
		t.Fatalf("UpdateEventTrigger: %+v, %v", up, err)
	}

	t.Run("Errors", func(t *testing.T) {
		create := func(name, objectType string, conds []types.EventTriggerCondition, segment *string, limits *types.EventTriggerLimits) error {
			_, err := e.client.CreateEventTrigger(t.Context(), &customerprofiles.CreateEventTriggerInput{DomainName: aws.String(e.domain),
				EventTriggerName: aws.String(name), ObjectTypeName: aws.String(objectType), EventTriggerConditions: conds, SegmentFilter: segment,
				EventTriggerLimits: limits})
			return err
		}
		one := func(a types.ObjectAttribute) []types.EventTriggerCondition {
			return []types.EventTriggerCondition{{LogicalOperator: types.EventTriggerLogicalOperatorAny,
				EventTriggerDimensions: []types.EventTriggerDimension{{ObjectAttributes: []types.ObjectAttribute{a}}}}}
		}
		wantAPIError(t, create("x", "Nope", bigOrder(), nil, nil), "BadRequestException", "Nope")
		wantAPIError(t, create("x", "Orders", one(types.ObjectAttribute{FieldName: aws.String("nope"), ComparisonOperator: types.ComparisonOperatorInclusive, Values: []string{"a"}}), nil, nil),
			"BadRequestException", "FieldName", "nope")
		wantAPIError(t, create("x", "Orders", one(types.ObjectAttribute{ComparisonOperator: types.ComparisonOperatorInclusive, Values: []string{"a"}}), nil, nil),
			"BadRequestException", "FieldName or Source")
		wantAPIError(t, create("x", "Orders", one(types.ObjectAttribute{Source: aws.String("channel"), ComparisonOperator: types.ComparisonOperatorInclusive, Values: []string{"a"}}), nil, nil),
			"BadRequestException", "Source", "_source")
		wantAPIError(t, create("x", "Orders", one(types.ObjectAttribute{Source: aws.String("_source."), ComparisonOperator: types.ComparisonOperatorInclusive, Values: []string{"a"}}), nil, nil),
			"BadRequestException", "Source", "_source")
		wantAPIError(t, create("x", "Orders", one(types.ObjectAttribute{FieldName: aws.String("total"), ComparisonOperator: types.ComparisonOperatorLessThan, Values: []string{"cheap"}}), nil, nil),
			"BadRequestException", "ObjectAttributes[0]", "number")
		wantAPIError(t, create("x", "Orders", bigOrder(), aws.String("ghost"), nil), "BadRequestException", "SegmentFilter", "ghost")
		wantAPIError(t, create("x", "Orders", bigOrder(), nil, &types.EventTriggerLimits{Periods: []types.Period{
			{Unit: types.PeriodUnitHours, Value: aws.Int32(1), Unlimited: true, MaxInvocationsPerProfile: aws.Int32(3)}}}), "BadRequestException", "Periods[0]")
		wantAPIError(t, create("big-order", "Orders", bigOrder(), nil, nil), "BadRequestException", "big-order", "already exists")
		_, err := e.client.UpdateEventTrigger(t.Context(), &customerprofiles.UpdateEventTriggerInput{DomainName: aws.String(e.domain),
			EventTriggerName: aws.String("big-order"), ObjectTypeName: aws.String("contact")})
		wantAPIError(t, err, "BadRequestException", "FieldName", "total") // Orders' fields are not contact's
		_, err = e.client.GetEventTrigger(t.Context(), &customerprofiles.GetEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("ghost")})
		wantAPIError(t, err, "ResourceNotFoundException", "ghost")
		_, err = e.client.ListEventTriggers(t.Context(), &customerprofiles.ListEventTriggersInput{DomainName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
	})

	t.Run("ReferenceDeleted", func(t *testing.T) {
		// A trigger whose object type was deleted since: an update that
		// leaves the type alone goes through; one that names it again is
		// checked.
		e.putType(contactType("gone"))
		if _, err := e.client.CreateEventTrigger(t.Context(), &customerprofiles.CreateEventTriggerInput{DomainName: aws.String(e.domain),
			EventTriggerName: aws.String("orphan"), ObjectTypeName: aws.String("gone"), EventTriggerConditions: []types.EventTriggerCondition{{
				LogicalOperator: types.EventTriggerLogicalOperatorAny, EventTriggerDimensions: []types.EventTriggerDimension{{ObjectAttributes: []types.ObjectAttribute{{
					FieldName: aws.String("id"), ComparisonOperator: types.ComparisonOperatorExclusive, Values: []string{"x"}}}}}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DeleteProfileObjectType(t.Context(), &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("gone")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.UpdateEventTrigger(t.Context(), &customerprofiles.UpdateEventTriggerInput{DomainName: aws.String(e.domain),
			EventTriggerName: aws.String("orphan"), Description: aws.String("only the description")}); err != nil {
			t.Errorf("UpdateEventTrigger of the description of a trigger whose type was deleted: %v", err)
		}
		_, err := e.client.UpdateEventTrigger(t.Context(), &customerprofiles.UpdateEventTriggerInput{DomainName: aws.String(e.domain),
			EventTriggerName: aws.String("orphan"), ObjectTypeName: aws.String("gone")})
		wantAPIError(t, err, "BadRequestException", "gone")
		if _, err := e.client.DeleteEventTrigger(t.Context(), &customerprofiles.DeleteEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("orphan")}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ListAndDelete", func(t *testing.T) {
		for _, name := range []string{"a-trigger", "z-trigger"} {
			if _, err := e.client.CreateEventTrigger(t.Context(), &customerprofiles.CreateEventTriggerInput{DomainName: aws.String(e.domain),
				EventTriggerName: aws.String(name), ObjectTypeName: aws.String("Orders"), EventTriggerConditions: bigOrder()}); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		p := customerprofiles.NewListEventTriggersPaginator(e.client, &customerprofiles.ListEventTriggersInput{DomainName: aws.String(e.domain), MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("ListEventTriggers: %v", err)
			}
			for _, it := range out.Items {
				names = append(names, aws.ToString(it.EventTriggerName))
			}
		}
		if len(names) != 3 || names[0] != "a-trigger" || names[1] != "big-order" || names[2] != "z-trigger" {
			t.Fatalf("listed %v", names)
		}
		// An integration names only triggers that exist, and a trigger an
		// integration names is not deleted (the model's DeleteEventTrigger).
		const instance = "arn:aws:connect:us-east-1:000000000000:instance/11111111-2222-3333-4444-555555555555"
		_, err := e.client.PutIntegration(t.Context(), &customerprofiles.PutIntegrationInput{DomainName: aws.String(e.domain),
			Uri: aws.String(instance), ObjectTypeName: aws.String("Orders"), EventTriggerNames: []string{"no-such-trigger"}})
		wantAPIError(t, err, "BadRequestException", "no-such-trigger")
		if _, err := e.client.PutIntegration(t.Context(), &customerprofiles.PutIntegrationInput{DomainName: aws.String(e.domain),
			Uri: aws.String(instance), ObjectTypeName: aws.String("Orders"), EventTriggerNames: []string{"big-order"}}); err != nil {
			t.Fatal(err)
		}
		_, err = e.client.DeleteEventTrigger(t.Context(), &customerprofiles.DeleteEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order")})
		wantAPIError(t, err, "BadRequestException", instance)
		if _, err := e.client.DeleteIntegration(t.Context(), &customerprofiles.DeleteIntegrationInput{DomainName: aws.String(e.domain), Uri: aws.String(instance)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DeleteEventTrigger(t.Context(), &customerprofiles.DeleteEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order")}); err != nil {
			t.Fatal(err)
		}
		_, err = e.client.DeleteEventTrigger(t.Context(), &customerprofiles.DeleteEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order")})
		wantAPIError(t, err, "ResourceNotFoundException", "big-order")
	})
}

// TestEventTriggers_UpdateLimits: EventTriggerLimits' members are each
// optional, and an update changes the members it sends: EventExpiration
// alone keeps the periods, Periods alone keep the expiration.
func TestEventTriggers_UpdateLimits(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	day := types.Period{Unit: types.PeriodUnitDays, Value: aws.Int32(1), MaxInvocationsPerProfile: aws.Int32(2)}
	if _, err := e.client.CreateEventTrigger(t.Context(), &customerprofiles.CreateEventTriggerInput{
		DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order"), ObjectTypeName: aws.String("Orders"),
		EventTriggerConditions: bigOrder(),
		EventTriggerLimits:     &types.EventTriggerLimits{EventExpiration: aws.Int64(60000), Periods: []types.Period{day}},
	}); err != nil {
		t.Fatalf("CreateEventTrigger: %v", err)
	}
	// limits returns the trigger's limits as UpdateEventTrigger answered
	// and as GetEventTrigger reads them, which must agree.
	limits := func(l *types.EventTriggerLimits) string {
		t.Helper()
		up, err := e.client.UpdateEventTrigger(t.Context(), &customerprofiles.UpdateEventTriggerInput{DomainName: aws.String(e.domain),
			EventTriggerName: aws.String("big-order"), EventTriggerLimits: l})
		if err != nil {
			t.Fatalf("UpdateEventTrigger: %v", err)
		}
		got, err := e.client.GetEventTrigger(t.Context(), &customerprofiles.GetEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("big-order")})
		if err != nil {
			t.Fatalf("GetEventTrigger: %v", err)
		}
		show := func(l *types.EventTriggerLimits) string {
			if l == nil {
				return "none"
			}
			s := fmt.Sprintf("expiration=%d", aws.ToInt64(l.EventExpiration))
			for _, p := range l.Periods {
				s += fmt.Sprintf(" %d%s:max=%d,unlimited=%t", aws.ToInt32(p.Value), p.Unit, aws.ToInt32(p.MaxInvocationsPerProfile), p.Unlimited)
			}
			return s
		}
		if a, b := show(up.EventTriggerLimits), show(got.EventTriggerLimits); a != b {
			t.Fatalf("UpdateEventTrigger answered limits %s, GetEventTrigger reads %s", a, b)
		}
		return show(got.EventTriggerLimits)
	}
	for _, tt := range []struct {
		name   string
		limits *types.EventTriggerLimits
		want   string
	}{
		{"none sent", nil, "expiration=60000 1DAYS:max=2,unlimited=false"},
		{"expiration only", &types.EventTriggerLimits{EventExpiration: aws.Int64(5000)}, "expiration=5000 1DAYS:max=2,unlimited=false"},
		{"periods only", &types.EventTriggerLimits{Periods: []types.Period{
			{Unit: types.PeriodUnitHours, Value: aws.Int32(6), Unlimited: true}}}, "expiration=5000 6HOURS:max=0,unlimited=true"},
		{"empty limits", &types.EventTriggerLimits{}, "expiration=5000 6HOURS:max=0,unlimited=true"},
		{"both", &types.EventTriggerLimits{EventExpiration: aws.Int64(1000), Periods: []types.Period{day}}, "expiration=1000 1DAYS:max=2,unlimited=false"},
		{"expiration 0 removes it", &types.EventTriggerLimits{EventExpiration: aws.Int64(0)}, "expiration=0 1DAYS:max=2,unlimited=false"},
	} {
		if got := limits(tt.limits); got != tt.want {
			t.Errorf("%s: limits = %s, want %s", tt.name, got, tt.want)
		}
	}
	// The limits an update makes are checked whole.
	_, err := e.client.UpdateEventTrigger(t.Context(), &customerprofiles.UpdateEventTriggerInput{DomainName: aws.String(e.domain),
		EventTriggerName: aws.String("big-order"), EventTriggerLimits: &types.EventTriggerLimits{EventExpiration: aws.Int64(-1)}})
	wantAPIError(t, err, "BadRequestException", "EventExpiration")
}
