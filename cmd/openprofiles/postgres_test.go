package main_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/jackc/pgx/v5"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// mustPostgresDatabase creates a fresh database on the test PostgreSQL
// server (OPENPROFILES_TEST_POSTGRES, as for package postgres) and returns
// its URL; it is dropped when the test ends. The test fails, never skips,
// without a server.
func mustPostgresDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("OPENPROFILES_TEST_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v (scripts/test starts it)", admin, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "openprofiles_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestPostgres_TwoNodes runs two servers on one PostgreSQL database: what
// one node ingests, the other finds, and a restart keeps everything.
func TestPostgres_TwoNodes(t *testing.T) {
	dsn := mustPostgresDatabase(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	root := make([]byte, 32)
	rand.Read(root)
	node := func() main.Config {
		c := main.DefaultConfig()
		c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
		c.Store = dsn
		// Nodes of one store share the server secret and the KMS root key.
		c.ServerSecret = base64.StdEncoding.EncodeToString(secret)
		c.KMSRootKey = base64.StdEncoding.EncodeToString(root)
		return c
	}
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
