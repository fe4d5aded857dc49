package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// countedCalc is a domain's calculated attributes, counting the calls
// that read their definitions.
type countedCalc struct {
	profiles.CalculatedAttributeService
	attrs []*profiles.CalculatedAttribute
	reads int
}

func (c *countedCalc) ListCalculatedAttributes(ctx context.Context, domain string, page profiles.Page) ([]*profiles.CalculatedAttribute, string, error) {
	c.reads++
	return c.attrs, "", nil
}

func (c *countedCalc) GetCalculatedAttribute(ctx context.Context, domain, name string) (*profiles.CalculatedAttribute, error) {
	c.reads++
	for _, a := range c.attrs {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "no %s", name)
}

func (c *countedCalc) CalculatedObjectTypes(ctx context.Context, domain, name string) ([]string, error) {
	a, err := c.GetCalculatedAttribute(ctx, domain, name)
	if err != nil {
		return nil, nil
	}
	return []string{a.ObjectTypeName()}, nil
}

// countedKeys gives the object type "secret" a key of its own, counting
// the calls that read the types' keys.
type countedKeys struct {
	profiles.DomainService
	reads int
}

const secretKey = "arn:aws:kms:us-east-1:000000000000:key/secret"

func (k *countedKeys) ObjectTypeKeyARNs(ctx context.Context, domain string, types []string) ([]string, error) {
	k.reads++
	if slices.Contains(types, "secret") {
		return []string{secretKey}, nil
	}
	return nil, nil
}

// refuseKey refuses kms:Decrypt on secretKey, and allows the rest.
type refuseKey struct{}

func (refuseKey) Authorize(ctx context.Context, r *profiles.AuthRequest) error {
	if r.Action == "kms:Decrypt" && r.Resource == secretKey {
		return profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to perform: %s on resource: %s", r.Principal, r.Action, r.Resource)
	}
	return nil
}

// TestHideUnreadable_ReadsOnce: the profile page's check of its
// calculated values reads the domain's definitions once and each object
// type's key once, whatever the number of values (it read them for each
// value: 2 reads per attribute on every page), and still hides those of
// the type the agent may not decrypt.
func TestHideUnreadable_ReadsOnce(t *testing.T) {
	calc := &countedCalc{}
	keys := &countedKeys{}
	s := &Server{Calculated: calc, Domains: keys, Authorizer: refuseKey{}, Now: time.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var values []*profiles.CalculatedValue
	for i := range 20 {
		typ := "plain"
		if i%2 == 1 {
			typ = "secret"
		}
		name := fmt.Sprintf("%s-%02d", typ, i)
		calc.attrs = append(calc.attrs, &profiles.CalculatedAttribute{DomainName: "d", Name: name, Expression: "{" + typ + ".id}"})
		values = append(values, &profiles.CalculatedValue{Name: name, Value: "value-" + name})
	}
	values = append(values, &profiles.CalculatedValue{Name: "deleted-since", Value: "kept"})
	r := httptest.NewRequest("GET", Prefix+"domains/d/profiles/p", nil)
	r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, &session{Principal: "arn:aws:iam::000000000000:user/agent"}))

	denied := s.hideUnreadable(r, "d", values)
	for _, v := range values {
		secret := strings.HasPrefix(v.Name, "secret-")
		if secret && (v.Value != "" || !strings.Contains(denied[v.Name], secretKey)) {
			t.Errorf("%s: value %q, note %q; want none, and a note naming the key", v.Name, v.Value, denied[v.Name])
		}
		if !secret && (v.Value == "" || denied[v.Name] != "") {
			t.Errorf("%s: value %q, note %q; want its value, no note", v.Name, v.Value, denied[v.Name])
		}
	}
	if calc.reads != 1 || keys.reads != 2 {
		t.Errorf("20 values of 2 object types: %d reads of the definitions, %d of the types' keys; want 1 and 2", calc.reads, keys.reads)
	}
}
