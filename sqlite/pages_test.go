package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/openprofiles/profiles"
)

// PagesWritten counts the pages the writer writes to the WAL: nothing for
// reads, at least one page for a transaction that changes a row, and more
// for more rows; concurrent Updates in one group count once.
func TestDB_PagesWritten(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
		t.Fatal(err)
	}
	if err := ingest(ctx, db, 0, 10); err != nil {
		t.Fatal(err)
	}
	start := db.PagesWritten()
	if start <= 0 {
		t.Fatalf("PagesWritten after a domain and an ingestion = %d, want > 0", start)
	}

	// Reads write nothing.
	for range 5 {
		err := db.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.FindProfileIDs(ctx, "d", "_phone", "+33610000000")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := db.PagesWritten(); got != start {
		t.Errorf("PagesWritten after reads = %d, want %d", got, start)
	}

	// One ingestion: its profile, object and key rows are in a few pages
	// of each table and index, each written once.
	if err := ingest(ctx, db, 1, 10); err != nil {
		t.Fatal(err)
	}
	one := db.PagesWritten() - start
	t.Logf("one ingestion: %d pages", one)
	if one < 3 || one > 40 {
		t.Errorf("pages written by one ingestion = %d, want 3 to 40", one)
	}

	// A failed Update writes nothing to the WAL.
	before := db.PagesWritten()
	err := db.Update(ctx, func(tx profiles.Tx) error {
		if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: "gone", Fields: map[string]string{"FirstName": "A"}}); err != nil {
			return err
		}
		return fmt.Errorf("changed my mind")
	})
	if err == nil {
		t.Fatal("Update: want the function's error")
	}
	if got := db.PagesWritten(); got != before {
		t.Errorf("PagesWritten after a rolled-back Update = %d, want %d", got, before)
	}

	// Many ingestions at once: every one is counted (the total only grows),
	// and 200 objects take more pages than one.
	before = db.PagesWritten()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() { errs <- ingest(ctx, db, 100+i, 50) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	many := db.PagesWritten() - before
	t.Logf("200 concurrent ingestions: %d pages", many)
	if many <= one {
		t.Errorf("pages written by 200 ingestions = %d, want more than one ingestion's %d", many, one)
	}
}
