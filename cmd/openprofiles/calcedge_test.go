package main_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	"github.com/openprofiles/profiles"
)

// visitsType maps visits: two numbers a and b, a channel, and times in
// the object (meta.iso, meta.ms, meta.sec) that only a range's
// TimestampSource reads; the visit's own time is when it was ingested.
func visitsType() *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("Visits"), Description: aws.String("visits"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":    field("_source.id", "", "STRING"),
			"email": field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"a":     field("_source.a", "", "NUMBER"),
			"b":     field("_source.b", "", "NUMBER"),
			"ch":    field("_source.ch", "", "STRING"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"visitId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":  key([]string{"email"}, types.StandardIdentifierProfile),
		},
	}
}

// TestCalculatedAttributes_EdgeCases computes definitions an AWS user
// could bring over, on a profile with no object, one with one, one whose
// only value is not a number and one with four, and checks each value:
// every statistic, expressions with two attributes and each operator,
// ties of MAX_OCCURRENCE, ranges on the object's own time (ISO 8601 with
// an offset, epoch milliseconds, epoch seconds) and on ingestion time,
// ValueRange windows, ObjectCount and every threshold operator.
func TestCalculatedAttributes_EdgeCases(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	e := newIngestEnvClock(t, clock)
	e.putType(visitsType())
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	const day = 24 * time.Hour

	put := func(at time.Time, v map[string]any) {
		t.Helper()
		clock.now = at // ingested then
		e.mustPut("Visits", v)
	}
	when := func(d time.Duration) map[string]any {
		tm := ago(d)
		return map[string]any{
			"iso": tm.In(time.FixedZone("", -7*3600)).Format("2006-01-02T15:04:05.000-0700"),
			"ms":  strconv.FormatInt(tm.UnixMilli(), 10),
			"sec": tm.Unix(),
		}
	}
	// many: ingested 3 days, 50 hours, 1 day and 1 hour ago; their own
	// times are 12, 8, 5 and 1 days ago.
	put(ago(3*day), map[string]any{"id": "m1", "email": "many@example.com", "a": 10, "b": 4, "ch": "web", "meta": when(12 * day)})
	put(ago(50*time.Hour), map[string]any{"id": "m2", "email": "many@example.com", "a": 6, "b": 0, "ch": "phone", "meta": when(8 * day)})
	put(ago(day), map[string]any{"id": "m3", "email": "many@example.com", "a": "x", "b": 3, "ch": "phone", "meta": when(5 * day)})
	put(ago(time.Hour), map[string]any{"id": "m4", "email": "many@example.com", "a": 2, "b": 1, "ch": "web", "meta": when(day)})
	put(ago(time.Hour), map[string]any{"id": "o1", "email": "one@example.com", "a": 4, "b": 2, "ch": "web"})
	put(ago(time.Hour), map[string]any{"id": "t1", "email": "text@example.com", "a": "n/a", "ch": "chat"})
	clock.now = t0
	empty, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String(e.domain), EmailAddress: aws.String("empty@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	profiles := map[string]string{"empty": aws.ToString(empty.ProfileId)}
	for _, p := range []string{"many", "one", "text"} {
		profiles[p] = aws.ToString(e.mustOne("_email", p+"@example.com").ProfileId)
	}

	rng := func(r types.Range) *types.Conditions {
		r.Unit = types.UnitDays
		return &types.Conditions{Range: &r}
	}
	th := func(op types.Operator, v string) *types.Conditions {
		return &types.Conditions{Threshold: &types.Threshold{Operator: op, Value: aws.String(v)}}
	}
	a, ch := []string{"a"}, []string{"ch"}
	ab := []string{"a", "b"}
	const none = "<none>"
	for _, tt := range []struct {
		d    calcDef
		want map[string]string // profile -> value; none: no value
	}{
		// Every statistic on no object, one, a text one and four.
		{calcDef{name: "count", expr: "{Visits.a}", stat: "COUNT", attrs: a}, map[string]string{"empty": "0", "one": "1", "text": "1", "many": "4"}},
		{calcDef{name: "sum", expr: "{Visits.a}", stat: "SUM", attrs: a}, map[string]string{"empty": none, "one": "4", "text": none, "many": "18"}},
		{calcDef{name: "avg", expr: "{Visits.a}", stat: "AVERAGE", attrs: a}, map[string]string{"empty": none, "one": "4", "text": none, "many": "6"}},
		{calcDef{name: "min", expr: "{Visits.a}", stat: "MINIMUM", attrs: a}, map[string]string{"empty": none, "one": "4", "text": none, "many": "2"}},
		{calcDef{name: "max", expr: "{Visits.a}", stat: "MAXIMUM", attrs: a}, map[string]string{"empty": none, "one": "4", "text": none, "many": "10"}},
		{calcDef{name: "first", expr: "{Visits.a}", stat: "FIRST_OCCURRENCE", attrs: a}, map[string]string{"empty": none, "one": "4", "text": "n/a", "many": "10"}},
		{calcDef{name: "last", expr: "{Visits.a}", stat: "LAST_OCCURRENCE", attrs: a}, map[string]string{"empty": none, "one": "4", "text": "n/a", "many": "2"}},
		// web, phone, phone, web: a tie, won by the value seen last.
		{calcDef{name: "most", expr: "{Visits.ch}", stat: "MAX_OCCURRENCE", attrs: ch}, map[string]string{"empty": none, "one": "web", "text": "chat", "many": "web"}},
		// Two attributes: an object without both numbers does not count,
		// nor one dividing by zero.
		{calcDef{name: "plus", expr: "{Visits.a} + {Visits.b}", stat: "SUM", attrs: ab}, map[string]string{"empty": none, "one": "6", "text": none, "many": "23"}},
		{calcDef{name: "minus", expr: "{Visits.a}-{Visits.b}", stat: "SUM", attrs: ab}, map[string]string{"one": "2", "many": "13"}},
		{calcDef{name: "times", expr: "{Visits.a} * {Visits.b}", stat: "MAXIMUM", attrs: []string{"Visits.a", "Visits.b"}}, map[string]string{"one": "8", "many": "40"}},
		{calcDef{name: "divide", expr: "{Visits.a} / {Visits.b}", stat: "AVERAGE", attrs: ab}, map[string]string{"one": "2", "many": "2.25"}},
		{calcDef{name: "divide_count", expr: "{Visits.a} / {Visits.b}", stat: "COUNT", attrs: ab}, map[string]string{"text": "0", "many": "2"}},
		// Ranges: on the object's own time, read in each format...
		{calcDef{name: "iso_window", expr: "{Visits.a}", stat: "COUNT", attrs: a, conditions: rng(types.Range{
			ValueRange: &types.ValueRange{Start: aws.Int32(10), End: aws.Int32(3)}, TimestampSource: aws.String("{Visits.meta.iso}"), TimestampFormat: aws.String("ISO_8601")})},
			map[string]string{"many": "2", "one": "0"}},
		{calcDef{name: "ms_week", expr: "{Visits.a}", stat: "SUM", attrs: a, conditions: rng(types.Range{
			Value: aws.Int32(7), TimestampSource: aws.String("{Visits.meta.ms}"), TimestampFormat: aws.String("EPOCHMILLI")})},
			map[string]string{"many": "2", "one": none}},
		{calcDef{name: "sec_week", expr: "{Visits.a}", stat: "COUNT", attrs: a, conditions: rng(types.Range{
			Value: aws.Int32(7), TimestampSource: aws.String("{Visits.meta.sec}"), TimestampFormat: aws.String("EPOCHMILLI")})},
			map[string]string{"many": "2"}},
		{calcDef{name: "future_window", expr: "{Visits.a}", stat: "COUNT", attrs: a, conditions: rng(types.Range{
			ValueRange: &types.ValueRange{Start: aws.Int32(0), End: aws.Int32(-5)}, TimestampSource: aws.String("{Visits.meta.ms}"), TimestampFormat: aws.String("EPOCHMILLI")})},
			map[string]string{"many": "0"}},
		// ...and, without a TimestampSource, on ingestion time.
		{calcDef{name: "ingested_2d", expr: "{Visits.a}", stat: "COUNT", attrs: a, conditions: rng(types.Range{Value: aws.Int32(2)})},
			map[string]string{"many": "2", "one": "1"}},
		{calcDef{name: "ingested_window", expr: "{Visits.a}", stat: "FIRST_OCCURRENCE", attrs: a, conditions: rng(types.Range{
			ValueRange: &types.ValueRange{Start: aws.Int32(4), End: aws.Int32(2)}})},
			map[string]string{"many": "10", "one": none}},
		// ObjectCount keeps the newest.
		{calcDef{name: "newest_two", expr: "{Visits.a}", stat: "SUM", attrs: a, conditions: &types.Conditions{ObjectCount: aws.Int32(2)}},
			map[string]string{"many": "2", "one": "4"}},
		{calcDef{name: "newest_three_first", expr: "{Visits.ch}", stat: "FIRST_OCCURRENCE", attrs: ch, conditions: &types.Conditions{ObjectCount: aws.Int32(3)}},
			map[string]string{"many": "phone"}},
		// Thresholds, numerically, on every operator.
		{calcDef{name: "th_gt", expr: "{Visits.a}", stat: "SUM", attrs: a, conditions: th(types.OperatorGreaterThan, "17.5")}, map[string]string{"many": "true", "one": "false", "text": none}},
		{calcDef{name: "th_lt", expr: "{Visits.a}", stat: "SUM", attrs: a, conditions: th(types.OperatorLessThan, "18")}, map[string]string{"many": "false", "one": "true"}},
		{calcDef{name: "th_eq", expr: "{Visits.a}", stat: "SUM", attrs: a, conditions: th(types.OperatorEqualTo, "18.0")}, map[string]string{"many": "true", "one": "false"}},
		{calcDef{name: "th_ne", expr: "{Visits.a}", stat: "SUM", attrs: a, conditions: th(types.OperatorNotEqualTo, "18")}, map[string]string{"many": "false", "one": "true"}},
		{calcDef{name: "th_count", expr: "{Visits.a}", stat: "COUNT", attrs: a, conditions: th(types.OperatorLessThan, "1")}, map[string]string{"empty": "true", "many": "false"}},
		{calcDef{name: "th_text", expr: "{Visits.ch}", stat: "LAST_OCCURRENCE", attrs: ch, conditions: th(types.OperatorEqualTo, "web")}, map[string]string{"many": "true", "text": "false"}},
	} {
		tt.d.historical = true
		if _, err := e.createCalc(tt.d); err != nil {
			t.Fatalf("CreateCalculatedAttributeDefinition %s: %v", tt.d.name, err)
		}
		for p, want := range tt.want {
			got := e.calcValue(profiles[p], tt.d.name)
			v := none
			if got.Value != nil {
				v = *got.Value
			}
			if v != want || aws.ToString(got.IsDataPartial) != "false" {
				t.Errorf("%s for %s = %s (partial %s), want %s", tt.d.name, p, v, aws.ToString(got.IsDataPartial), want)
			}
		}
	}
	if got := e.calcValue(profiles["empty"], "sum"); got.LastObjectTimestamp != nil {
		t.Errorf("sum for a profile without objects: LastObjectTimestamp %v, want none", got.LastObjectTimestamp)
	}
	if got := e.calcValue(profiles["many"], "ms_week"); got.LastObjectTimestamp == nil || !got.LastObjectTimestamp.Equal(ago(day)) {
		t.Errorf("ms_week: LastObjectTimestamp %v, want the newest object's own time %v", got.LastObjectTimestamp, ago(day))
	}
}

// TestCalculatedAttributes_Partial: a definition without historical data
// has partial data, as AWS documents IsDataPartial, until its range has
// elapsed since its creation, or while fewer objects than its ObjectCount
// were ingested since.
func TestCalculatedAttributes_Partial(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	e := newIngestEnvClock(t, clock)
	e.putType(visitsType())
	e.mustPut("Visits", map[string]any{"id": "old", "email": "ann@example.com", "a": 1})
	ann := aws.ToString(e.mustOne("_email", "ann@example.com").ProfileId)
	clock.add(time.Hour)
	for _, d := range []calcDef{
		{name: "month", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(28), Unit: types.UnitDays}}},
		{name: "month_history", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, historical: true, conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(28), Unit: types.UnitDays}}},
		{name: "last_three", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{ObjectCount: aws.Int32(3)}},
		{name: "all_time", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}},
	} {
		if _, err := e.createCalc(d); err != nil {
			t.Fatalf("CreateCalculatedAttributeDefinition %s: %v", d.name, err)
		}
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		for name, w := range want {
			got := e.calcValue(ann, name)
			if s := aws.ToString(got.Value) + "/" + aws.ToString(got.IsDataPartial); s != w {
				t.Errorf("%s: %s = %s (value/partial), want %s", when, name, s, w)
			}
		}
		out, err := e.client.ListCalculatedAttributesForProfile(t.Context(), &customerprofiles.ListCalculatedAttributesForProfileInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(ann)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			if w, ok := want[aws.ToString(it.CalculatedAttributeName)]; ok && aws.ToString(it.Value)+"/"+aws.ToString(it.IsDataPartial) != w {
				t.Errorf("%s: listed %s = %s/%s, want %s", when, aws.ToString(it.CalculatedAttributeName), aws.ToString(it.Value), aws.ToString(it.IsDataPartial), w)
			}
		}
	}
	check("at creation", map[string]string{"month": "/true", "month_history": "1/false", "last_three": "/true", "all_time": "/false"})
	for i := range 3 {
		clock.add(time.Hour)
		e.mustPut("Visits", map[string]any{"id": fmt.Sprint("new", i), "email": "ann@example.com", "a": 10})
	}
	check("three objects later", map[string]string{"month": "30/true", "month_history": "31/false", "last_three": "30/false"})
	clock.add(29 * 24 * time.Hour) // objects expire after 30 days (the domain's default)
	check("a month later", map[string]string{"month": "/false", "month_history": "/false", "last_three": "30/false"})

	// A batch read's override is the window that counts.
	clock.add(-29 * 24 * time.Hour)
	out, err := e.client.BatchGetCalculatedAttributeForProfile(t.Context(), &customerprofiles.BatchGetCalculatedAttributeForProfileInput{
		DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("all_time"), ProfileIds: []string{ann},
		ConditionOverrides: &types.ConditionOverrides{Range: &types.RangeOverride{Start: aws.Int32(2), Unit: types.RangeUnitDays}}})
	if err != nil {
		t.Fatalf("BatchGetCalculatedAttributeForProfile: %v", err)
	}
	if vs := out.CalculatedAttributeValues; len(vs) != 1 || aws.ToString(vs[0].Value)+"/"+aws.ToString(vs[0].IsDataPartial) != "30/true" {
		t.Errorf("BatchGetCalculatedAttributeForProfile over 2 days: %d values, want one 30/true", len(vs))
		for _, v := range vs {
			t.Logf("value %s/%s", aws.ToString(v.Value), aws.ToString(v.IsDataPartial))
		}
	}
}

