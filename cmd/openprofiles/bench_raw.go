package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// rawShape is what one ingested object stores, as measured on the server's
// database after the ingest scenario (or estimated without one).
type rawShape struct {
	objectBytes, profileBytes int
	keysPerObject             int
	keyValueBytes             int
	measured                  bool
}

// defaultRawShape is the estimate of rawShape without an ingest scenario.
var defaultRawShape = rawShape{objectBytes: 1400, profileBytes: 700, keysPerObject: 5, keyValueBytes: 43}

// measureShape reads the average sizes of what the ingest scenario stored.
func measureShape(ctx context.Context, dbPath, domain string) rawShape {
	s := defaultRawShape
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return s
	}
	defer db.Close()
	var objects, profs, keys int
	var objAvg, profAvg, keyAvg float64
	err1 := db.QueryRowContext(ctx, `SELECT count(*), coalesce(avg(length(data)), 0) FROM objects WHERE domain = ?`, domain).Scan(&objects, &objAvg)
	err2 := db.QueryRowContext(ctx, `SELECT count(*), coalesce(avg(length(data)), 0) FROM profiles WHERE domain = ?`, domain).Scan(&profs, &profAvg)
	err3 := db.QueryRowContext(ctx, `SELECT count(*), coalesce(avg(length(value)), 0) FROM keys WHERE domain = ?`, domain).Scan(&keys, &keyAvg)
	if err1 != nil || err2 != nil || err3 != nil || objects == 0 {
		return s
	}
	return rawShape{objectBytes: int(objAvg), profileBytes: int(profAvg), keyValueBytes: int(keyAvg),
		keysPerObject: int(math.Round(float64(keys) / float64(objects))), measured: true}
}

// rawWrite is one object's rows on their way to the writer.
type rawWrite struct {
	profileID, uniqueKey string
	keys                 []string
	done                 chan error
}

// runRaw is the raw scenario on the store of the started server, whose
// configuration is cfg: PostgreSQL (runRawPostgres) or SQLite.
func (c *benchConfig) runRaw(ctx context.Context, srv *benchServer, cfg *Config) (benchResult, error) {
	if isPostgresStore(cfg.Store) {
		return c.runRawPostgres(ctx, cfg)
	}
	return c.runRawSQLite(ctx, srv)
}

