package service

import (
	"errors"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestRecent_ForgetDuringARead: what a read returns is kept for domainTTL,
// unless the name was forgotten while it read (its snapshot may predate
// the change); forget drops what is kept; errors are not kept.
func TestRecent_ForgetDuringARead(t *testing.T) {
	var c domainCache
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	reads := 0
	get := func(at time.Time, days int, forget bool, err error) (int, error) {
		d, err := recent(&c, &c.domains, "d", at, func() (*profiles.Domain, error) {
			reads++
			if forget {
				c.forget("d")
			}
			if err != nil {
				return nil, err
			}
			return &profiles.Domain{Name: "d", DefaultExpirationDays: days}, nil
		})
		if err != nil {
			return 0, err
		}
		return d.DefaultExpirationDays, nil
	}
	if v, err := get(now, 1, true, nil); v != 1 || err != nil {
		t.Fatalf("first read = %d, %v", v, err)
	}
	if v, _ := get(now, 2, false, nil); v != 2 || reads != 2 {
		t.Fatalf("after a read during which d was forgotten: %d after %d reads, want 2 after 2 (nothing kept)", v, reads)
	}
	if v, _ := get(now.Add(999*time.Millisecond), 3, false, nil); v != 2 || reads != 2 {
		t.Fatalf("within domainTTL: %d after %d reads, want the kept 2", v, reads)
	}
	if v, _ := get(now.Add(domainTTL), 4, false, nil); v != 4 || reads != 3 {
		t.Fatalf("after domainTTL: %d after %d reads, want 4 read again", v, reads)
	}
	c.forget("d")
	if _, err := get(now.Add(domainTTL), 0, false, errors.New("gone")); err == nil || reads != 4 {
		t.Fatalf("after forget: err %v after %d reads, want the read's error after 4", err, reads)
	}
	if v, _ := get(now.Add(domainTTL), 5, false, nil); v != 5 || reads != 5 {
		t.Fatalf("after an error: %d after %d reads, want 5 read again (errors are not kept)", v, reads)
	}
}
