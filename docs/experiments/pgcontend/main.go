// Command pgcontend measures concurrent ingestion into the same profiles on
// PostgreSQL (BENCHMARKS.md): for each number of writers and of profiles it
// makes a fresh schema, creates the profiles (one object each), then has
// the writers ingest -objects objects through the service
// (PutProfileObject), each object of a new contact whose email finds one of
// the profiles. It prints, per run, the objects ingested and refused
// (ThrottlingException: the store gave up retrying), the transactions the
// store retried (serialization failures and deadlocks, by the statement
// that failed and PostgreSQL's reason), the throughput, and checks that no
// profile was duplicated and every acknowledged object is stored.
//
//	go run ./docs/experiments/pgcontend -dsn 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/service"
)

func main() {
	dsn := flag.String("dsn", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL connection string (its user creates and drops schemas)")
	writersFlag := flag.String("writers", "16,32,64", "comma-separated numbers of concurrent writers")
	profilesFlag := flag.String("profiles", "1,5,20", "comma-separated numbers of profiles the objects go to")
	objects := flag.Int("objects", 1000, "objects ingested a run")
	rate := flag.Float64("rate", 1e9, "per-profile ingestion rate (the bucket is still written; the default never refuses)")
	verbose := flag.Bool("v", false, "print the retried transactions' reasons")
	keep := flag.Bool("keep", false, "keep the schemas (pgcontend_PID_RUN), to look at them")
	flag.Parse()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close(ctx)
	fmt.Println("writers\tprofiles\tobjects\tthrottled\tother errors\tretries\tretries/object\tseconds\tobjects/s\tprofiles after\tobjects stored")
	run := 0
	for _, w := range ints(*writersFlag) {
		for _, p := range ints(*profilesFlag) {
			run++
			schema := fmt.Sprintf("pgcontend_%d_%d", os.Getpid(), run)
			if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
				log.Fatal(err)
			}
			r := measure(ctx, withSchema(*dsn, schema), w, p, *objects, *rate)
			var nProfiles, nObjects int
			if err := admin.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM %[1]s.profiles), (SELECT count(*) FROM %[1]s.objects)`, schema)).Scan(&nProfiles, &nObjects); err != nil {
				log.Fatal(err)
			}
			if *keep {
				fmt.Printf("  schema %s kept\n", schema)
			} else if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.0f\t%d\t%d\n", w, p, *objects, r.throttled, r.other, r.retries.Load(),
				float64(r.retries.Load())/float64(*objects), r.took.Seconds(), float64(*objects-r.throttled-r.other)/r.took.Seconds(), nProfiles, nObjects)
			if nProfiles != p || nObjects != p+*objects-r.throttled-r.other {
				fmt.Printf("  MISMATCH: want %d profiles and %d objects\n", p, p+*objects-r.throttled-r.other)
			}
			if r.firstErr != nil {
				fmt.Printf("  first error: %v\n", r.firstErr)
			}
			if *verbose {
				r.printReasons()
			}
		}
	}
}

type result struct {
	throttled, other int
	firstErr         error
	took             time.Duration
	retries          atomic.Int64
	mu               sync.Mutex
	reasons          map[string]int
}

func (r *result) printReasons() {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range r.reasons {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	for _, e := range all {
		fmt.Printf("  %6d  %s\n", e.n, e.k)
	}
}

// Handle counts the store's "retrying transaction" debug messages, by the
// failing operation and PostgreSQL's message and detail.
func (r *result) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "retrying transaction" {
		return nil
	}
	r.retries.Add(1)
	var why string
	rec.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "err" {
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				why = opOf(err.Error()) + ": " + pe.Code + " " + pe.Message + " / " + digits.ReplaceAllString(pe.Detail, "N")
			} else {
				why = digits.ReplaceAllString(err.Error(), "N")
			}
		}
		return true
	})
	r.mu.Lock()
	r.reasons[why]++
	r.mu.Unlock()
	return nil
}

var digits = regexp.MustCompile(`[0-9]+`)

// opOf returns the operation a wrapped store error names ("postgres: OP: …").
func opOf(s string) string {
	s = strings.TrimPrefix(s, "postgres: ")
	if i := strings.Index(s, ": ERROR"); i >= 0 {
		return s[:i]
	}
	return "?"
}

func (r *result) Enabled(context.Context, slog.Level) bool { return true }
func (r *result) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *result) WithGroup(string) slog.Handler            { return r }

func measure(ctx context.Context, dsn string, writers, nProfiles, objects int, rate float64) *result {
	r := &result{reasons: map[string]int{}}
	db := postgres.NewDB(dsn)
	db.Logger = slog.New(r)
	if err := db.Open(); err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	s := service.New(db, "us-east-1", "000000000000", []byte("secret"))
	s.SetIngestRate(rate, 1<<30)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "burst", DefaultExpirationDays: 30}); err != nil {
		log.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, contactType("burst")); err != nil {
		log.Fatal(err)
	}
	for p := range nProfiles {
		if _, err := s.PutProfileObject(ctx, "burst", "contact", contact(-1-p, p)); err != nil {
			log.Fatal(err)
		}
	}
	r.retries.Store(0)
	clear(r.reasons)
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= objects {
					return
				}
				_, err := s.PutProfileObject(ctx, "burst", "contact", contact(i, i%nProfiles))
				if err == nil {
					continue
				}
				mu.Lock()
				if profiles.ErrorCode(err) == profiles.ETHROTTLED {
					r.throttled++
				} else {
					r.other++
				}
				if r.firstErr == nil {
					r.firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.took = time.Since(start)
	return r
}

// contactType is an object type of contacts: id (UNIQUE), email (PROFILE),
// phone (PROFILE, SECONDARY), names and city (as service's benchmarks).
func contactType(domain string) *profiles.ObjectType {
	return &profiles.ObjectType{
		DomainName: domain, Name: "contact", Description: "contacts", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{
			"id":    {Source: "_source.id"},
			"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
			"phone": {Source: "_source.phone", Target: "_profile.PhoneNumber", ContentType: profiles.ContentPhone},
			"first": {Source: "_source.first", Target: "_profile.FirstName", ContentType: profiles.ContentName},
			"last":  {Source: "_source.last", Target: "_profile.LastName", ContentType: profiles.ContentName},
			"city":  {Source: "_source.city", Target: "_profile.Address.City"},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"contactId": {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"id"}}},
			"_email":    {{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{"email"}}},
			"_phone":    {{StandardIdentifiers: []string{profiles.IdentifierProfile, profiles.IdentifierSecondary}, FieldNames: []string{"phone"}}},
		},
	}
}

// contact is object i, a contact record of person.
func contact(i, person int) string {
	return fmt.Sprintf(`{"id":"c%d","email":"person%d@example.com","phone":"+1 555 %07d","first":"Ann","last":"Lee","city":"Lyon"}`, i, person, person)
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out
}

func withSchema(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		log.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
