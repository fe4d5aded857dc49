// Package recommend trains OpenProfiles' recommenders and ranks items with
// them: pure functions over interaction events (a profile's event on an
// item, with a type, a time and an optional value) and a catalog of items.
//
// Amazon Connect Customer Profiles trains machine-learning models (Amazon
// Personalize) for its recipes. OpenProfiles uses fixed, documented rules
// instead, one per recipe:
//
//   - popular-items: items by the sum of their events' weights;
//   - trending-now: items by how much more weight they got in the last 7
//     days than in the 7 before (only items that grew);
//   - recommended-for-you: item-to-item collaborative filtering: items
//     similar (cosine of the profiles' weighted interactions) to the ones
//     the profile interacted with, weighted by the profile's own weights,
//     leaving out the items it interacted with; popular items after them;
//   - similar-items: the items most similar (same cosine) to one item;
//   - frequently-paired-items: the items most often interacted with by the
//     same profile within an hour of one item (the share of that item's
//     profiles that did);
//   - personalized-ranking: given candidates, ranked by the profile's
//     similarity score (an item it interacted with counts as similar to
//     itself).
//
// Scores are between 0 and 1. Every ordering breaks ties by item id, so a
// model and a request always give the same answer.
package recommend

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// The recipes (RecommenderRecipeName).
const (
	RecommendedForYou     = "recommended-for-you"
	SimilarItems          = "similar-items"
	FrequentlyPairedItems = "frequently-paired-items"
	PopularItems          = "popular-items"
	TrendingNow           = "trending-now"
	PersonalizedRanking   = "personalized-ranking"
)

// Recipes returns the recipes, in the order ListRecommenderRecipes gives
// them.
func Recipes() []string {
	return []string{RecommendedForYou, SimilarItems, FrequentlyPairedItems, PopularItems, TrendingNow, PersonalizedRanking}
}

// Limits of a model.
const (
	MaxNeighbours   = 50   // similar or paired items kept per item
	MaxRanked       = 1000 // items of a model's global ranking
	MaxProfileItems = 50   // a profile's items (its heaviest; for pairs, its latest events) that pair with each other
	// MaxPairs bounds the pairs of items a training counts (its memory):
	// once it has that many, the profiles after (in id order) add to
	// those only.
	MaxPairs           = 5_000_000
	TrendWindow        = 7 * 24 * time.Hour
	PairWindow         = time.Hour // two events of a profile this close pair their items
	metricsSample      = 500       // profiles whose last item is held out to measure a model
	metricsMinProfiles = 10        // fewer held-out profiles give no metrics
	metricsK           = 25
)

// An Event is one interaction of a profile with an item.
type Event struct {
	ProfileID string
	ItemID    string
	Type      string
	Value     float64
	HasValue  bool
	At        time.Time
}

// EventParams is how events of one type count (EventParameters): Weight
// (default 1), and only when their value is at least Threshold, when set.
type EventParams struct {
	Type      string
	Threshold *float64
	Weight    *float64
}

// Params are a training's settings.
type Params struct {
	Recipe string
	// Events lists the event types that count; empty: every type, with
	// weight 1.
	Events []EventParams
	Now    time.Time
}

// An Item is an entry of the catalog: its id and attributes (column name
// to value).
type Item struct {
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes,omitempty"`
	FirstSeen  time.Time         `json:"firstSeen,omitzero"`
	LastSeen   time.Time         `json:"lastSeen,omitzero"`
}

// Scored is an item with a score.
type Scored struct {
	ID    string  `json:"i"`
	Score float64 `json:"s"`
}

// A Model is what a training produces; it is kept as JSON and never
// changes after.
type Model struct {
	Recipe    string             `json:"recipe"`
	TrainedAt time.Time          `json:"trainedAt"`
	Events    []EventParams      `json:"events,omitempty"`
	Items     map[string]*Item   `json:"items"`
	Pop       map[string]float64 `json:"popularity"` // weight / the largest weight
	// Ranked is the recipe's global ranking (popularity, or the trend for
	// trending-now), best first, at most MaxRanked items.
	Ranked []Scored `json:"ranked"`
	// Neighbours are each item's similar (or paired) items, best first.
	Neighbours map[string][]Scored `json:"neighbours,omitempty"`
	// EventCount and ProfileCount are what the training counted.
	EventCount   int `json:"eventCount"`
	ProfileCount int `json:"profileCount"`
}