// TestCalculatedAttributes_Invalid: definitions AWS refuses are refused
// with a message naming the field.
func TestCalculatedAttributes_Invalid(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(visitsType())
	e.putType(ordersType())
	for _, tt := range []struct {
		d     calcDef
		words []string
	}{
		{calcDef{name: "x", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{ObjectCount: aws.Int32(101)}}, []string{"ObjectCount", "100"}},
		{calcDef{name: "x", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(3), Unit: types.UnitDays,
			TimestampSource: aws.String("{Visits.meta.ms}"), TimestampFormat: aws.String("UNIX")}}}, []string{"TimestampFormat", "UNIX"}},
		{calcDef{name: "x", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{Range: &types.Range{Value: aws.Int32(3), Unit: types.UnitDays,
			TimestampSource: aws.String("{Orders.updated}")}}}, []string{"TimestampSource", "Visits"}},
		{calcDef{name: "x", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{Range: &types.Range{Unit: types.UnitDays}}}, []string{"Range", "Value"}},
		{calcDef{name: "x", expr: "{Visits.a} + {Orders.total}", stat: "SUM", attrs: []string{"a", "total"}}, []string{"Expression", "one object type"}},
		{calcDef{name: "x", expr: "{Visits.a} + {Visits.b} + {Visits.ch}", stat: "SUM", attrs: []string{"a", "b", "ch"}}, []string{"Expression"}},
		{calcDef{name: "x", expr: "{Visits.a} + {Visits.b}", stat: "SUM", attrs: []string{"a"}}, []string{"b", "Attributes"}},
		{calcDef{name: "x", expr: "{Visits.a}", stat: "MEDIAN", attrs: []string{"a"}}, []string{"Statistic"}},
		{calcDef{name: "x", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{Threshold: &types.Threshold{Value: aws.String("1"), Operator: "AT_LEAST"}}},
			[]string{"Threshold.Operator"}},
	} {
		_, err := e.createCalc(tt.d)
		wantAPIError(t, err, "BadRequestException", tt.words...)
	}
	if _, err := e.createCalc(calcDef{name: "ok", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"}, conditions: &types.Conditions{ObjectCount: aws.Int32(100)}}); err != nil {
		t.Errorf("ObjectCount 100: %v", err)
	}
	_, err := e.client.UpdateCalculatedAttributeDefinition(t.Context(), &customerprofiles.UpdateCalculatedAttributeDefinitionInput{
		DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("ok"), Conditions: &types.Conditions{ObjectCount: aws.Int32(500)}})
	wantAPIError(t, err, "BadRequestException", "ObjectCount")
}

