package main_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// ordersType maps orders: id (UNIQUE), email (PROFILE), numbers and a
// channel that only feed calculated attributes, and the source's time.
func ordersType() *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("Orders"), Description: aws.String("web shop orders"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":                          field("_source.id", "", "STRING"),
			"email":                       field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"total":                       field("_source.total", "", "NUMBER"),
			"price":                       field("_source.price", "", "NUMBER"),
			"qty":                         field("_source.qty", "", "NUMBER"),
			"channel":                     field("_source.channel", "", "STRING"),
			"_sourceLastUpdatedTimestamp": field("_source.updated", "", "STRING"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"orderId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":  key([]string{"email"}, types.StandardIdentifierProfile),
		},
	}
}

type calcDef struct {
	name, expr, stat string
	attrs            []string
	conditions       *types.Conditions
	filter           *types.Filter
	historical       bool
}

func (e *ingestEnv) createCalc(d calcDef) (*customerprofiles.CreateCalculatedAttributeDefinitionOutput, error) {
	var items []types.AttributeItem
	for _, a := range d.attrs {
		items = append(items, types.AttributeItem{Name: aws.String(a)})
	}
	return e.client.CreateCalculatedAttributeDefinition(e.t.Context(), &customerprofiles.CreateCalculatedAttributeDefinitionInput{
		DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String(d.name), DisplayName: aws.String(d.name),
		AttributeDetails: &types.AttributeDetails{Attributes: items, Expression: aws.String(d.expr)},
		Statistic:        types.Statistic(d.stat), Conditions: d.conditions, Filter: d.filter, UseHistoricalData: aws.Bool(d.historical),
	})
}

