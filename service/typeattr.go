package service

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.TypeAttributeService = (*Service)(nil)

// An object type's attributes are its fields. Their values are read from
// every object of the type in the domain when asked (profile by profile,
// a page of profiles a transaction): a domain's size bounds these calls.

// ListTypeAttributes returns one page of an object type's fields, by name,
// each with the type's last update.
func (s *Service) ListTypeAttributes(ctx context.Context, domain, objectType string, page profiles.Page) ([]profiles.TypeAttribute, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	t, err := s.GetObjectType(ctx, domain, objectType)
	if err != nil {
		return nil, "", err
	}
	scope := "ListObjectTypeAttributes/" + domain + "/" + objectType
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	var out []profiles.TypeAttribute
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for name := range t.Fields {
			if !yield(name) {
				return
			}
		}
	}) {
		if name > after {
			out = append(out, profiles.TypeAttribute{Name: name, LastUpdatedAt: t.LastUpdatedAt})
		}
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		next = s.tokens.encode(scope, out[size-1].Name)
	}
	return out, next, nil
}

// ListAttributeValues returns one page of an attribute's distinct values
// across the domain's objects of the type, the most recently updated first
// (then by value).
func (s *Service) ListAttributeValues(ctx context.Context, domain, objectType, attribute string, page profiles.Page) ([]profiles.AttributeValue, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	last := map[string]time.Time{}
	err = s.eachAttributeValue(ctx, domain, objectType, attribute, func(v string, at time.Time) {
		if at.After(last[v]) {
			last[v] = at
		}
	})
	if err != nil {
		return nil, "", err
	}
	all := make([]profiles.AttributeValue, 0, len(last))
	for v, at := range last {
		all = append(all, profiles.AttributeValue{Value: v, LastUpdatedAt: at})
	}
	slices.SortFunc(all, func(a, b profiles.AttributeValue) int {
		if c := b.LastUpdatedAt.Compare(a.LastUpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	// The token is the position in that order: the time and value of the
	// last item given.
	scope := "ListObjectTypeAttributeValues/" + domain + "/" + objectType + "/" + attribute
	if page.Token != "" {
		cursor, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		ms, value, _ := strings.Cut(cursor, "/")
		n, _ := strconv.ParseInt(ms, 10, 64)
		at := time.UnixMilli(n).UTC()
		i := sort.Search(len(all), func(i int) bool {
			c := at.Compare(all[i].LastUpdatedAt)
			return c > 0 || c == 0 && all[i].Value > value
		})
		all = all[i:]
	}
	next := ""
	if len(all) > size {
		all = all[:size]
		l := all[size-1]
		next = s.tokens.encode(scope, strconv.FormatInt(l.LastUpdatedAt.UnixMilli(), 10)+"/"+l.Value)
	}
	return all, next, nil
}

// AttributeStatistics computes the statistics of an attribute's numeric
// values across the domain's objects of the type.
func (s *Service) AttributeStatistics(ctx context.Context, domain, objectType, attribute string) (*profiles.AttributeStatistics, error) {
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		return nil, domainErr(err, domain)
	}
	if d.DataStore == nil || !d.DataStore.Enabled {
		return nil, profiles.Errorf(profiles.EINVALID, "Attribute statistics need the domain's data store: enable it on domain %s (UpdateDomain DataStore.Enabled).", domain)
	}
	var nums []float64
	err = s.eachAttributeValue(ctx, domain, objectType, attribute, func(v string, _ time.Time) {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			nums = append(nums, f)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(nums) == 0 {
		return &profiles.AttributeStatistics{}, nil // no number: no statistics, as on AWS
	}
	slices.Sort(nums)
	// Computed on values scaled into [-1, 1], so that no sum or square
	// overflows, then scaled back.
	scale := math.Max(math.Abs(nums[0]), math.Abs(nums[len(nums)-1]))
	if scale == 0 {
		scale = 1
	}
	var sum float64
	for _, f := range nums {
		sum += f / scale
	}
	mean := sum / float64(len(nums))
	var sq float64
	for _, f := range nums {
		d := f/scale - mean
		sq += d * d
	}
	st := &profiles.AttributeStatistics{Count: len(nums), Minimum: nums[0], Maximum: nums[len(nums)-1],
		Average: mean * scale, StdDeviation: math.Sqrt(sq/float64(len(nums))) * scale}
	st.P5, st.P25, st.P50, st.P75, st.P95 = percentile(nums, 5), percentile(nums, 25), percentile(nums, 50), percentile(nums, 75), percentile(nums, 95)
	return st, nil
}

// percentile interpolates the p-th percentile of sorted numbers.
func percentile(sorted []float64, p float64) float64 {
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	f := pos - float64(lo)
	return sorted[lo]*(1-f) + sorted[hi]*f
}

// eachAttributeValue calls fn with the value of attribute in every object
// of the type in the domain that holds one, and the object's last update.
func (s *Service) eachAttributeValue(ctx context.Context, domain, objectType, attribute string, fn func(string, time.Time)) error {
	t, err := s.GetObjectType(ctx, domain, objectType)
	if err != nil {
		return err
	}
	if _, ok := t.Fields[attribute]; !ok {
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range t.Fields {
				if !yield(n) {
					return
				}
			}
		})
		return profiles.Errorf(profiles.EINVALID, "Object type %s has no attribute %s (it has %s).", objectType, attribute, strings.Join(names, ", "))
	}
	m, err := s.mappers.get(t)
	if err != nil {
		return err
	}
	return s.eachProfileID(ctx, domain, func(tx profiles.Tx, id string) error {
		objs, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: domain, ObjectType: objectType, ProfileID: id})
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		for _, o := range objs {
			fields, err := m.FieldValues(o.Data)
			if err != nil {
				continue
			}
			if v, ok := fields[attribute]; ok {
				fn(v, o.UpdatedAt)
			}
		}
		return nil
	})
}
