package service

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// Calculated attributes are computed when they are read, from the
// profile's objects of the definition's type as they are then: a value is
// never stale, and a definition applies to the objects ingested before it
// as soon as it exists (with UseHistoricalData). A definition without
// UseHistoricalData sees only what was ingested since its creation, so,
// as on AWS, its value is partial (IsDataPartial) while its range reaches
// back before its creation, or while fewer objects than its ObjectCount
// contributed. A profile holds at most MaxObjectsPerProfile objects, which
// bounds the work of one value.

// CalculatedValue computes one attribute for one profile.
func (s *Service) CalculatedValue(ctx context.Context, domain, profileID, name string) (*profiles.CalculatedValue, error) {
	a, err := s.GetCalculatedAttribute(ctx, domain, name)
	if err != nil {
		return nil, err
	}
	p, err := s.calcPlan(ctx, a)
	if err != nil {
		return nil, err
	}
	var v *profiles.CalculatedValue
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		if _, err := s.findProfile(ctx, tx, domain, profileID); err != nil {
			return err
		}
		v, err = s.calcValue(ctx, tx, p, profileID, nil)
		return err
	})
	return v, err
}

// CalculatedValues computes every attribute of the domain for one profile:
// one page, by attribute name.
func (s *Service) CalculatedValues(ctx context.Context, domain, profileID string, page profiles.Page) ([]*profiles.CalculatedValue, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigCalculatedAttribute, "ListCalculatedAttributesForProfile/"+profileID, page)
	if err != nil {
		return nil, "", err
	}
	// A definition that no longer checks (its object type or field was
	// deleted since) is listed without a value rather than failing the
	// others.
	attrs := make([]*profiles.CalculatedAttribute, len(list))
	plans := make([]*calcPlan, len(list))
	for i, c := range list {
		if attrs[i], err = calcFromConfig(c); err != nil {
			return nil, "", err
		}
		if plans[i], err = s.calcPlan(ctx, attrs[i]); err != nil && profiles.ErrorCode(err) != profiles.EINVALID {
			return nil, "", err
		}
	}
	var out []*profiles.CalculatedValue
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		if _, err := s.findProfile(ctx, tx, domain, profileID); err != nil {
			return err
		}
		out = out[:0]
		for i, p := range plans {
			if p == nil {
				out = append(out, &profiles.CalculatedValue{ProfileID: profileID, Name: attrs[i].Name, DisplayName: attrs[i].DisplayName})
				continue
			}
			v, err := s.calcValue(ctx, tx, p, profileID, nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, next, err
}

// BatchCalculatedValue computes one attribute for several profiles, in one
// snapshot.
func (s *Service) BatchCalculatedValue(ctx context.Context, domain, name string, profileIDs []string, override *profiles.CalcValueRange) ([]*profiles.CalculatedValue, map[string]error, error) {
	a, err := s.GetCalculatedAttribute(ctx, domain, name)
	if err != nil {
		return nil, nil, err
	}
	if override != nil && override.Start < override.End {
		return nil, nil, profiles.Errorf(profiles.EINVALID, "ConditionOverrides.Range: Start (%d days ago) must not be after End (%d days ago).", override.Start, override.End)
	}
	p, err := s.calcPlan(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	var values []*profiles.CalculatedValue
	var errs map[string]error
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		values, errs = values[:0], map[string]error{}
		for _, id := range profileIDs {
			if _, err := s.findProfile(ctx, tx, domain, id); profiles.ErrorCode(err) == profiles.ENOTFOUND {
				errs[id] = err
				continue
			} else if err != nil {
				return err
			}
			v, err := s.calcValue(ctx, tx, p, id, override)
			if err != nil {
				return err
			}
			values = append(values, v)
		}
		return nil
	})
	return values, errs, err
}

