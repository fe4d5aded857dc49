package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/jackc/pgx/v5"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// nodeConfigs returns a function that makes the configuration of one more
// server node on the database dsn, each with a data dir of its own, after
// the edits.
func nodeConfigs(t *testing.T, dsn string, edit ...func(*main.Config)) func() main.Config {
	secret := make([]byte, 32)
	rand.Read(secret)
	root := make([]byte, 32)
	rand.Read(root)
	return func() main.Config {
		c := main.DefaultConfig()
		c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
		c.Store = dsn
		// Nodes of one store share the server secret and the KMS root key.
		c.ServerSecret = base64.StdEncoding.EncodeToString(secret)
		c.KMSRootKey = base64.StdEncoding.EncodeToString(root)
		for _, e := range edit {
			e(&c)
		}
		return c
	}
}

// TestPostgres_TwoNodes runs two servers on one PostgreSQL database: what
// one node ingests, the other finds, and a restart keeps everything.
func TestPostgres_TwoNodes(t *testing.T) {
	node := nodeConfigs(t, mustPostgresDatabase(t))
	a, b := MustOpenMain(t, node()), MustOpenMain(t, node())
	ea := &ingestEnv{t: t, m: a, client: MustClient(t, a), domain: "shared"}
	eb := &ingestEnv{t: t, m: b, client: MustClient(t, b), domain: "shared"}
	ctx := t.Context()
	if _, err := ea.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("shared"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(mustServiceKey(t, a)), DeadLetterQueueUrl: aws.String(mustServiceQueue(t, a, "shared-dlq"))}); err != nil {
		t.Fatal(err)
	}
	ea.putType(contactType("contact"))
	ea.mustPut("contact", map[string]any{"id": "c1", "email": "pg@example.com", "name": map[string]any{"first": "Pat"}})
	p := eb.mustOne("_email", "PG@example.com") // the other node, same data
	if aws.ToString(p.FirstName) != "Pat" {
		t.Fatalf("node b reads FirstName %q", aws.ToString(p.FirstName))
	}
	eb.mustPut("contact", map[string]any{"id": "c2", "email": "pg@example.com"})
	if got := len(ea.objects("contact", aws.ToString(p.ProfileId))); got != 2 {
		t.Fatalf("node a sees %d objects, want 2", got)
	}

	// A restart of a node keeps everything.
	c := node()
	c.DataDir = a.Config.DataDir
	a.Close()
	a2 := MustOpenMain(t, c)
	e2 := &ingestEnv{t: t, m: a2, client: MustClient(t, a2), domain: "shared"}
	if got := len(e2.objects("contact", aws.ToString(e2.mustOne("_email", "pg@example.com").ProfileId))); got != 2 {
		t.Fatalf("after restart: %d objects", got)
	}
}

