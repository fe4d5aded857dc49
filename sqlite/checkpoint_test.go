package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestCheckpointer_CopiesTheWAL: committed pages reach the database file
// without anyone asking, well before the WAL is large enough for the
// writer to checkpoint itself (sqlite.WriterAutoCheckpointPages): the
// checkpointer copies them in the background, including after the writes
// stop.
func TestCheckpointer_CopiesTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profiles.db")
	db := mustOpenDBAt(t, path, nil)
	ctx := t.Context()
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		err := db.Update(ctx, func(tx profiles.Tx) error {
			return tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: fmt.Sprintf("p%03d", i),
				Fields: map[string]string{"Address": strings.Repeat("x", 2000)}})
		})
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	raw := mustOpenRaw(t, path)
	var pages, pageSize int64
	if err := raw.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if pages < 100 {
		t.Fatalf("%d pages: want a database of at least 100 pages for this test", pages)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() >= pages*pageSize {
			return // every page is in the file
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file of %d bytes after 30 s, want the %d pages of %d bytes the database holds: the WAL was not copied",
				st.Size(), pages, pageSize)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
