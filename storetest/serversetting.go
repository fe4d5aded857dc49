package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/openprofiles/profiles"
)

func testServerSettings(t *testing.T, open OpenFunc) {
	mustOpenSettings := func(t *testing.T) profiles.ServerSettingStore {
		t.Helper()
		s, _ := mustOpenClock(t, open)
		ss, ok := s.(profiles.ServerSettingStore)
		if !ok {
			t.Fatalf("%T does not implement profiles.ServerSettingStore: every store must (serve compares the server secret's check value with it)", s)
		}
		return ss
	}

	t.Run("FirstValueKept", func(t *testing.T) {
		ctx := t.Context()
		ss := mustOpenSettings(t)
		first := []byte{0, 1, 2, 0xff, 'a'}
		got, err := ss.InitServerSetting(ctx, "check", first)
		if err != nil {
			t.Fatalf("InitServerSetting: %v", err)
		}
		if !bytes.Equal(got, first) {
			t.Fatalf("first InitServerSetting = %x, want the value given, %x", got, first)
		}
		got, err = ss.InitServerSetting(ctx, "check", []byte("another"))
		if err != nil {
			t.Fatalf("InitServerSetting again: %v", err)
		}
		if !bytes.Equal(got, first) {
			t.Errorf("second InitServerSetting = %q, want the first value kept, %x", got, first)
		}
		// Another name is another setting.
		got, err = ss.InitServerSetting(ctx, "other", []byte("x"))
		if err != nil || string(got) != "x" {
			t.Errorf("InitServerSetting(other) = %q, %v; want x", got, err)
		}
	})

	// Nodes starting at once on one store: every one gets the value of the
	// one that wrote first.
	t.Run("Concurrent", func(t *testing.T) {
		ctx := t.Context()
		ss := mustOpenSettings(t)
		const n = 8
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = ss.InitServerSetting(ctx, "check", fmt.Appendf(nil, "value %d", i))
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("InitServerSetting %d: %v", i, errs[i])
			}
		}
		for i := range n {
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("InitServerSetting %d = %q, %d = %q: want one value for all", 0, got[0], i, got[i])
			}
		}
		if !bytes.HasPrefix(got[0], []byte("value ")) {
			t.Fatalf("InitServerSetting = %q, want one of the values given", got[0])
		}
		again, err := ss.InitServerSetting(ctx, "check", []byte("later"))
		if err != nil || !bytes.Equal(again, got[0]) {
			t.Errorf("InitServerSetting after = %q, %v; want %q", again, err, got[0])
		}
	})
}