// calcValue computes p for one profile (that exists) in tx, with the
// range's window replaced by override when set.
func (s *Service) calcValue(ctx context.Context, tx profiles.Tx, p *calcPlan, profileID string, override *profiles.CalcValueRange) (*profiles.CalculatedValue, error) {
	a := p.a
	objs, err := tx.ListObjects(ctx, profiles.ObjectQuery{DomainName: a.DomainName, ObjectType: p.t.Name, ProfileID: profileID})
	if err != nil {
		return nil, err
	}
	m, err := s.mappers.get(p.t)
	if err != nil {
		return nil, err
	}
	v := calculate(p, m, objs, s.now(), override)
	v.ProfileID, v.Name, v.DisplayName = profileID, a.Name, a.DisplayName
	return v, nil
}

// calcItem is one object's contribution: its time and expression value.
type calcItem struct {
	at    time.Time
	value string
}

// calculate computes p over objs (a profile's objects of p's type) at now.
func calculate(p *calcPlan, m *mapping.Mapper, objs []*profiles.ProfileObject, now time.Time, override *profiles.CalcValueRange) *profiles.CalculatedValue {
	a, c := p.a, p.a.Conditions
	var from, to time.Time // the window; zero: open
	switch {
	case override != nil: // in place of the definition's range, or where it has none
		from, to = now.AddDate(0, 0, -override.Start), now.AddDate(0, 0, -override.End)
	case c != nil && c.Range != nil:
		start, end := c.Range.Value, 0
		if c.Range.ValueRange != nil {
			start, end = c.Range.ValueRange.Start, c.Range.ValueRange.End
		}
		from, to = now.AddDate(0, 0, -start), now.AddDate(0, 0, -end)
	}
	var items []calcItem
	for _, o := range objs {
		if !a.UseHistoricalData && o.UpdatedAt.Before(a.CreatedAt) {
			continue // ingested before the definition
		}
		fields, err := m.FieldValues(o.Data)
		if err != nil {
			continue
		}
		at, ok := p.objectTime(o)
		if !ok || !from.IsZero() && (at.Before(from) || at.After(to)) {
			continue
		}
		if a.Filter != nil && !p.keeps(fields) {
			continue
		}
		value, ok := p.eval(fields)
		if !ok {
			continue
		}
		items = append(items, calcItem{at, value})
	}
	// Newest first; ObjectCount keeps the newest.
	slices.SortStableFunc(items, func(x, y calcItem) int { return y.at.Compare(x.at) })
	if c != nil && c.ObjectCount > 0 && len(items) > c.ObjectCount {
		items = items[:c.ObjectCount]
	}
	out := &profiles.CalculatedValue{}
	if !a.UseHistoricalData {
		out.IsDataPartial = !from.IsZero() && from.Before(a.CreatedAt) ||
			c != nil && c.ObjectCount > 0 && len(items) < c.ObjectCount
	}
	if len(items) > 0 {
		out.LastObjectTimestamp = items[0].at
	}
	out.Value = statistic(a.Statistic, items)
	if c != nil && c.Threshold != nil && out.Value != "" {
		out.Value = strconv.FormatBool(p.passes(out.Value))
	}
	return out
}

// objectTime is when an object counts as having happened: the value at the
// range's TimestampSource, else its source's last update, else its
// ingestion. false when the TimestampSource value is missing or unreadable.
func (p *calcPlan) objectTime(o *profiles.ProfileObject) (time.Time, bool) {
	if p.tsPath != "" {
		raw, ok, err := mapping.ValueAt(o.Data, p.tsPath)
		if err != nil || !ok {
			return time.Time{}, false
		}
		return parseCalcTime(raw, p.a.Conditions.Range.TimestampFormat)
	}
	if !o.SourceLastUpdated.IsZero() {
		return o.SourceLastUpdated, true
	}
	return o.UpdatedAt, true
}

