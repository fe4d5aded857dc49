package service

import (
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// TestCalculate_Filters computes COUNT over a fixed set of objects with one
// filter each: every dimension type, and ALL/ANY/NONE at both levels.
func TestCalculate_Filters(t *testing.T) {
	typ := &profiles.ObjectType{DomainName: "d", Name: "T", Fields: map[string]profiles.ObjectTypeField{
		"id": {Source: "_source.id"}, "ch": {Source: "_source.ch"}, "n": {Source: "_source.n"}, "at": {Source: "_source.at"},
	}, Keys: map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"id"}}}}}
	m, err := mapping.Compile(typ)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var objs []*profiles.ProfileObject
	for _, data := range []string{
		`{"id":"1","ch":"web-shop","n":5,"at":"2026-05-01T10:00:00Z"}`,
		`{"id":"2","ch":"phone","n":15,"at":"2026-05-20"}`,
		`{"id":"3","ch":"web","n":25,"at":1780000000000}`, // 2026-05-28T20:26:40Z
		`{"id":"4","n":"x"}`,
	} {
		objs = append(objs, &profiles.ProfileObject{Data: []byte(data), UpdatedAt: now})
	}
	one := func(field string, c profiles.CalcFilterCondition) *profiles.CalcFilter {
		return &profiles.CalcFilter{Include: "ALL", Groups: []profiles.CalcFilterGroup{{Type: "ALL", Dimensions: []map[string]profiles.CalcFilterCondition{{field: c}}}}}
	}
	cond := func(typ string, values ...string) profiles.CalcFilterCondition {
		return profiles.CalcFilterCondition{DimensionType: typ, Values: values}
	}
	web, cheap := map[string]profiles.CalcFilterCondition{"ch": cond("BEGINS_WITH", "web")}, map[string]profiles.CalcFilterCondition{"n": cond("LESS_THAN", "10")}
	for _, tt := range []struct {
		name   string
		filter *profiles.CalcFilter
		want   string
	}{
		{"none", nil, "4"},
		{"INCLUSIVE", one("ch", cond("INCLUSIVE", "web", "phone")), "2"},
		{"EXCLUSIVE (a missing value passes)", one("ch", cond("EXCLUSIVE", "web")), "3"},
		{"CONTAINS", one("ch", cond("CONTAINS", "sho", "hon")), "2"},
		{"BEGINS_WITH", one("ch", cond("BEGINS_WITH", "web")), "2"},
		{"ENDS_WITH", one("ch", cond("ENDS_WITH", "shop")), "1"},
		{"EQUAL", one("n", cond("EQUAL", "15")), "1"},
		{"GREATER_THAN (not a number fails)", one("n", cond("GREATER_THAN", "5")), "2"},
		{"GREATER_THAN_OR_EQUAL", one("n", cond("GREATER_THAN_OR_EQUAL", "5")), "3"},
		{"LESS_THAN_OR_EQUAL", one("n", cond("LESS_THAN_OR_EQUAL", "15")), "2"},
		{"BEFORE", one("at", cond("BEFORE", "2026-05-20T00:00:01Z")), "2"},
		{"AFTER", one("at", cond("AFTER", "2026-05-20")), "1"},
		{"ON", one("at", cond("ON", "2026-05-28")), "1"},
		{"BETWEEN", one("at", cond("BETWEEN", "2026-05-29", "2026-05-02")), "2"},
		{"NOT_BETWEEN", one("at", cond("NOT_BETWEEN", "2026-05-02", "2026-05-29")), "1"},
		{"a dimension is an AND", &profiles.CalcFilter{Include: "ALL", Groups: []profiles.CalcFilterGroup{{Type: "ALL",
			Dimensions: []map[string]profiles.CalcFilterCondition{{"ch": cond("BEGINS_WITH", "web"), "n": cond("LESS_THAN", "10")}}}}}, "1"},
		{"group ANY", &profiles.CalcFilter{Include: "ALL", Groups: []profiles.CalcFilterGroup{{Type: "ANY",
			Dimensions: []map[string]profiles.CalcFilterCondition{web, cheap}}}}, "2"},
		{"group NONE", &profiles.CalcFilter{Include: "ALL", Groups: []profiles.CalcFilterGroup{{Type: "NONE",
			Dimensions: []map[string]profiles.CalcFilterCondition{web, cheap}}}}, "2"},
		{"include NONE", &profiles.CalcFilter{Include: "NONE", Groups: []profiles.CalcFilterGroup{{Type: "ALL",
			Dimensions: []map[string]profiles.CalcFilterCondition{web}}}}, "2"},
		{"include ANY", &profiles.CalcFilter{Include: "ANY", Groups: []profiles.CalcFilterGroup{
			{Type: "ALL", Dimensions: []map[string]profiles.CalcFilterCondition{{"ch": cond("INCLUSIVE", "phone")}}},
			{Type: "ALL", Dimensions: []map[string]profiles.CalcFilterCondition{{"n": cond("GREATER_THAN", "20")}}}}}, "2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &profiles.CalculatedAttribute{Name: "c", Attributes: []string{"id"}, Expression: "{T.id}", Statistic: profiles.StatisticCount,
				Filter: tt.filter, UseHistoricalData: true}
			p := &calcPlan{a: a, t: typ, fields: []string{"id"}}
			if tt.filter != nil {
				if err := p.checkFilter(); err != nil {
					t.Fatalf("checkFilter: %v", err)
				}
			}
			if got := calculate(p, m, objs, now, nil).Value; got != tt.want {
				t.Errorf("COUNT = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestCalculate_Empty: with no object, COUNT is 0 and every other
// statistic has no value (nor a threshold's true or false).
func TestCalculate_Empty(t *testing.T) {
	typ := &profiles.ObjectType{DomainName: "d", Name: "T", Fields: map[string]profiles.ObjectTypeField{"n": {Source: "_source.n"}},
		Keys: map[string][]profiles.ObjectTypeKey{"n": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"n"}}}}}
	m, err := mapping.Compile(typ)
	if err != nil {
		t.Fatal(err)
	}
	for _, stat := range []string{profiles.StatisticCount, profiles.StatisticSum, profiles.StatisticAverage, profiles.StatisticMinimum,
		profiles.StatisticMaximum, profiles.StatisticFirstOccurrence, profiles.StatisticLastOccurrence, profiles.StatisticMaxOccurrence} {
		a := &profiles.CalculatedAttribute{Name: "c", Attributes: []string{"n"}, Expression: "{T.n}", Statistic: stat,
			Conditions: &profiles.CalcConditions{Threshold: &profiles.CalcThreshold{Value: "1", Operator: "LESS_THAN"}}}
		p := &calcPlan{a: a, t: typ, fields: []string{"n"}, threshold: 1, numericTh: true}
		v := calculate(p, m, nil, time.Now(), nil)
		want := ""
		if stat == profiles.StatisticCount {
			want = "true" // 0 < 1
		}
		if v.Value != want || !v.LastObjectTimestamp.IsZero() {
			t.Errorf("%s over nothing: %q at %v, want %q", stat, v.Value, v.LastObjectTimestamp, want)
		}
	}
}

