package service

import (
	"testing"
	"time"
)

func TestRuleMergeGap(t *testing.T) {
	for _, c := range []struct{ interval, took, want time.Duration }{
		{time.Minute, 2 * time.Second, time.Minute},                      // a small domain: every interval
		{time.Minute, 30 * time.Second, 270 * time.Second},               // a large one: a tenth of the time
		{50 * time.Millisecond, time.Millisecond, 50 * time.Millisecond}, // the tests' interval
	} {
		if got := ruleMergeGap(c.interval, c.took); got != c.want {
			t.Errorf("ruleMergeGap(%v, %v) = %v, want %v", c.interval, c.took, got, c.want)
		}
	}
}
