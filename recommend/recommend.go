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

// Recipes lists the recipes, in the order ListRecommenderRecipes gives them.
var Recipes = []string{RecommendedForYou, SimilarItems, FrequentlyPairedItems, PopularItems, TrendingNow, PersonalizedRanking}

// Limits of a model.
const (
	MaxNeighbours      = 50   // similar or paired items kept per item
	MaxRanked          = 1000 // items of a model's global ranking
	maxProfileItems    = 100  // the items of a profile, by weight, that pair with each other
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
		m.Neighbours = pairedNeighbours(events, w, len(byProfile))
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

// pairKey is an unordered pair of items (a < b).
type pairKey struct{ a, b string }

func keyOf(a, b string) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{a, b}
}

// cosineNeighbours returns each item's most similar items: the cosine of
// the two items' vectors of profile weights. A profile pairs only its
// maxProfileItems heaviest items.
func cosineNeighbours(byProfile map[string]map[string]float64) map[string][]Scored {
	dot := map[pairKey]float64{}
	norm := map[string]float64{}
	for _, u := range byProfile {
		items := heaviest(u, maxProfileItems)
		for i, a := range items {
			norm[a.ID] += a.Score * a.Score
			for _, b := range items[i+1:] {
				dot[keyOf(a.ID, b.ID)] += a.Score * b.Score
			}
		}
	}
	nb := map[string][]Scored{}
	for k, d := range dot {
		s := min(1, d/math.Sqrt(norm[k.a]*norm[k.b]))
		nb[k.a] = append(nb[k.a], Scored{k.b, s})
		nb[k.b] = append(nb[k.b], Scored{k.a, s})
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
// of a's profiles that did.
func pairedNeighbours(events []Event, w weigher, profiles int) map[string][]Scored {
	byProfile := map[string][]*Event{}
	for i := range events {
		e := &events[i]
		if _, ok := w.weight(e); ok {
			byProfile[e.ProfileID] = append(byProfile[e.ProfileID], e)
		}
	}
	pairs := map[pairKey]float64{}
	with := map[string]float64{} // profiles that interacted with the item
	for _, es := range byProfile {
		slices.SortFunc(es, func(a, b *Event) int { return a.At.Compare(b.At) })
		seen := map[pairKey]bool{}
		items := map[string]bool{}
		for i, a := range es {
			items[a.ItemID] = true
			for _, b := range es[i+1:] {
				if b.At.Sub(a.At) > PairWindow {
					break
				}
				if a.ItemID != b.ItemID {
					seen[keyOf(a.ItemID, b.ItemID)] = true
				}
			}
		}
		for k := range seen {
			pairs[k]++
		}
		for id := range items {
			with[id]++
		}
	}
	nb := map[string][]Scored{}
	for k, n := range pairs {
		nb[k.a] = append(nb[k.a], Scored{k.b, n / with[k.a]})
		nb[k.b] = append(nb[k.b], Scored{k.a, n / with[k.b]})
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
