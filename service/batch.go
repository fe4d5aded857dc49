package service

import (
	"context"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// PutProfileObjects ingests objects of one type as PutProfileObject does
// each of them, and returns each one's unique key or error, in the order of
// objs. A missing domain or object type fails the whole call (err); any
// other failure is that object's alone, and the others go in.
//
// The objects go in at once, so that the store commits them together
// (group commit), except that versions of one object (objects with the same
// unique key) are applied one after the other in the order of objs: the
// later one is the one kept, as if they had been sent in separate calls
// (unless the type's source timestamp says it is older).
func (s *Service) PutProfileObjects(ctx context.Context, domain, objectType string, objs []string) (keys []string, errs []error, err error) {
	if len(objs) > profiles.MaxBatchObjects {
		return nil, nil, profiles.Errorf(profiles.EINVALID, "A batch holds at most %d objects; this one holds %d.", profiles.MaxBatchObjects, len(objs))
	}
	return s.putObjects(ctx, domain, objectType, objs, 0)
}

// putObjects is PutProfileObjects without the API's bound on a batch: the
// service's own bulk paths (workflows) send larger ones, to fill the
// store's group commits. An object the per-profile ingestion rate
// throttles is tried again, every 20 ms for up to throttleWait, before the
// next round starts (so that an older version never lands after a newer
// one); 0 answers ETHROTTLED at once.
func (s *Service) putObjects(ctx context.Context, domain, objectType string, objs []string, throttleWait time.Duration) (keys []string, errs []error, err error) {
	t, err := s.GetObjectType(ctx, domain, objectType)
	if err != nil {
		return nil, nil, err
	}
	pre, rounds := s.batchRounds(t, objs)
	keys, errs = make([]string, len(objs)), make([]error, len(objs))
	for _, round := range rounds {
		var wg sync.WaitGroup
		for _, i := range round {
			wg.Go(func() {
				deadline := time.Now().Add(throttleWait)
				for {
					keys[i], errs[i] = s.putObject(ctx, domain, objectType, objs[i], pre[i])
					if profiles.ErrorCode(errs[i]) != profiles.ETHROTTLED || !time.Now().Before(deadline) {
						return
					}
					select {
					case <-ctx.Done():
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			})
		}
		wg.Wait()
	}
	return keys, errs, nil
}

// batchRounds maps the objects of a batch with their type, and splits them
// into rounds to run one after the other, so that objects that touch the
// same thing apply in the batch's order: an object goes in the round after
// the last one holding a version of it (its UNIQUE key) or an object of
// the same profile key value (a PROFILE key: they update one profile's
// fields). An object that does not map (its failure is told when it is
// ingested) goes in the first round, and its pre is nil.
func (s *Service) batchRounds(t *profiles.ObjectType, objs []string) (pre []*premapped, rounds [][]int) {
	pre = make([]*premapped, len(objs))
	m, err := s.mappers.get(t)
	next := map[string]int{} // unique or profile key -> the round after its last object
	for i, obj := range objs {
		round := 0
		if err == nil && len(obj) <= profiles.MaxObjectSize {
			if res, merr := m.Map([]byte(obj)); merr == nil {
				pre[i] = &premapped{mapper: m, res: res, index: s.indexValues(t.DomainName, res.Keys)}
				var ids []string
				for _, k := range res.Keys {
					switch {
					case hasIdentifier(k.Identifiers, profiles.IdentifierUnique):
						ids = append(ids, "u\x00"+objectKey(t.Name, k.Name, k.Value))
					case hasIdentifier(k.Identifiers, profiles.IdentifierProfile):
						ids = append(ids, "p\x00"+k.Name+"\x00"+k.Value)
					}
				}
				for _, id := range ids {
					round = max(round, next[id])
				}
				for _, id := range ids {
					next[id] = round + 1
				}
			}
		}
		if round == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[round] = append(rounds[round], i)
	}
	return pre, rounds
}