// weigher returns an event's weight and whether it counts at all.
type weigher map[string]EventParams

func newWeigher(ps []EventParams) weigher {
	if len(ps) == 0 {
		return nil
	}
	w := weigher{}
	for _, p := range ps {
		w[p.Type] = p
	}
	return w
}

func (w weigher) weight(e *Event) (float64, bool) {
	if w == nil {
		return 1, true
	}
	p, ok := w[e.Type]
	if !ok {
		return 0, false
	}
	if p.Threshold != nil && (!e.HasValue || e.Value < *p.Threshold) {
		return 0, false
	}
	if p.Weight != nil {
		return *p.Weight, *p.Weight > 0
	}
	return 1, true
}

// Train builds the model of p.Recipe from events and the catalog (which it
// keeps: the caller must not change it after). Items only the events name
// get an entry of their own.
func Train(events []Event, catalog map[string]*Item, p Params) *Model {
	w := newWeigher(p.Events)
	m := &Model{Recipe: p.Recipe, TrainedAt: p.Now.UTC(), Events: p.Events, Items: catalog, Pop: map[string]float64{}}
	if m.Items == nil {
		m.Items = map[string]*Item{}
	}
	byProfile := map[string]map[string]float64{}
	recent, prior := map[string]float64{}, map[string]float64{}
	for i := range events {
		e := &events[i]
		wt, ok := w.weight(e)
		if !ok {
			continue
		}
		m.EventCount++
		if m.Items[e.ItemID] == nil {
			m.Items[e.ItemID] = &Item{ID: e.ItemID, FirstSeen: e.At, LastSeen: e.At}
		}
		m.Pop[e.ItemID] += wt
		u := byProfile[e.ProfileID]
		if u == nil {
			u = map[string]float64{}
			byProfile[e.ProfileID] = u
		}
		u[e.ItemID] += wt
		switch age := p.Now.Sub(e.At); {
		case age < 0:
		case age <= TrendWindow:
			recent[e.ItemID] += wt
		case age <= 2*TrendWindow:
			prior[e.ItemID] += wt
		}
	}
	m.ProfileCount = len(byProfile)
	top := 0.0
	for _, v := range m.Pop {
		top = max(top, v)
	}
	for id, v := range m.Pop {
		m.Pop[id] = v / top
	}
	switch p.Recipe {
	case TrendingNow:
		trend := map[string]float64{}
		for id, r := range recent {
			if d := r - prior[id]; d > 0 {
				trend[id] = d
			}
		}
		m.Ranked = ranked(trend, MaxRanked)
	default:
		m.Ranked = ranked(m.Pop, MaxRanked)
	}
	switch p.Recipe {
	case RecommendedForYou, SimilarItems, PersonalizedRanking:
		m.Neighbours = cosineNeighbours(byProfile)
	case FrequentlyPairedItems:
		m.Neighbours = pairedNeighbours(events, w)
	}
	return m
}

// ranked returns the items of scores, best first, normalised so the best
// scores 1, at most limit of them.
func ranked(scores map[string]float64, limit int) []Scored {
	out := make([]Scored, 0, len(scores))
	top := 0.0
	for id, v := range scores {
		out = append(out, Scored{id, v})
		top = max(top, v)
	}
	sortScored(out)
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i].Score /= top
	}
	return out
}