// runRawSQLite writes the rows of c.objects objects straight into a new SQLite
// database of the store's schema, with the store's writer settings (WAL,
// BEGIN IMMEDIATE, one connection) and durability (a group's COMMIT does
// not sync, a sqlite.WALSyncer syncs the WAL before the group is
// acknowledged) and its checkpointer (a sqlite.DB open on the file
// meanwhile): c.concurrency producers queue objects, one writer commits
// what is queued in one transaction (at most c.concurrency objects) and
// acknowledges each once the WAL is synced after the commit. Like ingest,
// half of the objects create a profile and half update one; each writes
// its object blob, its key rows and its profile row, of the sizes the
// ingest scenario stored.
func (c *benchConfig) runRawSQLite(ctx context.Context, srv *benchServer) (benchResult, error) {
	shape := defaultRawShape
	if srv != nil {
		shape = measureShape(ctx, benchDBPath(srv.dataDir), c.domain)
	}
	dir, err := os.MkdirTemp("", "openprofiles-raw-")
	if err != nil {
		return benchResult{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "raw.db")
	// The store stays open while raw writes: its checkpointer copies the
	// WAL into the file beside the writer, as it does for the server.
	store := sqlite.NewDB(path)
	if err := store.Open(); err != nil {
		return benchResult{}, err
	}
	defer store.Close()
	if err := store.CreateDomain(ctx, &profiles.Domain{Name: "raw", DefaultExpirationDays: 366}, 0); err != nil {
		return benchResult{}, err
	}
	db, err := sql.Open("sqlite", sqlite.WriterDSN(path))
	if err != nil {
		return benchResult{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	// As the store's group commits: COMMIT without a sync, then a WALSyncer
	// syncs the WAL before the objects are acknowledged.
	if _, err := db.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return benchResult{}, err
	}
	syncer := sqlite.NewWALSyncer(path)

	if _, err := sqlite.TakePagesWritten(ctx, db); err != nil { // from here on
		return benchResult{}, err
	}

	blob, text := rawNoise()
	queue := make(chan *rawWrite, c.concurrency)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.rawWriter(ctx, db, syncer, queue, shape, blob)
	}()

	half := c.objects / 2
	r := c.loop(ctx, "raw", c.objects, c.concurrency, func(ctx context.Context, k int) (int, error) {
		w := &rawWrite{profileID: fmt.Sprintf("%032x", k%half), uniqueKey: text(k, 24), done: make(chan error, 1)}
		for j := range shape.keysPerObject {
			w.keys = append(w.keys, text(k*16+j, shape.keyValueBytes))
		}
		queue <- w
		if err := <-w.done; err != nil {
			return 0, err
		}
		return 1, nil
	})
	close(queue)
	<-writerDone
	syncer.Close()
	pages, err := sqlite.TakePagesWritten(ctx, db)
	if err != nil {
		return benchResult{}, err
	}
	r.PagesPerOp = perOp(float64(pages), r.Ops)
	r.Note = fmt.Sprintf("SQLite: per object: a %d-byte object blob, %d key rows (%d-byte values), a %d-byte profile row (sizes %s); transactions of up to %d objects, the store's checkpointer beside",
		shape.objectBytes, shape.keysPerObject, shape.keyValueBytes, shape.profileBytes,
		map[bool]string{true: "as the ingest scenario stored them", false: "estimated"}[shape.measured], c.concurrency)
	return r, nil
}

// rawNoise returns blob(i, n), n random bytes, and text(i, n), n random
// characters, both the same for the same i and n. Random bytes do not
// compress: rows as large on disk as sealed ones.
func rawNoise() (blob func(i, n int) []byte, text func(i, n int) string) {
	noise := make([]byte, 1<<20)
	rand.Read(noise)
	blob = func(i, n int) []byte {
		off := (i * 7919) % (len(noise) - n)
		return noise[off : off+n]
	}
	text = func(i, n int) string {
		b := base64.RawURLEncoding.EncodeToString(blob(i, n))
		return b[:n]
	}
	return blob, text
}

// rawWriter commits what the queue holds, one transaction at a time.
func (c *benchConfig) rawWriter(ctx context.Context, db *sql.DB, syncer *sqlite.WALSyncer, queue chan *rawWrite, shape rawShape, blob func(i, n int) []byte) {
	var stmts [3]*sql.Stmt
	for i, q := range []string{
		`INSERT INTO profiles (domain, id, data, size, created_at, updated_at)
		VALUES ('raw', ?1, ?2, ?3, ?4, ?4)
		ON CONFLICT (domain, id) DO UPDATE SET data = excluded.data, size = excluded.size, updated_at = excluded.updated_at`,
		`INSERT INTO objects (domain, object_type, unique_key, profile_id,
			data, size, source_last_updated, created_at, updated_at, expires_at)
		VALUES ('raw', 'contact', ?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6)`,
		`INSERT OR IGNORE INTO keys (domain, name, value, profile_id, origin, object_key)
		VALUES ('raw', 'k', ?1, ?2, 'contact', ?3)`,
	} {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			for w := range queue {
				w.done <- err
			}
			return
		}
		defer st.Close()
		stmts[i] = st
	}
	seq := 0
	for first := range queue {
		batch := []*rawWrite{first}
	drain:
		for len(batch) < c.concurrency {
			select {
			case w, ok := <-queue:
				if !ok {
					break drain
				}
				batch = append(batch, w)
			default:
				break drain
			}
		}
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			now := time.Now().UnixMilli()
			putProfile, putObject, putKey := tx.StmtContext(ctx, stmts[0]), tx.StmtContext(ctx, stmts[1]), tx.StmtContext(ctx, stmts[2])
			for _, w := range batch {
				seq++
				if _, err := putProfile.ExecContext(ctx, w.profileID, blob(seq, shape.profileBytes), shape.profileBytes, now); err != nil {
					return err
				}
				if _, err := putObject.ExecContext(ctx, w.uniqueKey, w.profileID, blob(seq+1, shape.objectBytes), shape.objectBytes, now, now+366*86400_000); err != nil {
					return err
				}
				for _, v := range w.keys {
					if _, err := putKey.ExecContext(ctx, v, w.profileID, w.uniqueKey); err != nil {
						return err
					}
				}
			}
			return tx.Commit()
		}()
		answer := func(err error) {
			for _, w := range batch {
				w.done <- err
			}
		}
		if err == nil {
			syncer.Then(answer)
		} else {
			answer(err)
		}
	}
}
