package postgres_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/storetest"
)

// benchObject is a contact record of about 1 KB.
var benchObject = []byte(`{"ContactId":"%s","Channel":"VOICE","InitiationMethod":"INBOUND",` +
	`"CustomerEndpoint":{"Address":"%s","Type":"TELEPHONE_NUMBER"},` +
	`"Attributes":{` + strings.Repeat(`"attribute":"value of some length",`, 24) + `"last":"x"}}`)

// ingest does what the service does for one object: find the profile by
// key, create it if there is none, store the object and its keys.
// It counts the attempts of the transaction in attempts. With hashed, the
// key values and unique keys are hashes, as blind indexes will make them.
func ingest(ctx context.Context, db *postgres.DB, i, nProfiles int, hashed bool, attempts *atomic.Int64) error {
	phone := fmt.Sprintf("+3361%07d", i%nProfiles)
	uk := fmt.Sprintf("contact-%09d", i)
	if hashed {
		phone, uk = fmt.Sprintf("%x", sha256.Sum256([]byte(phone)))[:32], fmt.Sprintf("%x", sha256.Sum256([]byte(uk)))[:32]
	}
	return db.Update(ctx, func(tx profiles.Tx) error {
		attempts.Add(1)
		ids, err := tx.FindProfileIDs(ctx, "d", "_phone", phone)
		if err != nil {
			return err
		}
		var id string
		if len(ids) > 0 {
			id = ids[0]
		} else {
			id = fmt.Sprintf("%032x", i)
			p := &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"PhoneNumber": phone}}
			if err := tx.PutProfile(ctx, p); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: profiles.KeyOriginProfile}}); err != nil {
				return err
			}
		}
		o := &profiles.ProfileObject{
			DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: id,
			Data:      fmt.Appendf(nil, string(benchObject), uk, phone),
			ExpiresAt: time.Now().Add(24 * time.Hour),
		}
		if err := tx.PutObject(ctx, o); err != nil {
			return err
		}
		return tx.PutKeys(ctx, []profiles.Key{
			{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: "CTR", ObjectKey: uk},
			{DomainName: "d", Name: "_ctrContactId", Value: uk, ProfileID: id, Origin: "CTR", ObjectKey: uk},
		})
	})
}

// BenchmarkPutObject measures one ingestion transaction of a 1 KB object:
// FindProfileIDs; PutProfile and PutKeys when no profile has the key (the
// first 1,000 objects); PutObject; PutKeys of two object keys. Objects then
// spread over those 1,000 profiles. Serial runs from one goroutine,
// Parallel from GOMAXPROCS goroutines: transactions of different profiles
// run at once, and those that conflict are retried; retries/op reports how
// often. Conflicts come mostly from transactions that read and write the
// same index page: here the phone numbers of concurrent transactions are
// neighbours. ParallelHashed spreads them as blind-index hashes will.
func BenchmarkPutObject(b *testing.B) {
	const profileCount = 1000
	b.Run("Serial", func(b *testing.B) {
		ctx, db := b.Context(), MustOpenDB(b)
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
			b.Fatalf("CreateDomain: %v", err)
		}
		var attempts atomic.Int64
		i := 0
		for b.Loop() {
			if err := ingest(ctx, db, i, profileCount, false, &attempts); err != nil {
				b.Fatalf("ingest: %v", err)
			}
			i++
		}
		b.ReportMetric(float64(attempts.Load()-int64(i))/float64(i), "retries/op")
	})
	for _, hashed := range []bool{false, true} {
		name := "Parallel"
		if hashed {
			name = "ParallelHashed"
		}
		b.Run(name, func(b *testing.B) {
			ctx, db := b.Context(), MustOpenDB(b)
			if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
				b.Fatalf("CreateDomain: %v", err)
			}
			var next, attempts atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := ingest(ctx, db, int(next.Add(1)), profileCount, hashed, &attempts); err != nil {
						b.Errorf("ingest: %v", err)
						return
					}
				}
			})
			b.ReportMetric(float64(attempts.Load()-next.Load())/float64(next.Load()), "retries/op")
		})
	}
}

// BenchmarkFindProfileIDs looks keys up among 10,000: 5,000 profiles each
// hold a key from their fields and one from an object (which the lookup
// checks has not expired).
func BenchmarkFindProfileIDs(b *testing.B) {
	ctx, db := b.Context(), MustOpenDB(b)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
		b.Fatalf("CreateDomain: %v", err)
	}
	const n = 5000
	err := db.Update(ctx, func(tx profiles.Tx) error {
		for i := range n {
			id, phone, email := fmt.Sprintf("%032x", i), fmt.Sprintf("+3361%07d", i), fmt.Sprintf("user%d@example.com", i)
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"PhoneNumber": phone}}); err != nil {
				return err
			}
			uk := fmt.Sprintf("contact-%09d", i)
			o := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: id,
				Data: []byte(`{}`), ExpiresAt: time.Now().Add(24 * time.Hour)}
			if err := tx.PutObject(ctx, o); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{
				{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: profiles.KeyOriginProfile},
				{DomainName: "d", Name: "_email", Value: email, ProfileID: id, Origin: "CTR", ObjectKey: uk},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("populate: %v", err)
	}
	find := func(i int) error {
		name, value := "_phone", fmt.Sprintf("+3361%07d", i%n)
		if i%2 == 1 {
			name, value = "_email", fmt.Sprintf("user%d@example.com", i%n)
		}
		return db.View(ctx, func(tx profiles.Tx) error {
			ids, err := tx.FindProfileIDs(ctx, "d", name, value)
			if err == nil && len(ids) != 1 {
				err = fmt.Errorf("FindProfileIDs(%s, %s): %q, want one id", name, value, ids)
			}
			return err
		})
	}
	b.Run("Serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if err := find(i * 7919); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := find(int(next.Add(1)) * 7919); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkIngestBucket: see storetest.BenchIngestBucket.
func BenchmarkIngestBucket(b *testing.B) {
	storetest.BenchIngestBucket(b, func(tb testing.TB) profiles.Store { return MustOpenDB(tb) })
}

// BenchmarkRoundTrips prices a round trip to PostgreSQL: each op is one
// SERIALIZABLE transaction of ten primary-key look-ups, sent one at a time
// (twelve round trips with BEGIN and COMMIT) or in one batch (three), by
// eight goroutines. The difference between the two, over nine, is what a
// round trip costs the client and the server together on this machine.
func BenchmarkRoundTrips(b *testing.B) {
	ctx, dsn := b.Context(), postgres.MustSchema(b)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	const rows, perTx = 10000, 10
	if _, err := pool.Exec(ctx, `CREATE TABLE rt (k text PRIMARY KEY, v bigint);
		INSERT INTO rt SELECT 'k' || g, g FROM generate_series(1, 10000) g`); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	for _, batched := range []bool{false, true} {
		b.Run(map[bool]string{false: "sequential", true: "batched"}[batched], func(b *testing.B) {
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(perTx)
					err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
						if batched {
							batch := &pgx.Batch{}
							for j := range int64(perTx) {
								batch.Queue(`SELECT v FROM rt WHERE k = $1`, fmt.Sprintf("k%d", (n+j)%rows+1))
							}
							return tx.SendBatch(ctx, batch).Close()
						}
						for j := range int64(perTx) {
							var v int64
							if err := tx.QueryRow(ctx, `SELECT v FROM rt WHERE k = $1`, fmt.Sprintf("k%d", (n+j)%rows+1)).Scan(&v); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
