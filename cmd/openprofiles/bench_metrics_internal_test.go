package main

import (
	"math"
	"testing"
)

// TestQuantileBound: the bound of the bucket that holds a quantile of the
// requests counted between two scrapes, not of all the server has seen.
func TestQuantileBound(t *testing.T) {
	inf := math.Inf(1)
	before := latencyHistogram{0.001: 500, 0.002: 500, 0.01: 500, inf: 500} // an earlier scenario: 500 fast requests
	after := latencyHistogram{0.001: 560, 0.002: 590, 0.01: 599, inf: 600}  // this one: 60, 30, 9 and 1 slower than 10 ms
	for _, c := range []struct {
		q    float64
		want float64
	}{{0.5, 1}, {0.6, 1}, {0.61, 2}, {0.9, 2}, {0.99, 10}, {1, -1}} {
		if got := quantileBound(before, after, c.q); got != c.want {
			t.Errorf("quantile %v: %v ms, want %v", c.q, got, c.want)
		}
	}
	if got := quantileBound(after, after, 0.5); got != 0 {
		t.Errorf("nothing counted: %v, want 0", got)
	}
}

// TestPagesPerOp: pages written between two scrapes per operation, none
// when the server does not count pages or nothing ran.
func TestPagesPerOp(t *testing.T) {
	before, after := serverMetrics{pagesWritten: 1000}, serverMetrics{pagesWritten: 4333}
	if got := pagesPerOp(before, after, 300); got != 11.11 {
		t.Errorf("3,333 pages for 300 ops: %v, want 11.11", got)
	}
	if got := pagesPerOp(serverMetrics{pagesWritten: -1}, serverMetrics{pagesWritten: -1}, 300); got != 0 {
		t.Errorf("no pages metric: %v, want 0", got)
	}
	if got := pagesPerOp(before, after, 0); got != 0 {
		t.Errorf("no operation: %v, want 0", got)
	}
}
