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