func sortScored(s []Scored) {
	slices.SortFunc(s, func(a, b Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// itemIndex numbers items, so that pairs of items are two integers.
type itemIndex struct {
	ids []string
	of  map[string]uint32
}

func (x *itemIndex) id(item string) uint32 {
	if n, ok := x.of[item]; ok {
		return n
	}
	if x.of == nil {
		x.of = map[string]uint32{}
	}
	n := uint32(len(x.ids))
	x.ids = append(x.ids, item)
	x.of[item] = n
	return n
}

// pair is an unordered pair of item numbers.
func pair(a, b uint32) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(b)
}

// pairCounter adds up values of pairs, at most MaxPairs of them.
type pairCounter map[uint64]float64

func (c pairCounter) add(a, b uint32, v float64) {
	k := pair(a, b)
	if _, ok := c[k]; ok || len(c) < MaxPairs {
		c[k] += v
	}
}

// sortedKeys returns a map's keys in order: sums taken in that order are
// the same at every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cosineNeighbours returns each item's most similar items: the cosine of
// the two items' vectors of profile weights. A profile pairs only its
// MaxProfileItems heaviest items.
func cosineNeighbours(byProfile map[string]map[string]float64) map[string][]Scored {
	var x itemIndex
	dot := pairCounter{}
	norm := map[uint32]float64{}
	for _, p := range sortedKeys(byProfile) {
		items := heaviest(byProfile[p], MaxProfileItems)
		nums := make([]uint32, len(items))
		for i, it := range items {
			nums[i] = x.id(it.ID)
			norm[nums[i]] += it.Score * it.Score
		}
		for i, a := range items {
			for j := i + 1; j < len(items); j++ {
				dot.add(nums[i], nums[j], a.Score*items[j].Score)
			}
		}
	}
	nb := map[string][]Scored{}
	for k, d := range dot {
		a, b := uint32(k>>32), uint32(k)
		den := math.Sqrt(norm[a]) * math.Sqrt(norm[b])
		if !(den > 0) {
			continue // weights too small to tell
		}
		sim := min(1, d/den)
		if !(sim > 0) {
			continue
		}
		nb[x.ids[a]] = append(nb[x.ids[a]], Scored{x.ids[b], sim})
		nb[x.ids[b]] = append(nb[x.ids[b]], Scored{x.ids[a], sim})
	}
	return trimNeighbours(nb)
}

// heaviest returns u's items by weight, heaviest first, at most limit.
func heaviest(u map[string]float64, limit int) []Scored {
	out := make([]Scored, 0, len(u))
	for id, w := range u {
		out = append(out, Scored{id, w})
	}
	sortScored(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// pairedNeighbours returns, for each item a, the items b that profiles
// interacted with within PairWindow of an event on a, scored by the share
// of a's profiles that did. A profile's latest MaxProfileItems events
// pair.
func pairedNeighbours(events []Event, w weigher) map[string][]Scored {
	byProfile := map[string][]*Event{}
	for i := range events {
		e := &events[i]
		if _, ok := w.weight(e); ok {
			byProfile[e.ProfileID] = append(byProfile[e.ProfileID], e)
		}
	}
	var x itemIndex
	pairs := pairCounter{}
	with := map[uint32]float64{} // profiles that interacted with the item
	for _, p := range sortedKeys(byProfile) {
		es := byProfile[p]
		slices.SortFunc(es, func(a, b *Event) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return cmp.Compare(a.ItemID, b.ItemID)
		})
		seen := map[uint32]bool{}
		for _, e := range es {
			if n := x.id(e.ItemID); !seen[n] {
				seen[n] = true
				with[n]++
			}
		}
		if len(es) > MaxProfileItems {
			es = es[len(es)-MaxProfileItems:]
		}
		paired := map[uint64]bool{}
		for i, a := range es {
			for _, b := range es[i+1:] {
				if b.At.Sub(a.At) > PairWindow {
					break
				}
				na, nb := x.id(a.ItemID), x.id(b.ItemID)
				if na != nb && !paired[pair(na, nb)] {
					paired[pair(na, nb)] = true
					pairs.add(na, nb, 1)
				}
			}
		}
	}
	nb := map[string][]Scored{}
	for k, n := range pairs {
		a, b := uint32(k>>32), uint32(k)
		nb[x.ids[a]] = append(nb[x.ids[a]], Scored{x.ids[b], min(1, n/with[a])})
		nb[x.ids[b]] = append(nb[x.ids[b]], Scored{x.ids[a], min(1, n/with[b])})
	}
	return trimNeighbours(nb)
}

func trimNeighbours(nb map[string][]Scored) map[string][]Scored {
	for id, s := range nb {
		sortScored(s)
		if len(s) > MaxNeighbours {
			nb[id] = slices.Clip(s[:MaxNeighbours])
		}
	}
	return nb
}

// neighbour returns the score of b among a's neighbours (1 for a itself).
func (m *Model) neighbour(a, b string) float64 {
	if a == b {
		return 1
	}
	for _, n := range m.Neighbours[a] {
		if n.ID == b {
			return n.Score
		}
	}
	return 0
}
