package service_test

import (
	"context"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// interleaved is a ConfigStore whose first UpdateConfig lets another
// update run first, as a concurrent request would between the service's
// check and its write.
type interleaved struct {
	*sqlite.DB
	before func()
}

func (c *interleaved) UpdateConfig(ctx context.Context, domain, kind, name string, fn func(*profiles.DomainConfig) error) (*profiles.DomainConfig, error) {
	if f := c.before; f != nil {
		c.before = nil
		f()
	}
	return c.DB.UpdateConfig(ctx, domain, kind, name, fn)
}

// TestUpdateEventTrigger_ChangedMeanwhile: an update checked against a
// trigger that another update changed before it was stored is checked
// again against the trigger as it is: one that names the old type's field
// while the other moved the trigger to a type without it is refused, and
// the stored trigger stays valid.
func TestUpdateEventTrigger_ChangedMeanwhile(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	db := s.Store.(*sqlite.DB)
	store := &interleaved{DB: db}
	s.Configs = store
	orders := contactType("bench")
	orders.Name = "orders"
	orders.Fields["total"] = profiles.ObjectTypeField{Source: "_source.total", ContentType: "NUMBER"}
	if _, err := s.PutObjectType(ctx, orders); err != nil {
		t.Fatal(err)
	}
	cond := func(field string) []profiles.EventTriggerCondition {
		return []profiles.EventTriggerCondition{{LogicalOperator: "ALL", Dimensions: [][]profiles.EventTriggerAttribute{{
			{FieldName: field, ComparisonOperator: "INCLUSIVE", Values: []string{"x"}}}}}}
	}
	if _, err := s.CreateEventTrigger(ctx, &profiles.EventTrigger{DomainName: "bench", Name: "tr", ObjectTypeName: "orders", Conditions: cond("city")}); err != nil {
		t.Fatal(err)
	}
	// While an update to conditions on "total" (a field of orders only) is
	// between its check and its write, another moves the trigger to
	// contact (which has no "total").
	moveToContact := "contact"
	store.before = func() {
		if _, err := s.UpdateEventTrigger(ctx, "bench", "tr", profiles.EventTriggerUpdate{ObjectTypeName: &moveToContact}); err != nil {
			t.Errorf("the concurrent update: %v", err)
		}
	}
	_, err := s.UpdateEventTrigger(ctx, "bench", "tr", profiles.EventTriggerUpdate{Conditions: cond("total")})
	if profiles.ErrorCode(err) != profiles.EINVALID {
		t.Fatalf("update checked against a trigger changed since: %v, want EINVALID (contact has no field total)", err)
	}
	got, err := s.GetEventTrigger(ctx, "bench", "tr")
	if err != nil || got.ObjectTypeName != "contact" || got.Conditions[0].Dimensions[0][0].FieldName != "city" {
		t.Fatalf("stored trigger: %+v, %v; want contact with the city condition", got, err)
	}
}
