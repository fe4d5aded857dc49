package awsapi

import (
	"strings"
	"testing"
)

// BenchmarkRoute measures finding the operation of a request path.
func BenchmarkRoute(b *testing.B) {
	rt := newRouter(routes)
	for b.Loop() {
		if r, _, _ := rt.match("GET", "/domains/d1/object-types/CTR"); r == nil {
			b.Fatal("no route")
		}
	}
}

// BenchmarkBindCreateDomain measures decoding and validating a CreateDomain body.
func BenchmarkBindCreateDomain(b *testing.B) {
	body := []byte(`{"DefaultExpirationDays":366,"DeadLetterQueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/dlq",` +
		`"Matching":{"Enabled":true,"JobSchedule":{"DayOfTheWeek":"MONDAY","Time":"03:30"}},"Tags":{"team":"support"}}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c := &call{body: body, labels: map[string]string{"DomainName": "d1"}}
		if _, err := bindCreateDomain(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBindCreateProfile measures decoding and validating a
// CreateProfile body: nested structures (addresses) and a map.
func BenchmarkBindCreateProfile(b *testing.B) {
	body := []byte(`{"FirstName":"Ann","LastName":"Lee","EmailAddress":"ann@example.com","PhoneNumber":"+33123456789",` +
		`"Address":{"Address1":"1 rue de la Paix","City":"Paris","PostalCode":"75002","Country":"FR"},` +
		`"ShippingAddress":{"Address1":"2 rue Rivoli","City":"Paris","Country":"FR"},` +
		`"Attributes":{"tier":"gold","segment":"b2c"},"Gender":"FEMALE","BirthDate":"1980-01-02"}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c := &call{body: body, labels: map[string]string{"DomainName": "d1"}}
		if _, err := bindCreateProfile(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBindPutProfileObject measures decoding and validating a
// PutProfileObject body: a long string of JSON.
func BenchmarkBindPutProfileObject(b *testing.B) {
	body := []byte(`{"ObjectTypeName":"crm","Object":"{\"id\":\"c-1\",\"email\":\"ann@example.com\",\"name\":{\"first\":\"Ann\",\"last\":\"Lee\"},` +
		`\"phone\":\"+33123456789\",\"address\":{\"city\":\"Paris\",\"country\":\"FR\"},\"notes\":\"` + strings.Repeat("x", 400) + `\"}"}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c := &call{body: body, labels: map[string]string{"DomainName": "d1"}}
		if _, err := bindPutProfileObject(c); err != nil {
			b.Fatal(err)
		}
	}
}
