package service_test

import (
	"fmt"
	"testing"

	"github.com/openprofiles/profiles"
)

// TestMergeProfiles_ObjectQuota: a merge that would leave the main profile
// with more objects than a profile may hold is refused whole, as ingestion
// refuses the object that would; a smaller one goes through.
func TestMergeProfiles_ObjectQuota(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	fill := func(person, from, n int) string {
		t.Helper()
		var objs []string
		for i := range n {
			objs = append(objs, contact(from+i, person))
		}
		for len(objs) > 0 {
			batch := objs[:min(len(objs), profiles.MaxBatchObjects)]
			objs = objs[len(batch):]
			if _, errs, err := s.PutProfileObjects(ctx, "bench", "contact", batch); err != nil {
				t.Fatal(err)
			} else {
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("person%d@example.com", person)}}}, profiles.Page{})
		if err != nil || len(found) != 1 {
			t.Fatalf("profile of person %d: %v, %v", person, found, err)
		}
		return found[0].Profile.ID
	}
	a, b, c := fill(1, 0, 600), fill(2, 1000, 401), fill(3, 2000, 400)
	err := s.MergeProfiles(ctx, "bench", a, []string{b}, nil)
	if profiles.ErrorCode(err) != profiles.EQUOTA {
		t.Fatalf("merging 401 objects into a profile of 600: %v, want EQUOTA", err)
	}
	for id, want := range map[string]int{a: 600, b: 401} {
		objs, _, err := s.ListProfileObjects(ctx, "bench", "contact", id, "", nil, profiles.Page{MaxResults: 100})
		if err != nil || len(objs) == 0 {
			t.Errorf("profile with %d objects after a refused merge: %d listed, %v", want, len(objs), err)
		}
	}
	if err := s.MergeProfiles(ctx, "bench", a, []string{c}, nil); err != nil {
		t.Fatalf("merging 400 objects into a profile of 600 (1,000 in all): %v", err)
	}
}
