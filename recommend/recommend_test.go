package recommend

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func ev(profile, item, typ string, at time.Time) Event {
	return Event{ProfileID: profile, ItemID: item, Type: typ, At: at}
}

func ids(recs []Recommendation) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Item.ID)
	}
	return out
}

// shop: p1–p4 buy a and b together; p5, p6 buy c; p7 views d this week
// (and d had one view the week before); q viewed a.
func shop() []Event {
	old := now.Add(-30 * 24 * time.Hour)
	var es []Event
	for i := 1; i <= 4; i++ {
		p := fmt.Sprintf("p%d", i)
		es = append(es, ev(p, "a", "buy", old), ev(p, "b", "buy", old.Add(10*time.Minute)))
	}
	es = append(es, ev("p5", "c", "buy", old), ev("p6", "c", "buy", old))
	es = append(es, ev("p7", "d", "view", now.Add(-time.Hour)), ev("p8", "d", "view", now.Add(-2*time.Hour)),
		ev("p9", "d", "view", now.Add(-8*24*time.Hour)))
	es = append(es, ev("q", "a", "view", now.Add(-time.Hour)))
	return es
}

func TestRecipes(t *testing.T) {
	es := shop()
	hist := []Event{ev("q", "a", "view", now.Add(-time.Hour))}
	tests := []struct {
		recipe string
		req    Request
		want   []string
	}{
		{PopularItems, Request{Max: 3}, []string{"a", "b", "d"}},
		// d: 2 views this week, 1 the week before.
		{TrendingNow, Request{Max: 5}, []string{"a", "d"}},
		{RecommendedForYou, Request{History: hist, Max: 3}, []string{"b", "d", "c"}},
		{RecommendedForYou, Request{Max: 2}, []string{"a", "b"}}, // nothing known: popular
		{SimilarItems, Request{History: hist, Max: 1}, []string{"b"}},
		{SimilarItems, Request{History: hist, ItemID: "c", Max: 2}, []string{"a", "b"}}, // c has no neighbours: popular
		{FrequentlyPairedItems, Request{History: hist, Max: 1}, []string{"b"}},
		{PersonalizedRanking, Request{History: hist, Candidates: []string{"c", "b", "zz", "a"}, Max: 10}, []string{"a", "b", "c", "zz"}},
		{PopularItems, Request{Candidates: []string{"c", "d"}, Max: 10}, []string{"d", "c"}},
	}
	for _, tt := range tests {
		m := Train(es, nil, Params{Recipe: tt.recipe, Now: now})
		got := m.Recommend(tt.req)
		if !slices.Equal(ids(got), tt.want) {
			t.Errorf("%s %+v: got %v, want %v", tt.recipe, tt.req, ids(got), tt.want)
		}
		for i, r := range got {
			if r.Score < 0 || r.Score > 1 || i > 0 && r.Score > got[i-1].Score {
				t.Errorf("%s: scores %v not in [0,1] and descending", tt.recipe, got)
			}
		}
	}
}

func TestEventParams(t *testing.T) {
	two, half := 2.0, 0.5
	es := []Event{
		{ProfileID: "p1", ItemID: "cheap", Type: "buy", Value: 1, HasValue: true, At: now},
		{ProfileID: "p2", ItemID: "cheap", Type: "buy", Value: 1, HasValue: true, At: now},
		{ProfileID: "p3", ItemID: "dear", Type: "buy", Value: 50, HasValue: true, At: now},
		{ProfileID: "p4", ItemID: "viewed", Type: "view", At: now},
		{ProfileID: "p5", ItemID: "viewed", Type: "view", At: now},
		{ProfileID: "p6", ItemID: "viewed", Type: "view", At: now},
		{ProfileID: "p7", ItemID: "clicked", Type: "click", At: now},
	}
	tests := []struct {
		params []EventParams
		want   []string
	}{
		{nil, []string{"viewed", "cheap", "clicked", "dear"}},
		// Only buys of at least 10: the one dear buy.
		{[]EventParams{{Type: "buy", Threshold: &two}}, []string{"dear"}},
		// Buys weigh twice, views half: 2+2 > 1.5.
		{[]EventParams{{Type: "buy", Weight: &two}, {Type: "view", Weight: &half}}, []string{"cheap", "dear", "viewed"}},
	}
	for _, tt := range tests {
		m := Train(es, nil, Params{Recipe: PopularItems, Events: tt.params, Now: now})
		if got := ids(m.Recommend(Request{Max: 10})); !slices.Equal(got, tt.want) {
			t.Errorf("params %+v: got %v, want %v", tt.params, got, tt.want)
		}
	}
}

