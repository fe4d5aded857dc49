package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// BenchmarkPutProfileObject_EventStreams ingests objects that each create
// a profile, with encryption on, into a domain with 0, 1 or 5 event
// streams: each stream adds two events (the profile's and the object's),
// sealed and written in the ingestion's transaction. Nothing is delivered
// meanwhile.
func BenchmarkPutProfileObject_EventStreams(b *testing.B) {
	for _, streams := range []int{0, 1, 5} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			s, _, _ := openDelivery(b)
			if _, err := s.PutObjectType(b.Context(), contactType("enc")); err != nil {
				b.Fatal(err)
			}
			for i := range streams {
				mustCreateStream(b, s, fmt.Sprint("s", i), fmt.Sprintf("arn:aws:kinesis:us-east-1:000000000000:stream/s%d", i))
			}
			i := 0
			for b.Loop() {
				i++
				if _, err := s.PutProfileObject(b.Context(), "enc", "contact", contact(i, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeliverEvents delivers a claim of 200 events of one stream: the
// claim, the opening of each event, one PutRecords call (to a destination
// in memory) and the delete. The events (of 100 new objects) are written
// with the timer stopped.
func BenchmarkDeliverEvents(b *testing.B) {
	s, _, _ := openDelivery(b)
	if _, err := s.PutObjectType(b.Context(), contactType("enc")); err != nil {
		b.Fatal(err)
	}
	mustCreateStream(b, s, "s", okARN)
	i := 0
	for b.Loop() {
		b.StopTimer()
		for range 100 {
			i++
			if _, err := s.PutProfileObject(b.Context(), "enc", "contact", contact(i, i)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		n, err := s.DeliverEvents(b.Context())
		if err != nil || n != 200 {
			b.Fatalf("delivered %d, %v", n, err)
		}
	}
}

// BenchmarkIdentityResolutionJob runs a domain's identity resolution job
// on 10,000 profiles, a quarter of them with a duplicate (same email and
// name).
func BenchmarkIdentityResolutionJob(b *testing.B) {
	s, _, now := openDelivery(b)
	ctx := b.Context()
	if _, err := s.PutObjectType(ctx, contactType("enc")); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		person := i
		if i%4 == 3 {
			person = i - 1 // the same person as the previous object, another contact id
		}
		obj := fmt.Sprintf(`{"id":"c%d","email":"person%d@example.com","first":"Ann%d","last":"Lee"}`, i, person, person)
		if _, err := s.PutProfileObject(ctx, "enc", "contact", obj); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.UpdateDomain(ctx, "enc", &profiles.DomainUpdate{Matching: &profiles.MatchingSettings{Enabled: true}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		*now = now.Add(7 * 24 * time.Hour) // the next week's slot
		if n, err := s.RunIdentityResolution(ctx); err != nil || n != 1 {
			b.Fatalf("ran %d jobs, %v", n, err)
		}
	}
}