// TestEventTriggers_Limits: each period of a trigger's limits is either
// unlimited or has a maximum per profile, within the model's bounds, and
// each object attribute's values suit its operator.
func TestEventTriggers_Limits(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(ordersType())
	create := func(name string, conds []types.EventTriggerCondition, periods ...types.Period) error {
		var limits *types.EventTriggerLimits
		if periods != nil {
			limits = &types.EventTriggerLimits{Periods: periods}
		}
		_, err := e.client.CreateEventTrigger(t.Context(), &customerprofiles.CreateEventTriggerInput{DomainName: aws.String(e.domain),
			EventTriggerName: aws.String(name), ObjectTypeName: aws.String("Orders"), EventTriggerConditions: conds, EventTriggerLimits: limits})
		return err
	}
	per := func(u types.PeriodUnit, v, max int32, unlimited bool) types.Period {
		p := types.Period{Unit: u, Value: aws.Int32(v), Unlimited: unlimited}
		if max > 0 {
			p.MaxInvocationsPerProfile = aws.Int32(max)
		}
		return p
	}
	if err := create("ok", bigOrder(), per(types.PeriodUnitMinutes, 60, 1, false), per(types.PeriodUnitHours, 1, 1000, false),
		per(types.PeriodUnitWeeks, 2, 0, true), per(types.PeriodUnitMonths, 1, 5, false)); err != nil {
		t.Fatalf("CreateEventTrigger with four periods: %v", err)
	}
	for _, tt := range []struct {
		periods []types.Period
		words   []string
	}{
		{[]types.Period{per(types.PeriodUnitDays, 1, 0, false)}, []string{"Periods[0]", "MaxInvocationsPerProfile"}},
		{[]types.Period{per(types.PeriodUnitDays, 1, 3, false), per(types.PeriodUnitDays, 7, 2, true)}, []string{"Periods[1]"}},
		{[]types.Period{per(types.PeriodUnitDays, 61, 3, false)}, []string{"Value"}},
		{[]types.Period{per(types.PeriodUnitDays, 1, 1001, false)}, []string{"MaxInvocationsPerProfile"}},
		{[]types.Period{per(types.PeriodUnitDays, 1, 1, false), per(types.PeriodUnitDays, 1, 1, false), per(types.PeriodUnitDays, 1, 1, false),
			per(types.PeriodUnitDays, 1, 1, false), per(types.PeriodUnitDays, 1, 1, false)}, []string{"Periods"}},
	} {
		wantAPIError(t, create("x", bigOrder(), tt.periods...), "BadRequestException", tt.words...)
	}
	one := func(op types.ComparisonOperator, values ...string) []types.EventTriggerCondition {
		return []types.EventTriggerCondition{{LogicalOperator: types.EventTriggerLogicalOperatorNone,
			EventTriggerDimensions: []types.EventTriggerDimension{{ObjectAttributes: []types.ObjectAttribute{
				{Source: aws.String("_source.updated"), ComparisonOperator: op, Values: values}}}}}}
	}
	for _, tt := range []struct {
		op     types.ComparisonOperator
		values []string
		ok     bool
	}{
		{types.ComparisonOperatorBetween, []string{"2026-01-01", "2026-02-01"}, true},
		{types.ComparisonOperatorBetween, []string{"2026-01-01"}, false},
		{types.ComparisonOperatorOn, []string{"yesterday"}, false},
		{types.ComparisonOperatorBefore, []string{"1767225600000"}, true},
		{types.ComparisonOperatorGreaterThanOrEqual, []string{"1", "2"}, false},
		{types.ComparisonOperatorBeginsWith, []string{"a", "b"}, true},
	} {
		err := create("attr", one(tt.op, tt.values...))
		if tt.ok && err != nil {
			t.Errorf("%s %v: %v", tt.op, tt.values, err)
		} else if !tt.ok {
			wantAPIError(t, err, "BadRequestException", "ObjectAttributes[0]", string(tt.op))
		}
		if err == nil {
			if _, err := e.client.DeleteEventTrigger(t.Context(), &customerprofiles.DeleteEventTriggerInput{DomainName: aws.String(e.domain), EventTriggerName: aws.String("attr")}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCalculatedAttributes_StoredObjectCountOver100: a definition stored
// with an ObjectCount above 100, which was accepted before that maximum
// was enforced, is still read and computed (a value, a segment on it, an
// update of its display name); only new conditions are held to 1 to 100.
func TestCalculatedAttributes_StoredObjectCountOver100(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(visitsType())
	if _, err := e.createCalc(calcDef{name: "visits", expr: "{Visits.a}", stat: "SUM", attrs: []string{"a"},
		conditions: &types.Conditions{ObjectCount: aws.Int32(100)}, historical: true}); err != nil {
		t.Fatal(err)
	}
	// As stored by an earlier version, which took any ObjectCount.
	_, err := e.m.Service.Configs.UpdateConfig(t.Context(), e.domain, profiles.ConfigCalculatedAttribute, "visits", func(c *profiles.DomainConfig) error {
		var doc map[string]any
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return err
		}
		doc["conditions"].(map[string]any)["ObjectCount"] = 150
		data, err := json.Marshal(doc)
		c.Data = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mustPut("Visits", map[string]any{"id": "v1", "email": "old@example.com", "a": 2})
	e.mustPut("Visits", map[string]any{"id": "v2", "email": "old@example.com", "a": 5})
	id := aws.ToString(e.mustOne("_email", "old@example.com").ProfileId)

	if got := aws.ToString(e.calcValue(id, "visits").Value); got != "7" {
		t.Errorf("value of the stored definition: %q, want 7", got)
	}
	if err := e.createSegment("big_visitors", oneGroup(types.IncludeOptionsAll, calcDim("visits",
		types.CalculatedAttributeDimension{DimensionType: types.AttributeDimensionTypeGreaterThan, Values: []string{"6"}}))); err != nil {
		t.Fatalf("CreateSegmentDefinition on the stored definition: %v", err)
	}
	if got, _ := e.membership("big_visitors", id); got[id] != "PRESENT" {
		t.Errorf("segment on the stored definition: %q, want PRESENT", got[id])
	}
	out, err := e.client.UpdateCalculatedAttributeDefinition(t.Context(), &customerprofiles.UpdateCalculatedAttributeDefinitionInput{
		DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("visits"), DisplayName: aws.String("Visits")})
	if err != nil || aws.ToInt32(out.Conditions.ObjectCount) != 150 {
		t.Errorf("UpdateCalculatedAttributeDefinition DisplayName: %+v %v", out, err)
	}
	_, err = e.client.UpdateCalculatedAttributeDefinition(t.Context(), &customerprofiles.UpdateCalculatedAttributeDefinitionInput{
		DomainName: aws.String(e.domain), CalculatedAttributeName: aws.String("visits"), Conditions: &types.Conditions{ObjectCount: aws.Int32(150)}})
	wantAPIError(t, err, "BadRequestException", "ObjectCount")
}
