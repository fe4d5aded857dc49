package awsapi

import "testing"

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
