package sqlite_test

import (
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/storetest"
)

// BenchmarkObjectHistory: see storetest.BenchObjectHistory.
func BenchmarkObjectHistory(b *testing.B) {
	storetest.BenchObjectHistory(b, func(tb testing.TB) profiles.Store { return MustOpenDB(tb) })
}

// BenchmarkDeleteExpired: see storetest.BenchDeleteExpired.
func BenchmarkDeleteExpired(b *testing.B) {
	storetest.BenchDeleteExpired(b, func(tb testing.TB) profiles.Store { return MustOpenDB(tb) })
}

// BenchmarkDeleteObject: see storetest.BenchDeleteObject.
func BenchmarkDeleteObject(b *testing.B) {
	storetest.BenchDeleteObject(b, func(tb testing.TB) profiles.Store { return MustOpenDB(tb) })
}