// TestPostgres_EncryptionAtRest ingests known names, emails and phones on
// PostgreSQL and looks for them in every column of every row of the
// database, as the server sent them (the bytes of bytea columns as they
// are, text as UTF-8).
func TestPostgres_EncryptionAtRest(t *testing.T) {
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	c.Store = mustPostgresDatabase(t)
	m := MustOpenMain(t, c)
	secrets := mustIngestSecrets(t, m)

	ctx := t.Context()
	conn, err := pgx.Connect(ctx, c.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables []string
	rows, _ := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	scannedRows, sawDomain := 0, false
	for _, table := range tables {
		// The binary format: bytea columns come as their bytes.
		rows, err := conn.Query(ctx, `SELECT * FROM `+pgx.Identifier{table}.Sanitize(), pgx.QueryResultFormats{pgx.BinaryFormatCode})
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			scannedRows++
			for i, v := range rows.RawValues() {
				b := bytes.ToLower(v)
				sawDomain = sawDomain || bytes.Equal(b, []byte("atrest"))
				for _, s := range secrets {
					if bytes.Contains(b, bytes.ToLower([]byte(s))) {
						t.Errorf("table %s, column %s holds %q in plaintext", table, rows.FieldDescriptions()[i].Name, s)
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(tables) < 10 || scannedRows < 100 || !sawDomain {
		t.Fatalf("scanned %d rows of %d tables; saw the domain name, stored as is: %v", scannedRows, len(tables), sawDomain)
	}
}

// TestPostgres_LimitsAcrossNodes: the per-profile ingestion rate and the
// per-profile quotas hold for two nodes on one database as for one: puts
// into one profile through both nodes at once take from one token bucket,
// and count against one quota.
func TestPostgres_LimitsAcrossNodes(t *testing.T) {
	// burst puts at once through both nodes, on a profile that has taken
	// one token of burst, or holds one object of at most max of its type:
	// exactly want of them pass, the others fail with code and words.
	run := func(t *testing.T, edit func(*main.Config), maxObjects int32, puts, want int, code string, words ...string) {
		node := nodeConfigs(t, mustPostgresDatabase(t), edit)
		a, b := MustOpenMain(t, node()), MustOpenMain(t, node())
		envs := []*ingestEnv{
			{t: t, m: a, client: MustClient(t, a), domain: "limits"},
			{t: t, m: b, client: MustClient(t, b), domain: "limits"},
		}
		if _, err := envs[0].client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("limits"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
			t.Fatal(err)
		}
		typ := contactType("contact")
		if maxObjects > 0 {
			typ.MaxProfileObjectCount = aws.Int32(maxObjects)
		}
		envs[0].putType(typ)
		envs[0].mustPut("contact", map[string]any{"id": "c0", "email": "limits@example.com"})

		errs := make([]error, puts)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range puts {
			wg.Go(func() {
				<-start
				_, errs[i] = envs[i%2].put("contact", map[string]any{"id": fmt.Sprintf("c%d", i+1), "email": "limits@example.com"})
			})
		}
		close(start)
		wg.Wait()
		passed := 0
		for _, err := range errs {
			if err == nil {
				passed++
				continue
			}
			wantAPIError(t, err, code, words...)
		}
		if passed != want {
			t.Errorf("%d of %d puts through two nodes passed, want %d", passed, puts, want)
		}
		p := envs[1].mustOne("_email", "limits@example.com")
		if got := len(envs[1].objects("contact", aws.ToString(p.ProfileId))); got != want+1 {
			t.Errorf("the profile holds %d objects, want %d", got, want+1)
		}
	}
	t.Run("Rate", func(t *testing.T) {
		// A bucket of 5 that refills once in 1000 s: one node alone would
		// let 4 more in, and so would the other.
		run(t, func(c *main.Config) { c.IngestRate, c.IngestBurst = 0.001, 5 }, 0, 10, 4,
			"ThrottlingException", "Too many objects ingested to the profile per second")
	})
	t.Run("Quota", func(t *testing.T) {
		run(t, func(c *main.Config) { c.IngestRate = 0 }, 3, 10, 2,
			"BadRequestException", "MaxProfileObjectCount")
	})
}

// TestProfileIDs_ByStore: on SQLite new profiles get ids that sort by
// creation time (written side by side by its one writer); on PostgreSQL
// random ones (concurrent SERIALIZABLE transactions inserting into one
// index page would fail each other). Both are 32 lower-case hex characters.
func TestProfileIDs_ByStore(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			var m *main.Main
			if store == "sqlite" { // whatever store the other tests of this run use
				m = MustRunMain(t, func(c *main.Config) { c.Store = "sqlite" })
			} else {
				m = MustOpenMain(t, nodeConfigs(t, mustPostgresDatabase(t))())
			}
			client := MustClient(t, m)
			ctx := t.Context()
			if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("ids"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
				t.Fatal(err)
			}
			var ids []string
			inOrder := true
			for i := range 12 {
				out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("ids"), FirstName: aws.String(fmt.Sprint("Ann", i))})
				if err != nil {
					t.Fatal(err)
				}
				id := aws.ToString(out.ProfileId)
				if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
					t.Fatalf("ProfileId %q is not 32 lower-case hex characters", id)
				}
				if i > 0 && id <= ids[i-1] {
					inOrder = false
				}
				ids = append(ids, id)
			}
			if want := store == "sqlite"; inOrder != want {
				t.Fatalf("ids in creation order: %v, want %v: %v", inOrder, want, ids)
			}
		})
	}
}

// TestPostgres_DeadLetterCopiesAcrossNodes: two servers on one PostgreSQL
// database. The letters of objects too large for a queue message written
// through node a are replayed whole, and deleted, through node b after node
// a is gone: the whole copies are in the store, which every node reads
// (they were files of node a's data dir, and node b answered "not kept by
// this server").
func TestPostgres_DeadLetterCopiesAcrossNodes(t *testing.T) {
	node := nodeConfigs(t, mustPostgresDatabase(t))
	a, b := MustOpenMain(t, node()), MustOpenMain(t, node())
	checkCopiesAcrossNodes(t, a, b, true)
}