// eval computes the expression over an object's fields; false when a field
// is missing, or an arithmetic operand is not a number (or divides by 0).
func (p *calcPlan) eval(fields map[string]string) (string, bool) {
	x, ok := fields[p.fields[0]]
	if !ok {
		return "", false
	}
	if p.op == 0 {
		return x, true
	}
	y, ok := fields[p.fields[1]]
	if !ok {
		return "", false
	}
	a, err1 := strconv.ParseFloat(strings.TrimSpace(x), 64)
	b, err2 := strconv.ParseFloat(strings.TrimSpace(y), 64)
	if err1 != nil || err2 != nil {
		return "", false
	}
	var r float64
	switch p.op {
	case '+':
		r = a + b
	case '-':
		r = a - b
	case '*':
		r = a * b
	case '/':
		if b == 0 {
			return "", false
		}
		r = a / b
	}
	return formatNumber(r), true
}

// statistic reduces items (newest first) to the value of stat; "" when
// nothing contributes, but COUNT is "0".
func statistic(stat string, items []calcItem) string {
	switch stat {
	case profiles.StatisticCount:
		return strconv.Itoa(len(items))
	case profiles.StatisticLastOccurrence:
		if len(items) > 0 {
			return items[0].value
		}
	case profiles.StatisticFirstOccurrence:
		if len(items) > 0 {
			return items[len(items)-1].value
		}
	case profiles.StatisticMaxOccurrence:
		// The most frequent value; of equally frequent ones, the newest.
		counts := map[string]int{}
		best, most := "", 0
		for i := len(items) - 1; i >= 0; i-- {
			v := items[i].value
			counts[v]++
			if counts[v] >= most {
				best, most = v, counts[v]
			}
		}
		return best
	default: // SUM, MINIMUM, MAXIMUM, AVERAGE: the values that are numbers
		var nums []float64
		for _, it := range items {
			if f, err := strconv.ParseFloat(strings.TrimSpace(it.value), 64); err == nil {
				nums = append(nums, f)
			}
		}
		if len(nums) == 0 {
			return ""
		}
		var r float64
		switch stat {
		case profiles.StatisticSum, profiles.StatisticAverage:
			for _, f := range nums {
				r += f
			}
			if stat == profiles.StatisticAverage {
				r /= float64(len(nums))
			}
		case profiles.StatisticMinimum:
			r = slices.Min(nums)
		case profiles.StatisticMaximum:
			r = slices.Max(nums)
		}
		return formatNumber(r)
	}
	return ""
}

// passes compares a value with the threshold.
func (p *calcPlan) passes(v string) bool {
	th := p.a.Conditions.Threshold
	f, err := strconv.ParseFloat(v, 64)
	numeric := err == nil && p.numericTh
	switch th.Operator {
	case "EQUAL_TO":
		if numeric {
			return f == p.threshold
		}
		return v == th.Value
	case "NOT_EQUAL_TO":
		if numeric {
			return f != p.threshold
		}
		return v != th.Value
	case "GREATER_THAN":
		return numeric && f > p.threshold
	case "LESS_THAN":
		return numeric && f < p.threshold
	}
	return false
}

// keeps reports whether an object's fields pass the definition's filter.
func (p *calcPlan) keeps(fields map[string]string) bool {
	f := p.a.Filter
	return quantify(f.Include, len(f.Groups), func(i int) bool {
		g := f.Groups[i]
		return quantify(g.Type, len(g.Dimensions), func(j int) bool {
			for name, cond := range g.Dimensions[j] {
				v, ok := fields[strings.TrimPrefix(name, p.t.Name+".")]
				if !holds(cond, v, ok) {
					return false
				}
			}
			return true
		})
	})
}

// quantify applies ALL, ANY or NONE to n predicates.
func quantify(q string, n int, pred func(int) bool) bool {
	for i := range n {
		switch ok := pred(i); {
		case q == "ALL" && !ok:
			return false
		case q == "ANY" && ok:
			return true
		case q == "NONE" && ok:
			return false
		}
	}
	return q != "ANY"
}

