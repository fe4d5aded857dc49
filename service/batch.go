package service

import (
	"context"
	"sync"

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
	return s.putObjects(ctx, domain, objectType, objs)
}

// putObjects is PutProfileObjects without the API's bound on a batch: the
// service's own bulk paths (workflows) send larger ones, to fill the
// store's group commits.
func (s *Service) putObjects(ctx context.Context, domain, objectType string, objs []string) (keys []string, errs []error, err error) {
	t, err := s.GetObjectType(ctx, domain, objectType)
	if err != nil {
		return nil, nil, err
	}
	pre, rounds := s.batchRounds(t, objs)
	keys, errs = make([]string, len(objs)), make([]error, len(objs))
	for _, round := range rounds {
		var wg sync.WaitGroup
		for _, i := range round {
			wg.Go(func() { keys[i], errs[i] = s.putObject(ctx, domain, objectType, objs[i], pre[i]) })
		}
		wg.Wait()
	}
	return keys, errs, nil
}

// batchRounds maps the objects of a batch with their type, and splits them
// into rounds to run one after the other: round n holds the (n+1)th
// version of each object. An object that does not map (its failure is told
// when it is ingested) is nobody's version: it goes in the first round, and
// its pre is nil.
func (s *Service) batchRounds(t *profiles.ObjectType, objs []string) (pre []*premapped, rounds [][]int) {
	pre = make([]*premapped, len(objs))
	m, err := s.mappers.get(t)
	seen := map[string]int{} // unique key -> versions met so far
	for i, obj := range objs {
		round := 0
		if err == nil && len(obj) <= profiles.MaxObjectSize {
			if res, merr := m.Map([]byte(obj)); merr == nil {
				pre[i] = &premapped{mapper: m, res: res, index: s.indexValues(t.DomainName, res.Keys)}
				for _, k := range res.Keys {
					if hasIdentifier(k.Identifiers, profiles.IdentifierUnique) {
						id := objectKey(t.Name, k.Name, k.Value)
						round = seen[id]
						seen[id]++
						break
					}
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
