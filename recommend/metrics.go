package recommend

import (
	"math"
	"slices"
	"strconv"
)

// Evaluate measures how well p's recipe predicts: for up to metricsSample
// profiles with events on two items or more (spread over the profiles in
// id order), the item of each one's latest event is held out, a model is
// trained on the other events, and the profile's recommendations (25 of
// them; for personalized-ranking, a ranking of the held-out item among the
// 49 most popular others) are compared with the held-out item. It returns
// the metrics of GetRecommender's TrainingMetrics it can compute, or nil
// when fewer than metricsMinProfiles profiles qualify:
//
//   - hit and recall: the share of profiles whose held-out item was among
//     the 25 (one held-out item: the two are the same);
//   - precision_at_K: hits in the first K over K (K = 5, 10, 25);
//   - normalized_discounted_cumulative_gain_at_K: 1/log2(rank+1) when the
//     item is ranked within K, averaged;
//   - mean_reciprocal_rank_at_25: 1/rank within 25, averaged;
//   - coverage: the share of the items that were recommended at all;
//   - popularity: the mean popularity (0 to 1) of the recommended items.
func Evaluate(events []Event, p Params) map[string]float64 {
	w := newWeigher(p.Events)
	latest := map[string]*Event{}
	items := map[string]map[string]bool{}
	for i := range events {
		e := &events[i]
		if _, ok := w.weight(e); !ok {
			continue
		}
		if l := latest[e.ProfileID]; l == nil || e.At.After(l.At) || e.At.Equal(l.At) && e.ItemID < l.ItemID {
			latest[e.ProfileID] = e
		}
		if items[e.ProfileID] == nil {
			items[e.ProfileID] = map[string]bool{}
		}
		items[e.ProfileID][e.ItemID] = true
	}
	var eligible []string
	for id, its := range items {
		if len(its) >= 2 {
			eligible = append(eligible, id)
		}
	}
	if len(eligible) < metricsMinProfiles {
		return nil
	}
	slices.Sort(eligible)
	held := map[string]string{}
	step := max(1, len(eligible)/metricsSample)
	for i := 0; i < len(eligible) && len(held) < metricsSample; i += step {
		held[eligible[i]] = latest[eligible[i]].ItemID
	}
	var train []Event
	hist := map[string][]Event{}
	for _, e := range events {
		if h, ok := held[e.ProfileID]; ok {
			if e.ItemID == h {
				continue
			}
			hist[e.ProfileID] = append(hist[e.ProfileID], e)
		}
		train = append(train, e)
	}
	m := Train(train, nil, p)
	var sum struct{ hit, mrr float64 }
	prec, ndcg := map[int]float64{}, map[int]float64{}
	recommended := map[string]bool{}
	popSum, popN := 0.0, 0
	for _, profile := range sortedKeys(held) {
		item := held[profile]
		req := Request{History: hist[profile], Max: metricsK}
		if p.Recipe == PersonalizedRanking {
			req.Candidates = []string{item}
			for _, s := range m.Ranked {
				if len(req.Candidates) == 50 {
					break
				}
				if s.ID != item {
					req.Candidates = append(req.Candidates, s.ID)
				}
			}
		}
		rank := 0
		for i, r := range m.Recommend(req) {
			recommended[r.Item.ID] = true
			popSum += m.Pop[r.Item.ID]
			popN++
			if r.Item.ID == item && rank == 0 {
				rank = i + 1
			}
		}
		if rank == 0 || rank > metricsK {
			continue
		}
		sum.hit++
		sum.mrr += 1 / float64(rank)
		for _, k := range []int{5, 10, 25} {
			if rank <= k {
				prec[k] += 1 / float64(k)
				ndcg[k] += 1 / math.Log2(float64(rank)+1)
			}
		}
	}
	n := float64(len(held))
	out := map[string]float64{
		"hit":                        sum.hit / n,
		"recall":                     sum.hit / n,
		"mean_reciprocal_rank_at_25": sum.mrr / n,
		"coverage":                   float64(len(recommended)) / float64(max(1, len(m.Items))),
	}
	if popN > 0 {
		out["popularity"] = popSum / float64(popN)
	}
	for _, k := range []int{5, 10, 25} {
		out["precision_at_"+strconv.Itoa(k)] = prec[k] / n
		out["normalized_discounted_cumulative_gain_at_"+strconv.Itoa(k)] = ndcg[k] / n
	}
	return out
}
