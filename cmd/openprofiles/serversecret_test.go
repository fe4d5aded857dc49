package main_test

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestServe_ServerSecretCheck starts nodes with another server secret than
// the one a store's data was made with: refused, naming what to give; with
// the same one, from the file or the environment: serving the data. On
// both stores: SQLite restarted on its data dir, PostgreSQL as a second
// node with a data dir of its own (the first node's root key copied).
func TestServe_ServerSecretCheck(t *testing.T) {
	for _, st := range []struct {
		name  string
		store func(t *testing.T) string
	}{
		{"SQLite", func(*testing.T) string { return "sqlite" }},
		{"Postgres", func(t *testing.T) string { return mustPostgresDatabase(t) }},
	} {
		t.Run(st.name, func(t *testing.T) {
			store := st.store(t)
			e := newDomainEnv(t, "restored", func(c *main.Config) { c.Store = store })
			e.putType(contactType("contact"))
			e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann"}})
			first := e.m.Config
			e.m.Close()
			secret, err := os.ReadFile(filepath.Join(first.DataDir, "server.secret"))
			if err != nil {
				t.Fatal(err)
			}
			rootKey, err := os.ReadFile(filepath.Join(first.DataDir, "kms-root.key"))
			if err != nil {
				t.Fatal(err)
			}

			// nodeDir returns the data dir of the next node: the first's
			// (SQLite, its secret file put back), or a new one with the
			// first's root key.
			nodeDir := func(t *testing.T) string {
				if store == "sqlite" {
					mustWriteFile(t, filepath.Join(first.DataDir, "server.secret"), secret)
					return first.DataDir
				}
				dir := t.TempDir()
				mustWriteFile(t, filepath.Join(dir, "kms-root.key"), rootKey)
				mustWriteFile(t, filepath.Join(dir, "server.secret"), secret)
				return dir
			}
			// start starts a node on dir; refused ones get no root
			// credentials, which they would make in dir if they started.
			start := func(t *testing.T, dir, secretEnv string, credentials bool) (*main.Main, error) {
				c := first
				c.DataDir, c.ServerSecret = dir, secretEnv
				if !credentials {
					c.AccessKeyID, c.SecretAccessKey = "", ""
				}
				m := &main.Main{Config: c}
				err := m.Open()
				if err == nil {
					t.Cleanup(func() { m.Close() })
				}
				return m, err
			}
			mustRefuse := func(t *testing.T, dir, secretEnv string, want ...string) {
				t.Helper()
				before := mustList(t, dir)
				_, err := start(t, dir, secretEnv, false)
				if err == nil {
					t.Fatalf("a node with another server secret started (and made %s)", mustList(t, dir))
				}
				for _, w := range want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if got := mustList(t, dir); got != before {
					t.Errorf("the refused start changed the data dir: %s, %s before", got, before)
				}
			}
			mustServe := func(t *testing.T, dir, secretEnv string) {
				t.Helper()
				m, err := start(t, dir, secretEnv, true)
				if err != nil {
					t.Fatalf("a node with the store's server secret: %v", err)
				}
				if got := aws.ToString(ingestEnvOn(t, m).mustOne("_email", "ann@example.com").FirstName); got != "Ann" {
					t.Errorf("FirstName %q, want Ann", got)
				}
				m.Close()
			}

			t.Run("AnotherSecretFile", func(t *testing.T) {
				dir := nodeDir(t)
				mustWriteFile(t, filepath.Join(dir, "server.secret"), []byte(newSecret()+"\n"))
				mustRefuse(t, dir, "", filepath.Join(dir, "server.secret"), "is not the one the store", "other nodes' value")
			})
			t.Run("AnotherSecretFromEnv", func(t *testing.T) {
				mustRefuse(t, nodeDir(t), newSecret(), "OPENPROFILES_SERVER_SECRET", "is not the one the store")
			})
			t.Run("SameSecretFile", func(t *testing.T) { mustServe(t, nodeDir(t), "") })
			t.Run("SameSecretFromEnv", func(t *testing.T) {
				dir := nodeDir(t)
				mustRemove(t, dir, "server.secret")
				mustServe(t, dir, strings.TrimSpace(string(secret)))
			})
			// A store of the version before the check (schema 16, no
			// server_settings) gets the value at its next start, from the
			// secret it runs with; from then on another one is refused.
			t.Run("StoreFromBeforeTheCheck", func(t *testing.T) {
				dir := nodeDir(t)
				old := first
				old.DataDir = dir
				oldM := &main.Main{Config: old}
				mustRawExec(t, oldM, `DROP TABLE server_settings`)
				mustRawExec(t, oldM, `DELETE FROM schema_migrations WHERE version = 17`)
				mustServe(t, dir, "")
				if n := mustRawCount(t, oldM, `SELECT count(*) FROM server_settings`); n != 1 {
					t.Fatalf("%d server settings after the start on the old store, want the check value", n)
				}
				mustRefuse(t, nodeDir(t), newSecret(), "is not the one the store")
			})
		})
	}

	// Two first starts at once on one PostgreSQL database, with the same
	// root key and secrets of their own: one starts, the other, second to
	// record its check value, compares with the first's and is refused.
	t.Run("PostgresFirstStartsRacing", func(t *testing.T) {
		dsn := mustPostgresDatabase(t)
		rootKey := newSecret()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			c := main.DefaultConfig()
			c.Addr, c.DataDir, c.Store = "127.0.0.1:0", t.TempDir(), dsn
			c.AccessKeyID, c.SecretAccessKey = testKeyID, testSecret
			c.KMSRootKey, c.ServerSecret = rootKey, newSecret()
			wg.Go(func() {
				m := &main.Main{Config: c}
				if errs[i] = m.Open(); errs[i] == nil {
					t.Cleanup(func() { m.Close() })
				}
			})
		}
		wg.Wait()
		started := 0
		for _, err := range errs {
			if err == nil {
				started++
			} else if !strings.Contains(err.Error(), "server secret (OPENPROFILES_SERVER_SECRET) is not the one the store") {
				t.Errorf("refused for another reason: %v", err)
			}
		}
		if started != 1 {
			t.Errorf("%d of 2 nodes with secrets of their own started, want 1: %v", started, errs)
		}
	})
}

// newSecret returns a new server secret (or root key) in base64.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func mustWriteFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
