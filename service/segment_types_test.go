package service_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// readCounter is the store of a service, counting its reads: read
// transactions, domains and configs.
type readCounter struct {
	*sqlite.DB
	reads atomic.Int64
}

func (c *readCounter) View(ctx context.Context, fn func(profiles.Tx) error) error {
	c.reads.Add(1)
	return c.DB.View(ctx, fn)
}

func (c *readCounter) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	c.reads.Add(1)
	return c.DB.FindDomain(ctx, name)
}

func (c *readCounter) FindConfig(ctx context.Context, domain, kind, name string) (*profiles.DomainConfig, error) {
	c.reads.Add(1)
	return c.DB.FindConfig(ctx, domain, kind, name)
}

func (c *readCounter) ListConfigs(ctx context.Context, domain, kind, after string, limit int) ([]*profiles.DomainConfig, error) {
	c.reads.Add(1)
	return c.DB.ListConfigs(ctx, domain, kind, after, limit)
}

// TestSegmentObjectTypes_ReadsDefinitionsOnly: SegmentObjectTypes, asked
// to authorise every GetSegmentMembership, CreateSegmentEstimate and
// CreateSegmentSnapshot, returns the types of the calculated attributes
// of a segment and of its sources, reading the segments and the list of
// attributes only: a segment on 20 attributes costs 3 reads, not the
// three of each attribute that evaluating it reads (61).
func TestSegmentObjectTypes_ReadsDefinitionsOnly(t *testing.T) {
	ctx := t.Context()
	store := &readCounter{DB: MustOpenSQLite(t)}
	clock := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	s := serviceOn(store, &clock)
	s.Configs = store
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"contact", "order"} {
		ty := contactType("d")
		ty.Name = name
		ty.Fields["amount"] = profiles.ObjectTypeField{Source: "_source.amount", ContentType: "NUMBER"}
		if _, err := s.PutObjectType(ctx, ty); err != nil {
			t.Fatal(err)
		}
	}
	attr := func(name, typ string) {
		t.Helper()
		if _, err := s.CreateCalculatedAttribute(ctx, &profiles.CalculatedAttribute{DomainName: "d", Name: name,
			Attributes: []string{typ + ".amount"}, Expression: "{" + typ + ".amount}", Statistic: profiles.StatisticSum, UseHistoricalData: true}); err != nil {
			t.Fatal(err)
		}
	}
	on := func(names ...string) []profiles.SegmentDimension {
		var dims []profiles.SegmentDimension
		for _, n := range names {
			dims = append(dims, profiles.SegmentDimension{Calculated: map[string]profiles.SegmentCalculatedCondition{
				n: {CalcFilterCondition: profiles.CalcFilterCondition{DimensionType: "GREATER_THAN", Values: []string{"0"}}}}})
		}
		return dims
	}
	segment := func(name string, g profiles.SegmentGroup) {
		t.Helper()
		if _, err := s.CreateSegmentDefinition(ctx, &profiles.SegmentDefinition{DomainName: "d", Name: name, DisplayName: name,
			Groups: profiles.SegmentGroups{Groups: []profiles.SegmentGroup{g}}}); err != nil {
			t.Fatal(err)
		}
	}
	var many []string
	for i := range 20 {
		many = append(many, fmt.Sprintf("total-%02d", i))
		attr(many[i], "contact")
	}
	attr("orders", "order")
	attr("unused", "order")
	segment("many", profiles.SegmentGroup{Type: "ALL", Dimensions: on(many...)})
	segment("orders", profiles.SegmentGroup{Dimensions: on("orders")})
	segment("nested", profiles.SegmentGroup{Dimensions: on("total-00"), SourceSegments: []string{"orders"}})

	check := func(name string, q profiles.SegmentGroups, want []string, maxReads int64) {
		t.Helper()
		before := store.reads.Load()
		got, err := s.SegmentObjectTypes(ctx, "d", name, q)
		reads := store.reads.Load() - before
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SegmentObjectTypes(%q) = %v, %v; want %v", name, got, err, want)
		}
		if reads > maxReads {
			t.Errorf("SegmentObjectTypes(%q) read the store %d times, want at most %d", name, reads, maxReads)
		}
	}
	check("many", profiles.SegmentGroups{}, []string{"contact"}, 2)
	check("orders", profiles.SegmentGroups{}, []string{"order"}, 2)
	check("nested", profiles.SegmentGroups{}, []string{"contact", "order"}, 3)
	check("", profiles.SegmentGroups{Groups: []profiles.SegmentGroup{{Dimensions: on(many...)}}}, []string{"contact"}, 1)
	check("", profiles.SegmentGroups{Groups: []profiles.SegmentGroup{{SourceSegments: []string{"nested"}}}}, []string{"contact", "order"}, 3)
	check("missing", profiles.SegmentGroups{}, nil, 2)
	// An attribute deleted since the segment was defined reads nothing.
	if err := s.DeleteCalculatedAttribute(ctx, "d", "orders"); err != nil {
		t.Fatal(err)
	}
	check("orders", profiles.SegmentGroups{}, nil, 3)
}
