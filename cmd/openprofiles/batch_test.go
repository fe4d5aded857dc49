package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// batchItem is one item of a BatchPutProfileObject call.
func batchItem(id string, obj any) types.BatchPutProfileObjectRequestItem {
	s, ok := obj.(string)
	if !ok {
		b, _ := json.Marshal(obj)
		s = string(b)
	}
	return types.BatchPutProfileObjectRequestItem{Id: aws.String(id), Object: aws.String(s)}
}

func (e *ingestEnv) batch(objectType string, items ...types.BatchPutProfileObjectRequestItem) (*customerprofiles.BatchPutProfileObjectOutput, error) {
	e.t.Helper()
	return e.client.BatchPutProfileObject(e.t.Context(), &customerprofiles.BatchPutProfileObjectInput{
		DomainName: aws.String(e.domain), ObjectTypeName: aws.String(objectType), Items: items,
	})
}

// TestBatchPutProfileObject drives BatchPutProfileObject through the SDK:
// each item is ingested as PutProfileObject would ingest it, an item's
// failure is reported in Failed without stopping the others, and what is
// wrong with the call as a whole fails it.
func TestBatchPutProfileObject(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	existing := e.mustPut("contact", map[string]any{"id": "c0", "email": "zoe@example.com", "name": map[string]any{"first": "Zoe"}})
	zoe := e.mustOne("_email", "zoe@example.com")

	out, err := e.batch("contact",
		batchItem("new-ann", map[string]any{"id": "c1", "email": "ann@example.com", "phone": "+1 555 0100", "name": map[string]any{"first": "Ann"}}),
		batchItem("not-json", `{"id": "c2", "email":`),
		batchItem("zoe-again", map[string]any{"id": "c3", "email": "ZOE@example.com", "tier": "gold"}),
		batchItem("no-keys", map[string]any{"name": map[string]any{"first": "Nobody"}}),
		batchItem("new-bob", map[string]any{"id": "c4", "email": "bob@example.com"}),
	)
	if err != nil {
		t.Fatalf("BatchPutProfileObject: %v", err)
	}
	var ok []string
	for _, s := range out.Successful {
		ok = append(ok, aws.ToString(s.Id))
	}
	if want := []string{"new-ann", "zoe-again", "new-bob"}; !slices.Equal(ok, want) {
		t.Fatalf("Successful ids %v, want %v (in the order of the items)", ok, want)
	}
	failed := map[string]types.BatchPutProfileObjectErrorItem{}
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = f
	}
	if len(failed) != 2 {
		t.Fatalf("Failed=%+v, want not-json and no-keys", out.Failed)
	}
	for id, words := range map[string][]string{"not-json": {"JSON"}, "no-keys": {"UNIQUE key or PROFILE key"}} {
		f, found := failed[id]
		if !found || aws.ToInt32(f.Code) != http.StatusBadRequest {
			t.Errorf("item %s: %+v, want a failure with code 400", id, f)
			continue
		}
		for _, w := range words {
			if !strings.Contains(aws.ToString(f.Message), w) {
				t.Errorf("item %s: message %q does not contain %q", id, aws.ToString(f.Message), w)
			}
		}
	}

	// Each successful item is where PutProfileObject would have put it,
	// under the key PutProfileObject answers for the same object.
	ann := e.mustOne("_email", "ann@example.com")
	if aws.ToString(ann.FirstName) != "Ann" || aws.ToString(ann.PhoneNumber) == "" {
		t.Errorf("ann's profile not mapped: %+v", ann)
	}
	if got := e.mustOne("_email", "zoe@example.com"); aws.ToString(got.ProfileId) != aws.ToString(zoe.ProfileId) || got.Attributes["tier"] != "gold" {
		t.Errorf("zoe-again did not reach Zoe's profile %s: %+v", aws.ToString(zoe.ProfileId), got)
	}
	e.mustOne("_email", "bob@example.com")
	if objs := e.objects("contact", aws.ToString(zoe.ProfileId)); len(objs) != 2 {
		t.Errorf("Zoe's profile holds %d objects, want 2", len(objs))
	}
	if k := e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann"}}); k != aws.ToString(out.Successful[0].ProfileObjectUniqueKey) {
		t.Errorf("PutProfileObject of c1 gave key %s, the batch %s", k, aws.ToString(out.Successful[0].ProfileObjectUniqueKey))
	}
	if existing == "" {
		t.Fatal("no key for c0")
	}

	t.Run("VersionsOfOneObjectApplyInOrder", func(t *testing.T) {
		// Three versions of one object, no source timestamp: the last one
		// is kept, every time.
		for round := range 5 {
			id := fmt.Sprintf("v%d", round)
			out, err := e.batch("contact",
				batchItem("first", map[string]any{"id": id, "email": id + "@example.com", "tier": "one"}),
				batchItem("other", map[string]any{"id": id + "-other", "email": id + "-other@example.com"}),
				batchItem("second", map[string]any{"id": id, "email": id + "@example.com", "tier": "two"}),
				batchItem("third", map[string]any{"id": id, "email": id + "@example.com", "tier": "three"}),
			)
			if err != nil || len(out.Failed) != 0 || len(out.Successful) != 4 {
				t.Fatalf("batch: %+v, %v", out, err)
			}
			if k1, k3 := aws.ToString(out.Successful[0].ProfileObjectUniqueKey), aws.ToString(out.Successful[3].ProfileObjectUniqueKey); k1 != k3 {
				t.Fatalf("versions of one object got keys %s and %s", k1, k3)
			}
			p := e.mustOne("_email", id+"@example.com")
			objs := e.objects("contact", aws.ToString(p.ProfileId))
			if len(objs) != 1 || !strings.Contains(aws.ToString(objs[0].Object), `"three"`) || p.Attributes["tier"] != "three" {
				var texts []string
				for _, o := range objs {
					texts = append(texts, aws.ToString(o.Object))
				}
				t.Fatalf("round %d: objects %v, tier %q; want the third version only", round, texts, p.Attributes["tier"])
			}
		}
	})

	t.Run("WholeCallErrors", func(t *testing.T) {
		item := batchItem("a", map[string]any{"id": "x1", "email": "x1@example.com"})
		_, err := e.client.BatchPutProfileObject(t.Context(), &customerprofiles.BatchPutProfileObjectInput{
			DomainName: aws.String("nope"), ObjectTypeName: aws.String("contact"), Items: []types.BatchPutProfileObjectRequestItem{item}})
		wantAPIError(t, err, "ResourceNotFoundException", "nope")
		_, err = e.batch("nosuchtype", item)
		wantAPIError(t, err, "ResourceNotFoundException", "nosuchtype")
		_, err = e.batch("contact", item, batchItem("b", map[string]any{"id": "x2"}), batchItem("a", map[string]any{"id": "x3"}))
		wantAPIError(t, err, "BadRequestException", "'Items.3.member.Id'", "item 1", "unique")
		var eleven []types.BatchPutProfileObjectRequestItem
		for i := range 11 {
			eleven = append(eleven, batchItem(fmt.Sprint("i", i), map[string]any{"id": fmt.Sprint("x", i)}))
		}
		_, err = e.batch("contact", eleven...)
		wantAPIError(t, err, "BadRequestException", "Items")
		_, err = e.batch("contact", batchItem("has space", map[string]any{"id": "x1"}))
		wantAPIError(t, err, "BadRequestException", "'Items.1.member.Id'")
		_, err = e.client.BatchPutProfileObject(t.Context(), &customerprofiles.BatchPutProfileObjectInput{
			DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), Items: []types.BatchPutProfileObjectRequestItem{}})
		wantAPIError(t, err, "BadRequestException", "Items")
		// Nothing of these calls went in.
		if ps := e.search("_email", "x1@example.com"); len(ps) != 0 {
			t.Errorf("a refused call stored a profile: %+v", ps)
		}
	})

	t.Run("ParallelBatchesOnTheSameKeys", func(t *testing.T) {
		// Eight writers send batches whose objects share ten customers'
		// emails: every customer ends with one profile holding every
		// object sent for them. An item may fail with 429 (PostgreSQL gives
		// up on a transaction that keeps conflicting): the writer sends
		// those items again, as a client of the API must.
		const writers, batches = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*batches)
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					var items []types.BatchPutProfileObjectRequestItem
					for c := range 10 {
						items = append(items, batchItem(fmt.Sprint("item", c), map[string]any{
							"id": fmt.Sprintf("p-%d-%d-%d", w, b, c), "email": fmt.Sprintf("shared%d@example.com", c)}))
					}
					for attempt := 0; len(items) > 0; attempt++ {
						out, err := e.client.BatchPutProfileObject(t.Context(), &customerprofiles.BatchPutProfileObjectInput{
							DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"), Items: items})
						if err != nil {
							errs <- err
							return
						}
						var again []types.BatchPutProfileObjectRequestItem
						for _, f := range out.Failed {
							if aws.ToInt32(f.Code) != http.StatusTooManyRequests || attempt == 10 {
								errs <- fmt.Errorf("failed item %s: %d %s", aws.ToString(f.Id), aws.ToInt32(f.Code), aws.ToString(f.Message))
								return
							}
							i := slices.IndexFunc(items, func(it types.BatchPutProfileObjectRequestItem) bool { return aws.ToString(it.Id) == aws.ToString(f.Id) })
							again = append(again, items[i])
						}
						items = again
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for c := range 10 {
			p := e.mustOne("_email", fmt.Sprintf("shared%d@example.com", c))
			if n := len(e.objects("contact", aws.ToString(p.ProfileId))); n != writers*batches {
				t.Errorf("customer %d's profile holds %d objects, want %d", c, n, writers*batches)
			}
		}
	})
}

// TestBatchPutProfileObject_Access: the call is authorised as
// profile:BatchPutProfileObject; PutProfileObject's permission is not it.
func TestBatchPutProfileObject_Access(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	single := mustUser(t, e.m, "single", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:PutProfileObject"],"Resource":"*"}`)})
	batcher := mustUser(t, e.m, "batcher", map[string]string{"p": policy(`{"Effect":"Allow","Action":["profile:BatchPutProfileObject"],"Resource":"arn:aws:profile:us-east-1:000000000000:domains/ingest*"}`)})
	in := func() *customerprofiles.BatchPutProfileObjectInput {
		return &customerprofiles.BatchPutProfileObjectInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("contact"),
			Items: []types.BatchPutProfileObjectRequestItem{batchItem("a", map[string]any{"id": "a1", "email": "a1@example.com"})}}
	}
	_, err := single.BatchPutProfileObject(t.Context(), in())
	wantAPIError(t, err, "AccessDeniedException", "profile:BatchPutProfileObject")
	out, err := batcher.BatchPutProfileObject(t.Context(), in())
	if err != nil || len(out.Successful) != 1 {
		t.Fatalf("batcher: %+v, %v", out, err)
	}
	e.mustOne("_email", "a1@example.com")
}
