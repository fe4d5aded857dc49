// Command deldomain measures the deletion of a large domain on SQLite
// (BENCHMARKS.md): it fills a domain with -n profiles, each with an object,
// two keys and a history record, then deletes it while another domain
// ingests one object a transaction without pause, and prints how long the
// deletion took and the longest pause between two of the other domain's
// commits. -old deletes as the store did before migration 0015: one
// transaction, DELETE FROM domains and its cascade, on a connection of its
// own (the ingestion then waits for SQLite's write lock, as it waited for
// the store's one writer connection).
//
//	go run ./docs/experiments/deldomain -n 100000 [-old]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

func main() {
	n := flag.Int("n", 100000, "profiles (and objects) of the deleted domain")
	old := flag.Bool("old", false, "delete in one transaction, as before migration 0015")
	flag.Parse()
	dir, err := os.MkdirTemp("", "deldomain")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "profiles.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, name := range []string{"big", "live"} {
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: name, DefaultExpirationDays: 30}, 0); err != nil {
			log.Fatal(err)
		}
	}
	now := time.Now()
	for i := 0; i < *n; i += 500 {
		err := db.Update(ctx, func(tx profiles.Tx) error {
			for j := i; j < min(*n, i+500); j++ {
				if err := put(ctx, tx, "big", j, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	var stop atomic.Bool
	var maxPause atomic.Int64
	done := make(chan int)
	go func() {
		last, i := time.Now(), 0
		for ; !stop.Load(); i++ {
			if err := db.Update(ctx, func(tx profiles.Tx) error { return put(ctx, tx, "live", i, now) }); err != nil {
				log.Fatal(err)
			}
			t := time.Now()
			if d := t.Sub(last); d > time.Duration(maxPause.Load()) {
				maxPause.Store(int64(d))
			}
			last = t
		}
		done <- i
	}()
	time.Sleep(time.Second) // the ingestion's own pace first
	before := time.Duration(maxPause.Swap(0))
	start := time.Now()
	if *old {
		raw, err := sql.Open("sqlite", sqlite.WriterDSN(path))
		if err != nil {
			log.Fatal(err)
		}
		if _, err := raw.Exec(`DELETE FROM domains WHERE name = 'big'`); err != nil {
			log.Fatal(err)
		}
		raw.Close()
	} else if err := db.DeleteDomain(ctx, "big"); err != nil {
		log.Fatal(err)
	}
	took := time.Since(start)
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	puts := <-done
	fmt.Printf("n=%d old=%v: deletion %v; the other domain's longest pause %v during it (%v before it); %d objects ingested in all\n",
		*n, *old, took.Round(time.Millisecond), time.Duration(maxPause.Load()).Round(time.Millisecond), before.Round(time.Millisecond), puts)
}

// put writes profile i of the domain with an object, two keys and a
// history record.
func put(ctx context.Context, tx profiles.Tx, domain string, i int, at time.Time) error {
	id := fmt.Sprintf("%032x", i)
	p := &profiles.Profile{DomainName: domain, ID: id, Fields: map[string]string{"EmailAddress": fmt.Sprintf("p%d@example.com", i)}, CreatedAt: at, LastUpdatedAt: at}
	if err := tx.PutProfile(ctx, p); err != nil {
		return err
	}
	key := fmt.Sprintf("contact_%d", i)
	if err := tx.PutObject(ctx, &profiles.ProfileObject{DomainName: domain, ObjectTypeName: "contact", UniqueKey: key, ProfileID: id,
		Data:              []byte(fmt.Sprintf(`{"id":"c%d","email":"p%d@example.com","note":"some text of a contact record"}`, i, i)),
		SourceLastUpdated: at, CreatedAt: at, UpdatedAt: at}); err != nil {
		return err
	}
	if err := tx.PutKeys(ctx, []profiles.Key{
		{DomainName: domain, Name: "_email", Value: fmt.Sprintf("p%d@example.com", i), ProfileID: id, Origin: "contact", ObjectKey: key},
		{DomainName: domain, Name: "contactId", Value: fmt.Sprintf("c%d", i), ProfileID: id, Origin: "contact", ObjectKey: key},
	}); err != nil {
		return err
	}
	return tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: domain, ProfileID: id, ID: fmt.Sprintf("%032x", i+1<<40), ActionType: "INGESTED",
		ObjectTypeName: "contact", ObjectKey: key, Content: []byte("{}"), CreatedAt: at, LastUpdatedAt: at})
}
