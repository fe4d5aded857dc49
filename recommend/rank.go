package recommend

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// A Cap limits how many recommended items may share one value of an item
// Column (DiversityConfig); items without the column are not limited.
type Cap struct {
	Column string
	Max    int
}

// A Request asks a model for one profile's recommendations.
type Request struct {
	// History is the profile's events: its own weights (by the model's
	// EventParams), the item similar-items and frequently-paired-items start
	// from, and what Interactions filters see.
	History []Event
	// ItemID, when set, is the item similar-items and
	// frequently-paired-items start from instead of the profile's latest.
	ItemID string
	// Candidates are the items personalized-ranking ranks; for the other
	// recipes, when set, only these are recommended.
	Candidates []string
	// Max is how many items to return at most.
	Max int
	// Filter, when set, keeps only the items it keeps.
	Filter *Bound
	// Promotion, when set, fills PromotePercent of the Max places (rounded
	// up) with the best items it keeps (and Filter keeps).
	Promotion      *Bound
	PromotePercent int
	// Caps limit the items sharing a value of a column.
	Caps []Cap
}

// A Recommendation is one recommended item and its score (0 to 1).
type Recommendation struct {
	Item  *Item
	Score float64
}

// Recommend returns the items the model recommends for r, best first.
func (m *Model) Recommend(r Request) []Recommendation {
	w := newWeigher(m.Events)
	hist := map[string]float64{}
	types := map[string]map[string]bool{} // item -> the event types of the profile's events on it
	var latest *Event
	for i := range r.History {
		e := &r.History[i]
		t := types[e.ItemID]
		if t == nil {
			t = map[string]bool{}
			types[e.ItemID] = t
		}
		t[e.Type] = true
		if wt, ok := w.weight(e); ok {
			hist[e.ItemID] += wt
			if latest == nil || e.At.After(latest.At) || e.At.Equal(latest.At) && e.ItemID < latest.ItemID {
				latest = e
			}
		}
	}
	cands := m.candidates(r, hist, latest)
	if len(r.Candidates) > 0 && m.Recipe != PersonalizedRanking {
		want := map[string]bool{}
		for _, c := range r.Candidates {
			want[c] = true
		}
		cands = slices.DeleteFunc(slices.Clone(cands), func(s Scored) bool { return !want[s.ID] })
	}
	return m.pick(cands, r, types)
}

// candidates returns the items the recipe ranks for a profile, best first.
func (m *Model) candidates(r Request, hist map[string]float64, latest *Event) []Scored {
	switch m.Recipe {
	case RecommendedForYou:
		if len(hist) == 0 {
			return m.Ranked // nothing known of the profile: the popular items
		}
		total := 0.0
		acc := map[string]float64{}
		for _, id := range sortedKeys(hist) {
			wi := hist[id]
			total += wi
			for _, n := range m.Neighbours[id] {
				if _, seen := hist[n.ID]; !seen {
					acc[n.ID] += wi * n.Score
				}
			}
		}
		list := make([]Scored, 0, len(acc))
		for id, v := range acc {
			list = append(list, Scored{id, min(1, v/total)})
		}
		sortScored(list)
		return m.fill(list, func(id string) bool { _, seen := hist[id]; return seen })
	case SimilarItems, FrequentlyPairedItems:
		seed := r.ItemID
		if seed == "" && latest != nil {
			seed = latest.ItemID
		}
		if seed == "" {
			return m.Ranked
		}
		return m.fill(slices.Clone(m.Neighbours[seed]), func(id string) bool { return id == seed })
	case PersonalizedRanking:
		order := sortedKeys(hist)
		total := 0.0
		for _, id := range order {
			total += hist[id]
		}
		seen := map[string]bool{}
		list := make([]Scored, 0, len(r.Candidates))
		for _, c := range r.Candidates {
			if seen[c] {
				continue
			}
			seen[c] = true
			v := m.Pop[c]
			if total > 0 {
				v = 0
				for _, id := range order {
					v += hist[id] * m.neighbour(id, c)
				}
				v = min(1, v/total)
			}
			list = append(list, Scored{c, v})
		}
		slices.SortFunc(list, func(a, b Scored) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			if c := cmp.Compare(m.Pop[b.ID], m.Pop[a.ID]); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		return list
	default: // popular-items, trending-now
		return m.Ranked
	}
}

// fill appends to list the popular items it lacks (but those skip says
// not to), scored below its last.
func (m *Model) fill(list []Scored, skip func(string) bool) []Scored {
	floor := 1.0
	if len(list) > 0 {
		floor = list[len(list)-1].Score
	}
	in := make(map[string]bool, len(list))
	for _, s := range list {
		in[s.ID] = true
	}
	for _, s := range m.Ranked {
		if !in[s.ID] && !skip(s.ID) {
			list = append(list, Scored{s.ID, s.Score * floor})
		}
	}
	return list
}

// pick takes the first r.Max candidates the filters keep within the caps,
// the promoted ones first, and returns them best first.
func (m *Model) pick(cands []Scored, r Request, types map[string]map[string]bool) []Recommendation {
	if r.Max <= 0 {
		return nil
	}
	counts := make([]map[string]int, len(r.Caps))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	out := make([]Recommendation, 0, min(r.Max, len(cands)))
	taken := map[string]bool{}
	take := func(s Scored, it *Item) {
		for i, c := range r.Caps {
			if v, ok := attribute(it, c.Column); ok {
				if counts[i][v] >= c.Max {
					return
				}
			}
		}
		for i, c := range r.Caps {
			if v, ok := attribute(it, c.Column); ok {
				counts[i][v]++
			}
		}
		taken[s.ID] = true
		out = append(out, Recommendation{Item: it, Score: s.Score})
	}
	keeps := func(b *Bound, it *Item) bool {
		if b == nil {
			return true
		}
		t := types[it.ID]
		return b.Keep(func(col string) (string, bool) { return attribute(it, col) }, func(et string) bool { return t[et] })
	}
	if r.Promotion != nil && r.PromotePercent > 0 {
		n := int(math.Ceil(float64(r.Max) * float64(r.PromotePercent) / 100))
		for _, s := range cands {
			if len(out) >= n {
				break
			}
			if it := m.item(s.ID); keeps(r.Filter, it) && keeps(r.Promotion, it) {
				take(s, it)
			}
		}
	}
	for _, s := range cands {
		if len(out) >= r.Max {
			break
		}
		if taken[s.ID] {
			continue
		}
		if it := m.item(s.ID); keeps(r.Filter, it) {
			take(s, it)
		}
	}
	slices.SortStableFunc(out, func(a, b Recommendation) int { return cmp.Compare(b.Score, a.Score) })
	return out
}

// item returns the catalog's item of id, or one with only its id.
func (m *Model) item(id string) *Item {
	if it := m.Items[id]; it != nil {
		return it
	}
	return &Item{ID: id}
}

// attribute returns an item's value of a column, named in any case; "Id"
// is the item's id.
func attribute(it *Item, column string) (string, bool) {
	if strings.EqualFold(column, "Id") {
		return it.ID, true
	}
	if v, ok := it.Attributes[column]; ok {
		return v, true
	}
	for k, v := range it.Attributes {
		if strings.EqualFold(k, column) {
			return v, true
		}
	}
	return "", false
}
