package service

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDocCache: the document used longest ago goes first, by count and by
// bytes.
func TestDocCache(t *testing.T) {
	var c docCache[int]
	for i := range docCacheSize {
		c.put(strconv.Itoa(i), i, 1)
	}
	if _, ok := c.get("0"); !ok { // used now: kept
		t.Fatal("0 missing")
	}
	c.put("new", -1, 1)
	if _, ok := c.get("1"); ok {
		t.Error("1, used longest ago, is still there")
	}
	for _, k := range []string{"0", "2", "new"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s missing", k)
		}
	}
	if len(c.m) != docCacheSize || len(c.order) != docCacheSize || c.bytes != docCacheSize {
		t.Errorf("%d documents, %d keys, %d bytes; want %d", len(c.m), len(c.order), c.bytes, docCacheSize)
	}
	c.put("big", 0, docCacheBytes-4) // pushes out all but the 4 used last
	if len(c.m) != 5 || c.bytes != docCacheBytes {
		t.Errorf("after a big one: %d documents, %d bytes; want 5, %d", len(c.m), c.bytes, docCacheBytes)
	}
	for _, k := range []string{"0", "2", "new", "31"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s, used last, missing", k)
		}
	}
	c.put("big", 1, 10) // replaced: its old size goes
	if v, _ := c.get("big"); v != 1 || c.bytes != 14 {
		t.Errorf("replaced: %d, %d bytes; want 1, 14", v, c.bytes)
	}
}

// TestDocCacheLoad: concurrent loads of one key make it once; an error is
// not kept.
func TestDocCacheLoad(t *testing.T) {
	var c docCache[int]
	var calls atomic.Int32
	var wg, arrived sync.WaitGroup
	arrived.Add(8)
	for range 8 {
		wg.Go(func() {
			arrived.Done()
			v, err := c.load("k", func() (int, int, error) {
				calls.Add(1)
				arrived.Wait() // the others are loading too, or about to
				return 7, 1, nil
			})
			if v != 7 || err != nil {
				t.Errorf("load: %d, %v", v, err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("made %d times, want once", n)
	}
	boom := errors.New("boom")
	if _, err := c.load("e", func() (int, int, error) { return 0, 0, boom }); err != boom {
		t.Fatalf("load: %v, want boom", err)
	}
	if _, ok := c.get("e"); ok {
		t.Error("an error was kept")
	}
}
