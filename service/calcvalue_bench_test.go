package service_test

import (
	"fmt"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/sqlite"
)

// BenchmarkCalculatedValue reads one calculated attribute (a SUM over one
// field) of a profile holding 10, 100 or 1,000 objects of the type, on an
// encrypted SQLite store: values are computed when read, from every object
// of the type on the profile.
func BenchmarkCalculatedValue(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n, "Objects"), func(b *testing.B) {
			s, _ := MustOpenEncrypted(b, service.DefaultCryptConfig)
			s.Configs = s.Store.(*sqlite.DB)
			ctx := b.Context()
			t := contactType("enc")
			t.Fields["amount"] = profiles.ObjectTypeField{Source: "_source.amount", ContentType: "NUMBER"}
			if _, err := s.PutObjectType(ctx, t); err != nil {
				b.Fatal(err)
			}
			for i := range n {
				obj := fmt.Sprintf(`{"id":"c%d","email":"ann@example.com","amount":%d}`, i, i)
				if _, err := s.PutProfileObject(ctx, "enc", "contact", obj); err != nil {
					b.Fatal(err)
				}
			}
			found, _, err := s.SearchProfiles(ctx, "enc", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"ann@example.com"}}}, profiles.Page{})
			if err != nil || len(found) != 1 {
				b.Fatalf("search: %d found, %v", len(found), err)
			}
			id := found[0].Profile.ID
			if _, err := s.CreateCalculatedAttribute(ctx, &profiles.CalculatedAttribute{DomainName: "enc", Name: "total",
				Attributes: []string{"amount"}, Expression: "{contact.amount}", Statistic: profiles.StatisticSum, UseHistoricalData: true}); err != nil {
				b.Fatal(err)
			}
			want := fmt.Sprint(n * (n - 1) / 2)
			for b.Loop() {
				v, err := s.CalculatedValue(ctx, "enc", id, "total")
				if err != nil || v.Value != want {
					b.Fatalf("CalculatedValue: %+v, %v; want %s", v, err, want)
				}
			}
		})
	}
}