func TestFiltersPromotionCaps(t *testing.T) {
	var es []Event
	items := []struct{ id, cat string }{{"s1", "shoes"}, {"s2", "shoes"}, {"s3", "shoes"}, {"h1", "hats"}, {"c1", "coats"}}
	catalog := map[string]*Item{}
	for i, it := range items {
		catalog[it.id] = &Item{ID: it.id, Attributes: map[string]string{"Category": it.cat, "Price": fmt.Sprint(10 * (i + 1))}}
		for j := range len(items) - i { // s1 most popular, c1 least
			es = append(es, ev(fmt.Sprintf("p%d", j), it.id, "buy", now))
		}
	}
	m := Train(es, catalog, Params{Recipe: PopularItems, Now: now})
	bind := func(expr string, values map[string]string) *Bound {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.Bind(values)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		req  Request
		want []string
	}{
		{"filter", Request{Max: 10, Filter: bind(`EXCLUDE ItemID WHERE Items.Category IN ($C)`, map[string]string{"C": "shoes"})}, []string{"h1", "c1"}},
		{"interactions", Request{Max: 10, History: []Event{ev("q", "s2", "buy", now)},
			Filter: bind(`EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")`, nil)}, []string{"s1", "s3", "h1", "c1"}},
		{"promotion", Request{Max: 2, Promotion: bind(`INCLUDE ItemID WHERE Items.Category IN ("coats")`, nil), PromotePercent: 50}, []string{"s1", "c1"}},
		{"cap", Request{Max: 4, Caps: []Cap{{Column: "category", Max: 2}}}, []string{"s1", "s2", "h1", "c1"}},
		{"max", Request{Max: 1}, []string{"s1"}},
		{"zero", Request{}, nil},
	}
	for _, tt := range tests {
		if got := ids(m.Recommend(tt.req)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// randomEvents is a shop of items in clusters: profiles mostly buy within
// their cluster.
func randomEvents(profiles, items, perProfile int) []Event {
	r := rand.New(rand.NewPCG(1, 2))
	var es []Event
	for p := range profiles {
		cluster := p % 10
		for e := range perProfile {
			item := cluster*items/10 + r.IntN(items/10)
			if r.IntN(10) == 0 {
				item = r.IntN(items)
			}
			es = append(es, Event{ProfileID: fmt.Sprintf("p%05d", p), ItemID: fmt.Sprintf("i%04d", item),
				Type: []string{"view", "buy"}[r.IntN(2)], At: now.Add(-time.Duration(perProfile-e) * time.Hour)})
		}
	}
	return es
}

func TestEvaluate(t *testing.T) {
	es := randomEvents(300, 200, 8)
	for _, recipe := range Recipes() {
		got := Evaluate(es, Params{Recipe: recipe, Now: now})
		for _, k := range []string{"hit", "recall", "coverage", "mean_reciprocal_rank_at_25", "precision_at_5", "normalized_discounted_cumulative_gain_at_25"} {
			if v, ok := got[k]; !ok || v < 0 || v > 1 {
				t.Errorf("%s: %s = %v (present %v), want in [0,1]", recipe, k, v, ok)
			}
		}
		if got["precision_at_5"] > got["hit"] || got["normalized_discounted_cumulative_gain_at_5"] > got["normalized_discounted_cumulative_gain_at_25"] {
			t.Errorf("%s: metrics %v inconsistent", recipe, got)
		}
	}
	// Clustered buying: the collaborative recipe beats popularity.
	cf, pop := Evaluate(es, Params{Recipe: RecommendedForYou, Now: now}), Evaluate(es, Params{Recipe: PopularItems, Now: now})
	if cf["hit"] <= pop["hit"] {
		t.Errorf("recommended-for-you hit %v, popular-items %v: want the first higher on clustered data", cf["hit"], pop["hit"])
	}
	if got := Evaluate(shop(), Params{Recipe: PopularItems, Now: now}); got != nil {
		t.Errorf("Evaluate of 4 qualifying profiles: %v, want nil", got)
	}
}

func TestDeterministic(t *testing.T) {
	es := randomEvents(200, 100, 6)
	hist := es[:6]
	for _, recipe := range Recipes() {
		var first []Recommendation
		for i := range 5 {
			shuffled := slices.Clone(es)
			rand.New(rand.NewPCG(uint64(i), 9)).Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
			m := Train(shuffled, nil, Params{Recipe: recipe, Now: now})
			got := m.Recommend(Request{History: hist, Candidates: []string{"i0001", "i0050", "i0099"}, Max: 25})
			if i == 0 {
				first = got
			} else if !reflect.DeepEqual(ids(got), ids(first)) {
				t.Fatalf("%s: %v then %v from the same events in another order", recipe, ids(first), ids(got))
			}
		}
	}
}

func BenchmarkTrain(b *testing.B) {
	es := randomEvents(10000, 2000, 10)
	for _, recipe := range []string{PopularItems, RecommendedForYou, FrequentlyPairedItems} {
		b.Run(recipe, func(b *testing.B) {
			for b.Loop() {
				Train(es, nil, Params{Recipe: recipe, Now: now})
			}
			b.ReportMetric(float64(len(es)), "events")
		})
	}
	// An import: 100 profiles' 1,000 events each, all at one time.
	var bulk []Event
	for p := range 100 {
		for i := range 1000 {
			bulk = append(bulk, ev(fmt.Sprintf("p%03d", p), fmt.Sprintf("i%04d", (p*7+i)%2000), "buy", now))
		}
	}
	b.Run("frequently-paired-items/bulk", func(b *testing.B) {
		for b.Loop() {
			Train(bulk, nil, Params{Recipe: FrequentlyPairedItems, Now: now})
		}
		b.ReportMetric(float64(len(bulk)), "events")
	})
}

func BenchmarkRecommend(b *testing.B) {
	es := randomEvents(10000, 2000, 10)
	m := Train(es, nil, Params{Recipe: RecommendedForYou, Now: now})
	hist := es[:10]
	for b.Loop() {
		m.Recommend(Request{History: hist, Max: 25})
	}
}

// TestTinyWeights: weights too small to square give no similarity, never
// NaN (a model must encode as JSON).
func TestTinyWeights(t *testing.T) {
	tiny := 1e-200
	es := randomEvents(50, 20, 5)
	for _, recipe := range Recipes() {
		m := Train(es, nil, Params{Recipe: recipe, Now: now, Events: []EventParams{{Type: "buy", Weight: &tiny}, {Type: "view", Weight: &tiny}}})
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("%s: %v", recipe, err)
		}
		for _, r := range m.Recommend(Request{History: es[:5], Candidates: []string{"i0001", "i0002"}, Max: 10}) {
			if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
				t.Fatalf("%s: score %v", recipe, r.Score)
			}
		}
	}
}

// TestPairsBounded: a profile's events pair only its latest
// MaxProfileItems (events imported at one time all fall in one window).
func TestPairsBounded(t *testing.T) {
	var es []Event
	for i := range 1000 {
		es = append(es, ev("bulk", fmt.Sprintf("i%04d", i), "buy", now))
	}
	m := Train(es, nil, Params{Recipe: FrequentlyPairedItems, Now: now})
	paired := 0
	for _, n := range m.Neighbours {
		paired += len(n)
	}
	if want := MaxProfileItems * (MaxProfileItems - 1); paired != want {
		t.Fatalf("%d neighbour entries, want %d (the latest %d items pair)", paired, want, MaxProfileItems)
	}
}

// TestNestedColumnFilter: item columns of nested objects (Size.Width) can
// be filtered on.
func TestNestedColumnFilter(t *testing.T) {
	m := Train([]Event{ev("p", "small", "buy", now), ev("p", "big", "buy", now)},
		map[string]*Item{"small": {ID: "small", Attributes: map[string]string{"Size.Width": "2"}}, "big": {ID: "big", Attributes: map[string]string{"Size.Width": "20"}}},
		Params{Recipe: PopularItems, Now: now})
	f, err := ParseFilter(`EXCLUDE ItemID WHERE Items.Size.Width >= 10`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Bind(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(m.Recommend(Request{Max: 5, Filter: b})); !slices.Equal(got, []string{"small"}) {
		t.Fatalf("got %v, want small", got)
	}
}