func (e *ingestEnv) calcValue(profileID, name string) *customerprofiles.GetCalculatedAttributeForProfileOutput {
	e.t.Helper()
	out, err := e.client.GetCalculatedAttributeForProfile(e.t.Context(), &customerprofiles.GetCalculatedAttributeForProfileInput{
		DomainName: aws.String(e.domain), ProfileId: aws.String(profileID), CalculatedAttributeName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("GetCalculatedAttributeForProfile %s: %v", name, err)
	}
	return out
}

// TestCalculatedAttributes drives the eight calculated-attribute
// operations through the SDK: definitions, values from the profile's
// objects with each statistic, ranges, object counts, thresholds, filters
// and historical data, the batch read with a range override, and errors.
func TestCalculatedAttributes(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	now := time.Now().UTC()
	day := func(n int) string { return now.AddDate(0, 0, -n).Format(time.RFC3339) }

	// Defined before the orders arrive: only new data counts (the default).
	gt := types.OperatorGreaterThan
	for _, d := range []calcDef{
		{name: "total_spend", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"}},
		{name: "order_count", expr: "{Orders.total}", stat: "COUNT", attrs: []string{"total"}},
		{name: "avg_basket", expr: "{Orders.price} * {Orders.qty}", stat: "AVERAGE", attrs: []string{"Orders.price", "qty"}},
		{name: "smallest", expr: "{Orders.total}", stat: "MINIMUM", attrs: []string{"total"}},
		{name: "largest", expr: "{Orders.total}", stat: "MAXIMUM", attrs: []string{"total"}},
		{name: "favourite_channel", expr: "{Orders.channel}", stat: "MAX_OCCURRENCE", attrs: []string{"channel"}},
		{name: "first_channel", expr: "{Orders.channel}", stat: "FIRST_OCCURRENCE", attrs: []string{"channel"}},
		{name: "last_channel", expr: "{Orders.channel}", stat: "LAST_OCCURRENCE", attrs: []string{"channel"}},
		{name: "big_spender", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"},
			conditions: &types.Conditions{Threshold: &types.Threshold{Value: aws.String("100"), Operator: gt}}},
		{name: "recent_orders", expr: "{Orders.total}", stat: "COUNT", attrs: []string{"total"},
			conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(30), Unit: types.UnitDays}}},
		{name: "last_two", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"},
			conditions: &types.Conditions{ObjectCount: aws.Int32(2)}},
		{name: "web_orders", expr: "{Orders.total}", stat: "COUNT", attrs: []string{"total"},
			filter: &types.Filter{Include: types.IncludeAll, Groups: []types.FilterGroup{{Type: types.TypeAll,
				Dimensions: []types.FilterDimension{{Attributes: map[string]types.FilterAttributeDimension{
					"channel": {DimensionType: types.FilterDimensionTypeInclusive, Values: []string{"web"}}}}}}}}},
	} {
		out, err := e.createCalc(d)
		if err != nil {
			t.Fatalf("CreateCalculatedAttributeDefinition %s: %v", d.name, err)
		}
		if aws.ToString(out.CalculatedAttributeName) != d.name || out.Status != types.ReadinessStatusCompleted || out.CreatedAt == nil ||
			aws.ToString(out.AttributeDetails.Expression) != d.expr || string(out.Statistic) != d.stat {
			t.Fatalf("CreateCalculatedAttributeDefinition %s answered %+v", d.name, out)
		}
	}

	// Ann: five orders over 40 days; Bob: one.
	for i, o := range []map[string]any{
		{"total": 40, "price": 10, "qty": 4, "channel": "web", "updated": day(40)},
		{"total": 25.5, "price": 5, "qty": 5, "channel": "phone", "updated": day(20)},
		{"total": 10, "price": 2, "qty": 5, "channel": "web", "updated": day(9)},
		{"total": 60, "price": 20, "qty": 3, "channel": "store", "updated": day(5)},
		{"total": "n/a", "channel": "phone", "updated": day(1)},
	} {
		o["id"], o["email"] = fmt.Sprint("a", i), "ann@example.com"
		e.mustPut("Orders", o)
	}
	e.mustPut("Orders", map[string]any{"id": "b1", "email": "bob@example.com", "total": 7, "channel": "web", "updated": day(2)})
	ann := aws.ToString(e.mustOne("_email", "ann@example.com").ProfileId)
	bob := aws.ToString(e.mustOne("_email", "bob@example.com").ProfileId)

	want := map[string]string{
		"total_spend": "135.5", "order_count": "5", "avg_basket": "33.75", "smallest": "10", "largest": "60",
		"favourite_channel": "phone", "first_channel": "web", "last_channel": "phone", "big_spender": "true",
		"recent_orders": "4", "last_two": "60", "web_orders": "2",
	}
	for name, v := range want {
		got := e.calcValue(ann, name)
		// recent_orders' 30 days reach back before its creation: partial.
		partial := fmt.Sprint(name == "recent_orders")
		if aws.ToString(got.Value) != v || aws.ToString(got.IsDataPartial) != partial || aws.ToString(got.CalculatedAttributeName) != name {
			t.Errorf("%s for Ann: %q (partial %s), want %q (partial %s)", name, aws.ToString(got.Value), aws.ToString(got.IsDataPartial), v, partial)
		}
		if name == "total_spend" && (got.LastObjectTimestamp == nil || got.LastObjectTimestamp.Sub(now.AddDate(0, 0, -1)).Abs() > time.Second) {
			t.Errorf("total_spend: LastObjectTimestamp %v, want Ann's newest order (%v)", got.LastObjectTimestamp, now.AddDate(0, 0, -1))
		}
	}
	if got := e.calcValue(bob, "big_spender"); aws.ToString(got.Value) != "false" {
		t.Errorf("big_spender for Bob: %q, want false", aws.ToString(got.Value))
	}

	t.Run("ListForProfile", func(t *testing.T) {
		var names []string
		var token *string
		for {
			out, err := e.client.ListCalculatedAttributesForProfile(t.Context(), &customerprofiles.ListCalculatedAttributesForProfileInput{
				DomainName: aws.String(e.domain), ProfileId: aws.String(ann), MaxResults: aws.Int32(5), NextToken: token})
			if err != nil {
				t.Fatalf("ListCalculatedAttributesForProfile: %v", err)
			}
			for _, it := range out.Items {
				names = append(names, aws.ToString(it.CalculatedAttributeName))
				if w := want[aws.ToString(it.CalculatedAttributeName)]; aws.ToString(it.Value) != w {
					t.Errorf("listed %s = %q, want %q", aws.ToString(it.CalculatedAttributeName), aws.ToString(it.Value), w)
				}
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		var all []string
		for name := range want {
			all = append(all, name)
		}
		slices.Sort(all)
		if !slices.Equal(names, all) {
			t.Errorf("listed %v, want %v", names, all)
		}
	})

	t.Run("BatchGet", func(t *testing.T) {
		missing := "0123456789abcdef0123456789abcdef"
		out, err := e.client.BatchGetCalculatedAttributeForProfile(t.Context(), &customerprofiles.BatchGetCalculatedAttributeForProfileInput{
			DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("recent_orders"), ProfileIds: []string{ann, missing, bob},
			ConditionOverrides: &types.ConditionOverrides{Range: &types.RangeOverride{Start: aws.Int32(10), Unit: types.RangeUnitDays}},
		})
		if err != nil {
			t.Fatalf("BatchGetCalculatedAttributeForProfile: %v", err)
		}
		got := map[string]string{}
		for _, v := range out.CalculatedAttributeValues {
			got[aws.ToString(v.ProfileId)] = aws.ToString(v.Value)
		}
		if got[ann] != "3" || got[bob] != "1" || len(got) != 2 {
			t.Errorf("values over the last 10 days: %v, want Ann 3 and Bob 1", got)
		}
		if len(out.Errors) != 1 || aws.ToString(out.Errors[0].ProfileId) != missing || aws.ToString(out.Errors[0].Code) != "ResourceNotFoundException" {
			t.Errorf("errors %+v, want the missing profile", out.Errors)
		}
	})

	t.Run("HistoricalData", func(t *testing.T) {
		// Defined after the orders: without UseHistoricalData they do not
		// count, with it they do.
		for _, d := range []calcDef{
			{name: "new_only", expr: "{Orders.total}", stat: "COUNT", attrs: []string{"total"}},
			{name: "with_history", expr: "{Orders.total}", stat: "COUNT", attrs: []string{"total"}, historical: true},
		} {
			if _, err := e.createCalc(d); err != nil {
				t.Fatal(err)
			}
		}
		if got := aws.ToString(e.calcValue(ann, "new_only").Value); got != "0" {
			t.Errorf("new_only: %q, want 0", got)
		}
		if got := aws.ToString(e.calcValue(ann, "with_history").Value); got != "5" {
			t.Errorf("with_history: %q, want 5", got)
		}
		e.mustPut("Orders", map[string]any{"id": "a9", "email": "ann@example.com", "total": 1, "updated": day(0)})
		if got := aws.ToString(e.calcValue(ann, "new_only").Value); got != "1" {
			t.Errorf("new_only after a new order: %q, want 1", got)
		}
		for _, name := range []string{"new_only", "with_history"} {
			if _, err := e.client.DeleteCalculatedAttributeDefinition(t.Context(), &customerprofiles.DeleteCalculatedAttributeDefinitionInput{
				DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.client.GetCalculatedAttributeDefinition(t.Context(), &customerprofiles.GetCalculatedAttributeDefinitionInput{
			DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("new_only")})
		wantAPIError(t, err, "ResourceNotFoundException", "new_only")
	})

	t.Run("Update", func(t *testing.T) {
		out, err := e.client.UpdateCalculatedAttributeDefinition(t.Context(), &customerprofiles.UpdateCalculatedAttributeDefinitionInput{
			DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("recent_orders"), DisplayName: aws.String("Orders this week"),
			Conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(7), Unit: types.UnitDays}}})
		if err != nil {
			t.Fatalf("UpdateCalculatedAttributeDefinition: %v", err)
		}
		if aws.ToString(out.DisplayName) != "Orders this week" || aws.ToInt32(out.Conditions.Range.Value) != 7 || aws.ToString(out.AttributeDetails.Expression) != "{Orders.total}" {
			t.Errorf("UpdateCalculatedAttributeDefinition answered %+v", out)
		}
		if got := aws.ToString(e.calcValue(ann, "recent_orders").Value); got != "3" { // days 5, 1 and 0
			t.Errorf("recent_orders over 7 days: %q, want 3", got)
		}
		def, err := e.client.GetCalculatedAttributeDefinition(t.Context(), &customerprofiles.GetCalculatedAttributeDefinitionInput{
			DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("web_orders")})
		if err != nil || def.Filter == nil || def.Filter.Groups[0].Dimensions[0].Attributes["channel"].Values[0] != "web" || def.Statistic != types.StatisticCount {
			t.Errorf("GetCalculatedAttributeDefinition: %+v, %v", def, err)
		}
		list, err := e.client.ListCalculatedAttributeDefinitions(t.Context(), &customerprofiles.ListCalculatedAttributeDefinitionsInput{DomainName: aws.String(e.domain)})
		if err != nil || len(list.Items) != len(want) || aws.ToString(list.Items[0].CalculatedAttributeName) != "avg_basket" {
			t.Errorf("ListCalculatedAttributeDefinitions: %+v, %v", list, err)
		}
	})

	t.Run("TypeDeleted", func(t *testing.T) {
		// A definition whose object type was deleted: reading it says why,
		// and the profile's list still answers, without its value.
		typ := contactType("gone")
		e.putType(typ)
		if _, err := e.createCalc(calcDef{name: "zz_gone", expr: "{gone.id}", stat: "COUNT", attrs: []string{"id"}, historical: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DeleteProfileObjectType(t.Context(), &customerprofiles.DeleteProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("gone")}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.GetCalculatedAttributeForProfile(t.Context(), &customerprofiles.GetCalculatedAttributeForProfileInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(ann), CalculatedAttributeName: aws.String("zz_gone")})
		wantAPIError(t, err, "BadRequestException", "gone")
		out, err := e.client.ListCalculatedAttributesForProfile(t.Context(), &customerprofiles.ListCalculatedAttributesForProfileInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(ann), MaxResults: aws.Int32(100)})
		if err != nil {
			t.Fatalf("ListCalculatedAttributesForProfile: %v", err)
		}
		last := out.Items[len(out.Items)-1]
		if aws.ToString(last.CalculatedAttributeName) != "zz_gone" || last.Value != nil || len(out.Items) != len(want)+1 {
			t.Errorf("listed %d items, the last %s = %v; want zz_gone without a value", len(out.Items), aws.ToString(last.CalculatedAttributeName), aws.ToString(last.Value))
		}
		if _, err := e.client.DeleteCalculatedAttributeDefinition(t.Context(), &customerprofiles.DeleteCalculatedAttributeDefinitionInput{
			DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("zz_gone")}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			d     calcDef
			words []string
		}{
			{calcDef{name: "x", expr: "Orders.total", stat: "SUM", attrs: []string{"total"}}, []string{"Expression"}},
			{calcDef{name: "x", expr: "{Nope.total}", stat: "SUM", attrs: []string{"total"}}, []string{"Nope"}},
			{calcDef{name: "x", expr: "{Orders.nope}", stat: "SUM", attrs: []string{"nope"}}, []string{"nope"}},
			{calcDef{name: "x", expr: "{Orders.total}", stat: "SUM", attrs: []string{"price"}}, []string{"total", "Attributes"}},
			{calcDef{name: "x", expr: "{Orders.total} % {Orders.qty}", stat: "SUM", attrs: []string{"total", "qty"}}, []string{"Expression"}},
			{calcDef{name: "x", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"},
				conditions: &types.Conditions{Threshold: &types.Threshold{Value: aws.String("lots"), Operator: gt}}}, []string{"Threshold", "number"}},
			{calcDef{name: "x", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"},
				conditions: &types.Conditions{Range: &types.Range{Unit: types.UnitDays, ValueRange: &types.ValueRange{Start: aws.Int32(1), End: aws.Int32(5)}}}}, []string{"ValueRange"}},
			{calcDef{name: "x", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"},
				filter: &types.Filter{Include: types.IncludeAll, Groups: []types.FilterGroup{{Type: types.TypeAll, Dimensions: []types.FilterDimension{{Attributes: map[string]types.FilterAttributeDimension{
					"total": {DimensionType: types.FilterDimensionTypeGreaterThan, Values: []string{"ten"}}}}}}}}}, []string{"Filter", "number"}},
			{calcDef{name: "x", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"},
				conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(3), Unit: types.UnitDays, TimestampSource: aws.String("{Orders.a..b}")}}}, []string{"TimestampSource"}},
			{calcDef{name: "total_spend", expr: "{Orders.total}", stat: "SUM", attrs: []string{"total"}}, []string{"total_spend", "already exists"}},
		} {
			_, err := e.createCalc(tt.d)
			wantAPIError(t, err, "BadRequestException", tt.words...)
		}
		_, err := e.client.GetCalculatedAttributeForProfile(t.Context(), &customerprofiles.GetCalculatedAttributeForProfileInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String("0123456789abcdef0123456789abcdef"), CalculatedAttributeName: aws.String("total_spend")})
		wantAPIError(t, err, "ResourceNotFoundException", "0123456789abcdef0123456789abcdef")
		_, err = e.client.GetCalculatedAttributeForProfile(t.Context(), &customerprofiles.GetCalculatedAttributeForProfileInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(ann), CalculatedAttributeName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
		_, err = e.client.ListCalculatedAttributeDefinitions(t.Context(), &customerprofiles.ListCalculatedAttributeDefinitionsInput{DomainName: aws.String("nope")})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
	})
}

// TestCalculatedAttributes_FilterDates: a Filter's date bound without a
// time of day is its whole day (UTC), as in segments: AFTER it starts the
// next day, BETWEEN two dates takes the last one whole, ON reads the day.
func TestCalculatedAttributes_FilterDates(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	for _, o := range []struct{ id, updated string }{
		{"o1", "2024-01-01T00:00:00Z"}, {"o2", "2024-01-31T10:00:00Z"}, {"o3", "2024-02-01T00:00:00Z"},
	} {
		e.mustPut("Orders", map[string]any{"id": o.id, "email": "dates@example.com", "total": 1, "updated": o.updated})
	}
	id := aws.ToString(e.mustOne("_email", "dates@example.com").ProfileId)
	for _, tt := range []struct {
		name   string
		op     types.FilterDimensionType
		values []string
		want   string
	}{
		{"after_day", types.FilterDimensionTypeAfter, []string{"2024-01-31"}, "1"},
		{"after_time", types.FilterDimensionTypeAfter, []string{"2024-01-31T09:00:00Z"}, "2"},
		{"before_day", types.FilterDimensionTypeBefore, []string{"2024-01-31"}, "1"},
		{"on_day", types.FilterDimensionTypeOn, []string{"2024-01-31"}, "1"},
		{"between_days", types.FilterDimensionTypeBetween, []string{"2024-01-02", "2024-01-31"}, "1"},
		{"not_between_days", types.FilterDimensionTypeNotBetween, []string{"2024-01-02", "2024-01-31"}, "2"},
	} {
		_, err := e.createCalc(calcDef{name: tt.name, expr: "{Orders.total}", stat: "COUNT", attrs: []string{"total"}, historical: true,
			filter: &types.Filter{Include: types.IncludeAll, Groups: []types.FilterGroup{{Type: types.TypeAll,
				Dimensions: []types.FilterDimension{{Attributes: map[string]types.FilterAttributeDimension{
					"_sourceLastUpdatedTimestamp": {DimensionType: tt.op, Values: tt.values}}}}}}}})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := aws.ToString(e.calcValue(id, tt.name).Value); got != tt.want {
			t.Errorf("%s %v: COUNT %s, want %s", tt.op, tt.values, got, tt.want)
		}
	}
}
