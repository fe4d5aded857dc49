package service

import (
	"slices"
	"sync"
)

// docCache keeps the last documents parsed that never change once
// written: identity resolution jobs' match groups (a job's id, with its
// start, names one computation; the pages of GetMatches and the
// GetSimilarProfiles calls then parse a domain's groups, megabytes at a
// large domain, once per node, not once each) and recommenders' trained
// versions. It holds docCacheSize documents and docCacheBytes (as their
// makers estimate them) at most; a new one pushes out those used longest
// ago. Shared: read only.
type docCache[T any] struct {
	mu      sync.Mutex
	m       map[string]cached[T]
	order   []string // keys, the one used last at the end
	bytes   int
	loading map[string]*docLoad[T]
}

type cached[T any] struct {
	doc  T
	size int
}

// docLoad is a document being made: the callers that want it meanwhile
// wait for it (done) instead of making it again.
type docLoad[T any] struct {
	done chan struct{}
	doc  T
	err  error
}

const (
	docCacheSize  = 32
	docCacheBytes = 256 << 20
)

func (c *docCache[T]) get(key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if ok {
		c.touch(key)
	}
	return e.doc, ok
}

// put keeps doc, of about size bytes, under key.
func (c *docCache[T]) put(key string, doc T, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cached[T]{}
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= old.size
		delete(c.m, key)
	}
	for len(c.order) > 0 && (len(c.m) >= docCacheSize || c.bytes+size > docCacheBytes) {
		if k := c.order[0]; k != key {
			c.bytes -= c.m[k].size
			delete(c.m, k)
		}
		c.order = c.order[1:]
	}
	c.m[key] = cached[T]{doc, size}
	c.bytes += size
	c.touch(key)
}

// load returns the document of key, calling fill when it is not kept: one
// call at a time per key, the others waiting for its document (or error,
// which is not kept). fill returns the document and its size.
func (c *docCache[T]) load(key string, fill func() (T, int, error)) (T, error) {
	c.mu.Lock()
	if e, ok := c.m[key]; ok {
		c.touch(key)
		c.mu.Unlock()
		return e.doc, nil
	}
	if l, ok := c.loading[key]; ok {
		c.mu.Unlock()
		<-l.done
		return l.doc, l.err
	}
	if c.loading == nil {
		c.loading = map[string]*docLoad[T]{}
	}
	l := &docLoad[T]{done: make(chan struct{})}
	c.loading[key] = l
	c.mu.Unlock()

	doc, size, err := fill()
	l.doc, l.err = doc, err
	if err == nil {
		c.put(key, doc, size)
	}
	c.mu.Lock()
	delete(c.loading, key)
	c.mu.Unlock()
	close(l.done)
	return doc, err
}

// touch moves key to the end of order.
func (c *docCache[T]) touch(key string) {
	if i := slices.Index(c.order, key); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.order = append(c.order, key)
}