// TestCalculate_OverrideWithoutRange: a range override applies to a
// definition that has no range of its own.
func TestCalculate_OverrideWithoutRange(t *testing.T) {
	typ := &profiles.ObjectType{DomainName: "d", Name: "T", Fields: map[string]profiles.ObjectTypeField{"n": {Source: "_source.n"}},
		Keys: map[string][]profiles.ObjectTypeKey{"n": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"n"}}}}}
	m, err := mapping.Compile(typ)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	objs := []*profiles.ProfileObject{
		{Data: []byte(`{"n":100}`), SourceLastUpdated: now.AddDate(0, 0, -50), UpdatedAt: now},
		{Data: []byte(`{"n":5}`), SourceLastUpdated: now.AddDate(0, 0, -2), UpdatedAt: now},
	}
	a := &profiles.CalculatedAttribute{Name: "c", Attributes: []string{"n"}, Expression: "{T.n}", Statistic: profiles.StatisticSum, UseHistoricalData: true}
	p := &calcPlan{a: a, t: typ, fields: []string{"n"}}
	if v := calculate(p, m, objs, now, nil).Value; v != "105" {
		t.Errorf("no range: %s, want 105", v)
	}
	if v := calculate(p, m, objs, now, &profiles.CalcValueRange{Start: 10}).Value; v != "5" {
		t.Errorf("the last 10 days: %s, want 5", v)
	}
}

// TestParseCalcTime: epoch times in seconds or milliseconds (EPOCHMILLI
// reads both), ISO 8601, and the date forms of a profile's BirthDate, which
// are not milliseconds of 1970.
func TestParseCalcTime(t *testing.T) {
	at := time.Date(2026, 5, 28, 20, 26, 40, 0, time.UTC)
	day := time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		v, format string
		want      time.Time
		ok        bool
	}{
		{"1780000000000", "EPOCHMILLI", at, true},
		{"1780000000", "EPOCHMILLI", at, true},
		{"1780000000.5", "", at.Add(500 * time.Millisecond), true},
		{"1780000000000", "", at, true},
		{"2026-05-28T20:26:40Z", "ISO_8601", at, true},
		{"2026-05-28T20:26:40Z", "EPOCHMILLI", time.Time{}, false},
		{"1780000000", "ISO_8601", time.Time{}, false},
		{"19900102", "", day, true},
		{"1990/01/02", "", day, true},
		{"1990-01-02", "", day, true},
		{"19901302", "", time.Unix(19901302, 0).UTC(), true}, // no such date: seconds
		{"soon", "", time.Time{}, false},
	} {
		got, ok := parseCalcTime(tt.v, tt.format)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseCalcTime(%q, %q) = %v, %v; want %v, %v", tt.v, tt.format, got, ok, tt.want, tt.ok)
		}
	}
}
