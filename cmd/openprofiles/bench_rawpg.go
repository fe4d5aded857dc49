package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
)

// benchServerConfig is the configuration the started server reads from
// the bench's --server-args and the environment, parsed as serve parses
// it: the raw scenario writes into the store the server uses.
func benchServerConfig(serverArgs []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("openprofiles serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c Config
	if err := c.bind(fs, getenv); err != nil {
		return nil, fmt.Errorf("bench: --server-args: %w", err)
	}
	if err := fs.Parse(serverArgs); err != nil {
		return nil, fmt.Errorf("bench: --server-args: %w", err)
	}
	return &c, nil
}

// isPostgresStore reports whether a --store value names PostgreSQL (as
// serve's openStore decides).
func isPostgresStore(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// runRawPostgres is the raw scenario on the PostgreSQL database of the
// started server: the rows of c.objects objects written straight into a
// new schema of that database (the store's own migrations, dropped
// afterwards), with the server's durability (the database's
// synchronous_commit) and as many connections as the server's pool. Each
// object is one transaction sent in one round trip (a pipeline of its
// three statements, which PostgreSQL runs as one implicit transaction):
// its profile row (new for half of the objects, updated for the other
// half), its object row and its key rows, of the sizes the ingest scenario
// stored. Profile ids are random, as the PostgreSQL store makes them.
func (c *benchConfig) runRawPostgres(ctx context.Context, cfg *Config) (benchResult, error) {
	shape := measureShapePostgres(ctx, cfg.Store, c.domain)
	schema := "openprofiles_raw_" + randomHex(6)
	dsn, err := withSearchPath(cfg.Store, schema)
	if err != nil {
		return benchResult{}, err
	}
	admin, err := pgx.Connect(ctx, cfg.Store)
	if err != nil {
		return benchResult{}, fmt.Errorf("raw: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return benchResult{}, fmt.Errorf("raw: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)

	store := postgres.NewDB(dsn)
	if err := store.Open(); err != nil {
		return benchResult{}, fmt.Errorf("raw: %w", err)
	}
	err = store.CreateDomain(ctx, &profiles.Domain{Name: "raw", DefaultExpirationDays: 366}, 0)
	store.Close()
	if err != nil {
		return benchResult{}, fmt.Errorf("raw: %w", err)
	}

	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return benchResult{}, fmt.Errorf("raw: %w", err)
	}
	conns := cfg.PGMaxConns
	if conns <= 0 {
		conns = 4 * runtime.GOMAXPROCS(0) // postgres.DB's default
	}
	pcfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return benchResult{}, fmt.Errorf("raw: %w", err)
	}
	defer pool.Close()

	blob, text := rawNoise()
	half := c.objects / 2
	r := c.loop(ctx, "raw", c.objects, c.concurrency, func(ctx context.Context, k int) (int, error) {
		sum := sha256.Sum256([]byte(fmt.Sprint(k % half)))
		profileID, uniqueKey := hex.EncodeToString(sum[:16]), text(k, 24)
		keys := make([]string, shape.keysPerObject)
		for j := range keys {
			keys[j] = text(k*16+j, shape.keyValueBytes)
		}
		now := time.Now().UnixMilli()
		var b pgx.Batch
		b.Queue(`INSERT INTO profiles (domain, id, data, size, created_at, updated_at)
			VALUES ('raw', $1, $2, $3, $4, $4)
			ON CONFLICT (domain, id) DO UPDATE SET data = excluded.data, size = excluded.size, updated_at = excluded.updated_at`,
			profileID, blob(k, shape.profileBytes), shape.profileBytes, now)
		b.Queue(`INSERT INTO objects (domain, object_type, unique_key, profile_id,
				data, size, source_last_updated, created_at, updated_at, expires_at)
			VALUES ('raw', 'contact', $1, $2, $3, $4, $5, $5, $5, $6)`,
			uniqueKey, profileID, blob(k+1, shape.objectBytes), shape.objectBytes, now, now+366*86400_000)
		b.Queue(`INSERT INTO keys (domain, name, value, profile_id, origin, object_key)
			SELECT 'raw', 'k', v, $2, 'contact', $3 FROM unnest($1::text[]) v
			ON CONFLICT DO NOTHING`, keys, profileID, uniqueKey)
		if err := pool.SendBatch(ctx, &b).Close(); err != nil {
			return 0, err
		}
		return 1, nil
	})
	r.Note = fmt.Sprintf("PostgreSQL: per object: a %d-byte object blob, %d key rows (%d-byte values), a %d-byte profile row (sizes %s); one transaction per object, %d connections",
		shape.objectBytes, shape.keysPerObject, shape.keyValueBytes, shape.profileBytes,
		map[bool]string{true: "as the ingest scenario stored them", false: "estimated"}[shape.measured], conns)
	return r, nil
}

// withSearchPath returns the PostgreSQL URL dsn with its search_path
// parameter set to schema.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("raw: --store: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// measureShapePostgres reads the average sizes of what the ingest scenario
// stored in the server's PostgreSQL database (estimates without it).
func measureShapePostgres(ctx context.Context, dsn, domain string) rawShape {
	s := defaultRawShape
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return s
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var objects, profs, keys int
	var objAvg, profAvg, keyAvg float64
	err1 := conn.QueryRow(ctx, `SELECT count(*), coalesce(avg(length(data)), 0) FROM objects WHERE domain = $1`, domain).Scan(&objects, &objAvg)
	err2 := conn.QueryRow(ctx, `SELECT count(*), coalesce(avg(length(data)), 0) FROM profiles WHERE domain = $1`, domain).Scan(&profs, &profAvg)
	err3 := conn.QueryRow(ctx, `SELECT count(*), coalesce(avg(length(value)), 0) FROM keys WHERE domain = $1`, domain).Scan(&keys, &keyAvg)
	if err1 != nil || err2 != nil || err3 != nil || objects == 0 {
		return s
	}
	return rawShape{objectBytes: int(objAvg), profileBytes: int(profAvg), keyValueBytes: int(keyAvg),
		keysPerObject: int(math.Round(float64(keys) / float64(objects))), measured: true}
}