// holds reports whether a field's value (ok: present) meets a condition.
// A missing value meets EXCLUSIVE only.
func holds(c profiles.CalcFilterCondition, v string, ok bool) bool {
	if !ok {
		return c.DimensionType == "EXCLUSIVE"
	}
	switch c.DimensionType {
	case "INCLUSIVE":
		return slices.Contains(c.Values, v)
	case "EXCLUSIVE":
		return !slices.Contains(c.Values, v)
	case "CONTAINS", "BEGINS_WITH", "ENDS_WITH":
		match := map[string]func(string, string) bool{"CONTAINS": strings.Contains, "BEGINS_WITH": strings.HasPrefix, "ENDS_WITH": strings.HasSuffix}[c.DimensionType]
		return slices.ContainsFunc(c.Values, func(w string) bool { return match(v, w) })
	case "EQUAL", "GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL":
		x, err1 := strconv.ParseFloat(strings.TrimSpace(v), 64)
		y, err2 := strconv.ParseFloat(c.Values[0], 64)
		if err1 != nil || err2 != nil {
			return false
		}
		switch c.DimensionType {
		case "EQUAL":
			return x == y
		case "GREATER_THAN":
			return x > y
		case "LESS_THAN":
			return x < y
		case "GREATER_THAN_OR_EQUAL":
			return x >= y
		}
		return x <= y
	case "BEFORE", "AFTER", "ON", "BETWEEN", "NOT_BETWEEN":
		t, ok := parseCalcTime(v, "")
		if !ok {
			return false
		}
		// A bound is the span of time it names: a date (no time of day)
		// is its whole day (UTC), as ON reads it, so that AFTER a date
		// starts the day after and BETWEEN two dates includes the last.
		first := make([]time.Time, len(c.Values))
		last := make([]time.Time, len(c.Values))
		for i, w := range c.Values {
			first[i], _ = parseCalcTime(w, "")
			last[i] = first[i]
			if isCalcDate(w) {
				last[i] = first[i].AddDate(0, 0, 1).Add(-time.Nanosecond)
			}
		}
		switch c.DimensionType {
		case "BEFORE":
			return t.Before(first[0])
		case "AFTER":
			return t.After(last[0])
		case "ON":
			y1, m1, d1 := t.Date()
			y2, m2, d2 := first[0].Date()
			return y1 == y2 && m1 == m2 && d1 == d2
		}
		lo, hi := first[0], last[1]
		if first[1].Before(first[0]) {
			lo, hi = first[1], last[0]
		}
		in := !t.Before(lo) && !t.After(hi)
		return in == (c.DimensionType == "BETWEEN")
	}
	return false
}

// epochSecondsBelow tells an epoch time in seconds from one in
// milliseconds: 10^11 is 1973 in milliseconds and the year 5138 in
// seconds.
const epochSecondsBelow = 1e11

// parseCalcTime reads a time as format says (EPOCHMILLI, ISO_8601), or,
// for "", as whichever of the two it is, or a date YYYYMMDD or YYYY/MM/DD
// (as profiles' BirthDate may hold). An epoch time below epochSecondsBelow
// is in seconds, else in milliseconds. Results are in UTC.
func parseCalcTime(v, format string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if format == "" && len(v) == len("20060102") {
		if t, err := time.Parse("20060102", v); err == nil { // a birth date, not a millisecond of 1970
			return t, true
		}
	}
	if format != "ISO_8601" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
			if math.Abs(n) < epochSecondsBelow { // EPOCHMILLI reads "second/millisecond level precision"
				n *= 1000
			}
			return time.UnixMilli(int64(n)).UTC(), true
		}
		if format == "EPOCHMILLI" {
			return time.Time{}, false
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999", "2006-01-02", "2006/01/02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// isCalcDate reports whether a time parseCalcTime reads is a date without
// a time of day: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD.
func isCalcDate(v string) bool {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02", "2006/01/02", "20060102"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

// formatNumber writes a number the shortest way that reads back the same;
// whole numbers have no decimals.
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
