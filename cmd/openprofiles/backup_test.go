package main_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// noEnv is the environment of a command that must see none of the test
// process's variables.
func noEnv(string) string { return "" }

// runBackup runs `openprofiles backup args…` with an empty environment.
func runBackup(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = main.Run(t.Context(), append([]string{"backup"}, args...), nil, &out, &errb, noEnv)
	return out.String(), errb.String(), err
}

// readManifest reads a backup's backup.json and checks that every file it
// lists is in the backup with its size and hash.
func readManifest(t *testing.T, dir string) main.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "backup.json"))
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var m main.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest %s: %v", b, err)
	}
	for _, f := range m.Files {
		content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			t.Errorf("manifest lists %s: %v", f.Name, err)
			continue
		}
		sum := sha256.Sum256(content)
		if int64(len(content)) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("manifest lists %s with %d bytes, sha256 %s; the file has %d bytes, sha256 %x", f.Name, f.Bytes, f.SHA256, len(content), sum)
		}
	}
	return m
}

// checkModes checks that every file of a backup is its owner's alone.
func checkModes(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", path, got, want)
		}
		return nil
	})
}

func manifestNames(m main.Manifest) []string {
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	return names
}

func kmsClientAs(tb testing.TB, m *main.Main, id, secret string) *kms.Client {
	tb.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(transport.CloseIdleConnections)
	return kms.New(kms.Options{
		BaseEndpoint: aws.String(m.URL()), Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:  sdkhttp.New(&http.Client{Transport: transport}),
	})
}

// mustGeneratedCredentials reads the root credentials a server generated
// into its data dir.
func mustGeneratedCredentials(t *testing.T, dataDir string) (id, secret string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if id == "" || secret == "" {
		t.Fatalf("no credentials in %s", b)
	}
	return id, secret
}

// TestBackup_WhileIngesting backs up a server on SQLite while clients put
// profile objects through the SDK, then starts a server on the backup
// alone (the original data dir removed): every object acknowledged before
// the backup began is there and its profile reads back decrypted, the
// domain's KMS key decrypts what the original server encrypted, and the
// generated root credentials and an IAM user's access key sign requests.
func TestBackup_WhileIngesting(t *testing.T) {
	ctx := t.Context()
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.Store = "127.0.0.1:0", t.TempDir(), "sqlite"
	orig := MustOpenMain(t, c) // root credentials generated into the data dir
	rootID, rootSecret := mustGeneratedCredentials(t, c.DataDir)

	e := &ingestEnv{t: t, m: orig, client: newClient(t, orig, rootID, rootSecret, testRegion), domain: "backed-up"}
	k := kmsClientAs(t, orig, rootID, rootSecret)
	keyARN := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))
	if _, err := e.client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain), DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(keyARN)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	enc, err := k.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyARN), Plaintext: []byte("sealed before the backup")})
	if err != nil {
		t.Fatal(err)
	}

	cli := newIAMCLI(t, orig)
	t.Setenv("AWS_ACCESS_KEY_ID", rootID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", rootSecret)
	cli.must("create-user", "--user-name", "agent")
	cli.must("put-user-policy", "--user-name", "agent", "--policy-name", "profiles", "--policy-document", allowProfiles)
	userID, userSecret := cli.mustKey("agent")

	// A long read transaction (as a large export would hold) keeps the
	// server's checkpoints from copying what follows into the database
	// file: the objects put from now on are in its write-ahead log only,
	// which a copy of openprofiles.db alone would miss.
	reader, err := sql.Open("sqlite", "file:"+filepath.Join(c.DataDir, "openprofiles.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	longRead, err := reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := longRead.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains`).Scan(&n); err != nil {
		t.Fatal(err)
	}

	// Writers put objects until told to stop; acked lists what the
	// server acknowledged, in order.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				if _, err := e.put("contact", map[string]any{"id": id, "email": id + "@example.com", "name": map[string]any{"first": "First-" + id}}); err != nil {
					t.Errorf("PutProfileObject %s: %v", id, err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	for deadline := time.Now().Add(time.Minute); ackedCount() < 40; {
		if time.Now().After(deadline) || t.Failed() {
			close(stop)
			wg.Wait()
			t.Fatalf("writers acknowledged %d objects in a minute", ackedCount())
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	to := filepath.Join(t.TempDir(), "backup")
	stdout, stderr, err := runBackup(t, "--data-dir", c.DataDir, "--to", to)
	after := ackedCount()
	close(stop)
	wg.Wait()
	longRead.Rollback()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	t.Logf("backup began after %d acknowledged objects, ended after %d, %d in all", len(before), after, ackedCount())
	if stderr != "" {
		t.Errorf("backup warned: %s", stderr)
	}
	if !strings.Contains(stdout, "openprofiles restore --from "+to+" --data-dir DATA-DIR") {
		t.Errorf("backup's output does not say how to restore (openprofiles restore --from %s --data-dir DATA-DIR):\n%s", to, stdout)
	}

	// The server goes on after the backup.
	e.mustPut("contact", map[string]any{"id": "after-backup", "email": "after@example.com"})

	man := readManifest(t, to)
	checkModes(t, to)
	if man.Store != "sqlite" || man.Integrity != "ok" || man.SchemaVersion < 1 || man.Database != "openprofiles.db" {
		t.Errorf("manifest: store %q, integrity %q, schema version %d, database %q; want sqlite, ok, the schema's, openprofiles.db", man.Store, man.Integrity, man.SchemaVersion, man.Database)
	}
	for _, name := range []string{"openprofiles.db", "kms-root.key", "server.secret", "credentials"} {
		if !strings.Contains(" "+strings.Join(manifestNames(man), " ")+" ", " "+name+" ") {
			t.Errorf("manifest lists %v, not %s", manifestNames(man), name)
		}
	}
	if !strings.Contains(strings.Join(man.LeftOut, "\n"), "audit.log: ") {
		t.Errorf("manifest's left_out %q does not say the audit log is left out", man.LeftOut)
	}

	// The original goes away entirely: the backup must be enough.
	orig.Close()
	if err := os.RemoveAll(c.DataDir); err != nil {
		t.Fatal(err)
	}
	rc := main.DefaultConfig()
	rc.Addr, rc.DataDir, rc.Store = "127.0.0.1:0", to, "sqlite"
	var firstStart bytes.Buffer
	restored := &main.Main{Config: rc, Stdout: &firstStart}
	if err := restored.Open(); err != nil {
		t.Fatalf("serve on the backup: %v", err)
	}
	t.Cleanup(func() { restored.Close() })
	if firstStart.Len() > 0 {
		t.Errorf("the server on the backup generated new credentials: %s", firstStart.String())
	}

	r := &ingestEnv{t: t, m: restored, client: newClient(t, restored, rootID, rootSecret, testRegion), domain: e.domain}
	for _, id := range before {
		p := r.mustOne("contactId", id)
		if got, want := aws.ToString(p.FirstName), "First-"+id; got != want {
			t.Errorf("profile of %s: FirstName %q, want %q", id, got, want)
		}
		if got, want := aws.ToString(p.EmailAddress), id+"@example.com"; got != want {
			t.Errorf("profile of %s: EmailAddress %q, want %q", id, got, want)
		}
		if got := len(r.objects("contact", aws.ToString(p.ProfileId))); got != 1 {
			t.Errorf("profile of %s has %d objects, want 1", id, got)
		}
	}
	if ps := r.search("_email", "after@example.com"); len(ps) != 0 {
		t.Errorf("the backup holds an object put after it was written: %v", ps)
	}

	// The domain's key decrypts what the original server encrypted, and
	// seals new objects.
	dec, err := kmsClientAs(t, restored, rootID, rootSecret).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil {
		t.Fatalf("Decrypt on the restored server: %v", err)
	}
	if string(dec.Plaintext) != "sealed before the backup" {
		t.Errorf("Decrypt = %q", dec.Plaintext)
	}
	r.mustPut("contact", map[string]any{"id": "restored", "email": "restored@example.com", "name": map[string]any{"first": "Rita"}})
	if got := aws.ToString(r.mustOne("_email", "restored@example.com").FirstName); got != "Rita" {
		t.Errorf("object put on the restored server reads FirstName %q", got)
	}

	// The IAM user's key signs for it; a key the server never had does not.
	if err := listDomainsAs(t, restored, userID, userSecret); err != nil {
		t.Errorf("ListDomains with the IAM user's key on the restored server: %v", err)
	}
	if err := listDomainsAs(t, restored, testKeyID, testSecret); err == nil {
		t.Errorf("ListDomains with a key the server never had succeeded")
	}
}

// TestBackup_Refuses checks that a backup never writes into a directory
// that holds anything, nor one that is no data dir's.
func TestBackup_Refuses(t *testing.T) {
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.Store = "127.0.0.1:0", t.TempDir(), "sqlite"
	MustOpenMain(t, c)

	t.Run("NotEmpty", func(t *testing.T) {
		to := t.TempDir()
		if err := os.WriteFile(filepath.Join(to, "kms-root.key"), []byte("someone else's"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := runBackup(t, "--data-dir", c.DataDir, "--to", to)
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), to) {
			t.Fatalf("backup into a non-empty directory: err %v (%s), want it refused as not empty", err, stderr)
		}
		if got := mustList(t, to); got != "[kms-root.key]" {
			t.Errorf("the directory holds %s after the refusal", got)
		}
		if b, _ := os.ReadFile(filepath.Join(to, "kms-root.key")); string(b) != "someone else's" {
			t.Errorf("the directory's file now holds %q", b)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		to := t.TempDir() // exists, empty: accepted, and made the owner's alone
		if err := os.Chmod(to, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := runBackup(t, "--data-dir", c.DataDir, "--to", to); err != nil {
			t.Fatalf("backup into an empty directory: %v\n%s", err, stderr)
		}
		checkModes(t, to)
		readManifest(t, to)
	})
	t.Run("InsideDataDir", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "data")
		if err := os.Symlink(c.DataDir, link); err != nil {
			t.Fatal(err)
		}
		before := mustList(t, c.DataDir)
		for _, to := range []string{filepath.Join(c.DataDir, "backups", "b1"), filepath.Join(link, "b2"), c.DataDir} {
			_, stderr, err := runBackup(t, "--data-dir", c.DataDir, "--to", to)
			if err == nil || !strings.Contains(err.Error(), "inside the data dir") {
				t.Errorf("backup to %s: err %v (%s), want it refused as inside the data dir", to, err, stderr)
			}
		}
		if got := mustList(t, c.DataDir); got != before {
			t.Errorf("the data dir holds %s after the refusals, %s before", got, before)
		}
	})
	t.Run("NoDatabase", func(t *testing.T) {
		empty := t.TempDir()
		to := filepath.Join(t.TempDir(), "backup")
		_, _, err := runBackup(t, "--data-dir", empty, "--to", to)
		if err == nil || !strings.Contains(err.Error(), "openprofiles.db") {
			t.Fatalf("backup of a dir without a database: err %v, want it to name openprofiles.db", err)
		}
		if _, err := os.Stat(to); !os.IsNotExist(err) {
			t.Errorf("a failed backup left %s (%v)", to, err)
		}
		if got := mustList(t, empty); got != "[]" {
			t.Errorf("the backup wrote into the data dir: %s", got)
		}
	})
	t.Run("NoTarget", func(t *testing.T) {
		if _, _, err := runBackup(t, "--data-dir", c.DataDir); err == nil || !strings.Contains(err.Error(), "--to") {
			t.Fatalf("backup without --to: err %v, want it to name --to", err)
		}
	})
}

// TestBackup_Postgres backs up the data dir of a server on PostgreSQL: its
// key material and dead letters are copied as they are, the database is
// not, and the output gives the pg_dump command (without the URL's
// password).
func TestBackup_Postgres(t *testing.T) {
	dsn := mustPostgresDatabase(t)
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.Store = "127.0.0.1:0", t.TempDir(), dsn
	MustOpenMain(t, c) // generates kms-root.key, server.secret and credentials
	// A large dead letter's whole copy and a spooled letter, as a server
	// keeps them (package service writes them; their content is opaque
	// here).
	if err := os.MkdirAll(filepath.Join(c.DataDir, "dlq-objects", "d1"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"dlq-objects/d1/0123abcd.sealed": "sealed bytes", "dlq-spool.jsonl": `{"url":"u","domain":"d1","body":"{}"}` + "\n"} {
		if err := os.WriteFile(filepath.Join(c.DataDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	to := filepath.Join(t.TempDir(), "backup")
	stdout, stderr, err := runBackup(t, "--data-dir", c.DataDir, "--store", dsn, "--to", to)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	for _, name := range []string{"kms-root.key", "server.secret", "credentials", "dlq-spool.jsonl", "dlq-objects/d1/0123abcd.sealed"} {
		want, err := os.ReadFile(filepath.Join(c.DataDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(to, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("backup's %s: %q (%v), want the data dir's %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(to, "openprofiles.db")); !os.IsNotExist(err) {
		t.Errorf("the backup of a server on PostgreSQL holds openprofiles.db (%v)", err)
	}
	checkModes(t, to)
	man := readManifest(t, to)
	if man.Store != "postgres" || !strings.Contains(man.Database, "pg_dump") {
		t.Errorf("manifest: store %q, database %q; want postgres, and a word of pg_dump", man.Store, man.Database)
	}
	dump := "pg_dump --format=custom --file=" + filepath.Join(to, "openprofiles.pgdump") + " '" + dsn + "'"
	if !strings.Contains(stdout, dump) {
		t.Errorf("output does not give the command %s:\n%s", dump, stdout)
	}

	t.Run("PasswordNotPrinted", func(t *testing.T) {
		for _, tc := range []struct{ name, url, want string }{
			{"UserInfo", "postgres://profiles:s3cr3t-pw@db.internal:5432/profiles?sslmode=require", "'postgres://profiles@db.internal:5432/profiles?sslmode=require'"},
			{"Parameter", "postgres://profiles@db.internal:5432/profiles?password=s3cr3t-pw&sslmode=require", "'postgres://profiles@db.internal:5432/profiles?sslmode=require'"},
			{"SSLPassword", "postgresql://profiles@db.internal/profiles?sslmode=verify-full&sslpassword=s3cr3t-pw&sslkey=%2Fk.pem", "'postgresql://profiles@db.internal/profiles?sslkey=%2Fk.pem&sslmode=verify-full'"},
			{"Both", "postgres://profiles:s3cr3t-pw@db.internal/profiles?password=s3cr3t-pw", "postgres://profiles@db.internal/profiles"},
			{"NoURL", "postgres://profiles:s3cr3t-pw#x@db.internal/profiles", "DATABASE-URL"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				to := filepath.Join(t.TempDir(), "backup")
				stdout, _, err := runBackup(t, "--data-dir", c.DataDir, "--store", tc.url, "--to", to)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(stdout, "s3cr3t-pw") {
					t.Errorf("output shows the URL's password:\n%s", stdout)
				}
				want := "pg_dump --format=custom --file=" + filepath.Join(to, "openprofiles.pgdump") + " " + tc.want + "\n"
				if !strings.Contains(stdout, want) {
					t.Errorf("output does not give %s:\n%s", want, stdout)
				}
				if tc.want != "DATABASE-URL" && !strings.Contains(stdout, "PGPASSWORD") {
					t.Errorf("output does not say where the password goes:\n%s", stdout)
				}
			})
		}
	})
}

func mustList(tb testing.TB, dir string) string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return fmt.Sprint(names)
}

// TestRestore_RefusesOtherKeyMaterial starts servers on a backup whose key
// material is missing or another's, as a restore does when the server took
// its secrets from the environment and they are not given again. The
// server refuses to start, naming what is missing, and makes no new root
// key or server secret in the data dir (a new one would serve the data
// unreadable: searches empty, objects an internal error); given the right
// files it reads everything. On PostgreSQL, a node started on the
// database with a data dir of its own and no shared secrets is refused
// alike.
func TestRestore_RefusesOtherKeyMaterial(t *testing.T) {
	onSQLite := func(c *main.Config) { c.Store = "sqlite" }
	e := newDomainEnv(t, "restored", onSQLite)
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann"}})
	c := e.m.Config
	e.m.Close()

	// Another data dir's root key: valid, but not this store's.
	other := MustRunMain(t, onSQLite)
	other.Close()
	otherRootKey, err := os.ReadFile(filepath.Join(other.Config.DataDir, "kms-root.key"))
	if err != nil {
		t.Fatal(err)
	}

	backup := func(t *testing.T) string {
		to := filepath.Join(t.TempDir(), "backup")
		if _, stderr, err := runBackup(t, "--data-dir", c.DataDir, "--to", to); err != nil {
			t.Fatalf("backup: %v\n%s", err, stderr)
		}
		return to
	}
	start := func(t *testing.T, dir, rootKeyEnv string) (*main.Main, error) {
		rc := main.DefaultConfig()
		rc.Addr, rc.DataDir, rc.Store = "127.0.0.1:0", dir, "sqlite"
		rc.AccessKeyID, rc.SecretAccessKey, rc.KMSRootKey = testKeyID, testSecret, rootKeyEnv
		m := &main.Main{Config: rc}
		err := m.Open()
		if err == nil {
			t.Cleanup(func() { m.Close() })
		}
		return m, err
	}
	for _, tc := range []struct {
		name       string
		edit       func(t *testing.T, dir string)
		rootKeyEnv string
		want       []string // words of the error
	}{
		{"NoRootKeyNorSecret", func(t *testing.T, dir string) { mustRemove(t, dir, "kms-root.key", "server.secret") }, "",
			[]string{"has no kms-root.key (nor OPENPROFILES_KMS_ROOT_KEY) and server.secret (nor OPENPROFILES_SERVER_SECRET)", "none is made", "backup"}},
		{"NoSecret", func(t *testing.T, dir string) { mustRemove(t, dir, "server.secret") }, "",
			[]string{"has no server.secret (nor OPENPROFILES_SERVER_SECRET)", "openprofiles.db"}},
		{"RootKeyFromEnvNotTheStores", func(t *testing.T, dir string) { mustRemove(t, dir, "kms-root.key") },
			"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", // 32 bytes, another key
			[]string{"OPENPROFILES_KMS_ROOT_KEY", "does not unwrap", "root key it ran with"}},
		{"AnotherDataDirsRootKey", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "kms-root.key"), otherRootKey, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", []string{"kms-root.key", "does not unwrap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := backup(t)
			tc.edit(t, dir)
			before := mustList(t, dir)
			m, err := start(t, dir, tc.rootKeyEnv)
			if err == nil {
				n := len(ingestEnvOn(t, m).search("_email", "ann@example.com"))
				t.Fatalf("the server started on a backup with %s (a search finds %d profiles of 1)", tc.name, n)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if got := mustList(t, dir); got != before {
				t.Errorf("the refused start changed the data dir: %s, %s before", got, before)
			}
		})
	}
	// The backed-up server took its root credentials from the environment
	// too, and the start is given none: refused, it generates none either.
	t.Run("NoKeyMaterialNorCredentials", func(t *testing.T) {
		dir := backup(t)
		mustRemove(t, dir, "kms-root.key", "server.secret")
		if _, err := os.Stat(filepath.Join(dir, "credentials")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the backup holds root credentials (stat: %v)", err)
		}
		before := mustList(t, dir)
		rc := main.DefaultConfig()
		rc.Addr, rc.DataDir, rc.Store = "127.0.0.1:0", dir, "sqlite"
		m := &main.Main{Config: rc}
		if err := m.Open(); err == nil {
			m.Close()
			t.Fatal("the server started on a backup without its key material")
		} else if !strings.Contains(err.Error(), "has no kms-root.key") {
			t.Errorf("error %q does not name the missing root key", err)
		}
		if got := mustList(t, dir); got != before {
			t.Errorf("the refused start changed the data dir: %s, %s before", got, before)
		}
	})
	t.Run("Whole", func(t *testing.T) {
		m, err := start(t, backup(t), "")
		if err != nil {
			t.Fatalf("serve on the whole backup: %v", err)
		}
		if got := aws.ToString(ingestEnvOn(t, m).mustOne("_email", "ann@example.com").FirstName); got != "Ann" {
			t.Errorf("FirstName %q on the restored server, want Ann", got)
		}
	})
	t.Run("PostgresNodeWithoutSharedSecrets", func(t *testing.T) {
		dsn := mustPostgresDatabase(t)
		first := main.DefaultConfig()
		first.Addr, first.DataDir, first.Store = "127.0.0.1:0", t.TempDir(), dsn
		first.AccessKeyID, first.SecretAccessKey = testKeyID, testSecret
		MustOpenMain(t, first).Close()
		second := first
		second.DataDir = t.TempDir()
		m := &main.Main{Config: second}
		if err := m.Open(); err == nil {
			m.Close()
			t.Fatal("a second node with a data dir of its own and no shared secrets started")
		} else if !strings.Contains(err.Error(), "kms-root.key (nor OPENPROFILES_KMS_ROOT_KEY) and server.secret (nor OPENPROFILES_SERVER_SECRET)") {
			t.Errorf("error %q does not name the missing secrets", err)
		}
		if got := mustList(t, second.DataDir); strings.Contains(got, "kms-root.key") || strings.Contains(got, "server.secret") {
			t.Errorf("the refused node made secrets of its own: %s", got)
		}
	})
}

// ingestEnvOn is an ingestEnv of domain "restored" on m, with the test
// credentials.
func ingestEnvOn(t *testing.T, m *main.Main) *ingestEnv {
	return &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "restored"}
}

func mustRemove(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
}

// runRestore runs `openprofiles restore args…` with an empty environment.
func runRestore(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = main.Run(t.Context(), append([]string{"restore"}, args...), nil, &out, &errb, noEnv)
	return out.String(), errb.String(), err
}

// TestRestore_Command restores a backup of a running server with
// `openprofiles restore`: into a new directory (a server started there
// reads the data), never into a data dir that holds something unless
// --force, which moves that aside whole, never under a server running
// there, and never from a backup that is incomplete or damaged (nothing
// is written then).
func TestRestore_Command(t *testing.T) {
	e := newDomainEnv(t, "restored", func(c *main.Config) { c.Store = "sqlite" })
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com", "name": map[string]any{"first": "Ann"}})
	dataDir := e.m.Config.DataDir
	backup := filepath.Join(t.TempDir(), "backup")
	if _, stderr, err := runBackup(t, "--data-dir", dataDir, "--to", backup); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	e.mustPut("contact", map[string]any{"id": "c2", "email": "bob@example.com"}) // after the backup
	readsAnn := func(t *testing.T, dir string) {
		t.Helper()
		c := main.DefaultConfig()
		c.Addr, c.DataDir, c.Store = "127.0.0.1:0", dir, "sqlite"
		c.AccessKeyID, c.SecretAccessKey = testKeyID, testSecret
		r := ingestEnvOn(t, MustOpenMain(t, c))
		if got := aws.ToString(r.mustOne("_email", "ann@example.com").FirstName); got != "Ann" {
			t.Errorf("FirstName %q on the restored server, want Ann", got)
		}
		if ps := r.search("_email", "bob@example.com"); len(ps) != 0 {
			t.Errorf("the restored server has the object put after the backup")
		}
	}

	t.Run("IntoNewDir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		stdout, stderr, err := runRestore(t, "--from", backup, "--data-dir", dir)
		if err != nil {
			t.Fatalf("restore: %v\n%s", err, stderr)
		}
		if !strings.Contains(stdout, "openprofiles serve --data-dir "+dir) {
			t.Errorf("output does not say how to start the server:\n%s", stdout)
		}
		checkModes(t, dir)
		readManifest(t, dir)
		readsAnn(t, dir)
	})

	before := mustList(t, dataDir)
	t.Run("RefusesNonEmpty", func(t *testing.T) {
		_, _, err := runRestore(t, "--from", backup, "--data-dir", dataDir)
		if err == nil || !strings.Contains(err.Error(), "is not empty") || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("restore into a data dir with data: err %v, want it refused as not empty, naming --force", err)
		}
	})
	t.Run("RefusesUnderARunningServer", func(t *testing.T) {
		// A server process of its own: the lock it holds on its database
		// is what tells (a process does not see its own locks).
		dir := filepath.Join(t.TempDir(), "data")
		if _, stderr, err := runRestore(t, "--from", backup, "--data-dir", dir); err != nil {
			t.Fatalf("restore: %v\n%s", err, stderr)
		}
		n, err := startNode(t, mustBuildBinary(t), "node", dir, []string{"OPENPROFILES_ACCESS_KEY_ID=" + testKeyID,
			"OPENPROFILES_SECRET_ACCESS_KEY=" + testSecret, "OPENPROFILES_STORE=sqlite"})
		if err != nil {
			t.Fatal(err)
		}
		running := mustList(t, dir)
		_, _, err = runRestore(t, "--from", backup, "--data-dir", dir, "--force")
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("a process (pid %d) has its database open", n.cmd.Process.Pid)) {
			t.Fatalf("restore --force under a running server: err %v, want it refused naming the process", err)
		}
		if got := mustList(t, dir); got != running {
			t.Errorf("the refused restore changed the data dir: %s, %s before", got, running)
		}
	})
	if got := mustList(t, dataDir); got != before {
		t.Errorf("the refused restores changed the data dir: %s, %s before", got, before)
	}

	bad := func(t *testing.T, edit func(dir string)) string {
		dir := filepath.Join(t.TempDir(), "backup")
		if _, stderr, err := runBackup(t, "--data-dir", dataDir, "--to", dir); err != nil {
			t.Fatalf("backup: %v\n%s", err, stderr)
		}
		edit(dir)
		return dir
	}
	for _, tc := range []struct {
		name string
		edit func(dir string)
		want string
	}{
		{"Damaged", func(dir string) {
			f, err := os.OpenFile(filepath.Join(dir, "openprofiles.db"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("damage"), 5000)
			f.Close()
		}, "the backup is damaged: openprofiles.db"},
		{"Incomplete", func(dir string) { mustRemove(t, dir, "backup.json") }, "not a complete backup"},
		{"FileMissing", func(dir string) { mustRemove(t, dir, "kms-root.key") }, "kms-root.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := bad(t, tc.edit)
			dir := filepath.Join(t.TempDir(), "data")
			_, _, err := runRestore(t, "--from", from, "--data-dir", dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore of a backup %s: err %v, want %q", tc.name, err, tc.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the refused restore made %s (%v)", dir, err)
			}
			if got := mustList(t, filepath.Dir(dir)); got != "[]" {
				t.Errorf("the refused restore left %s beside the data dir", got)
			}
		})
	}

	// A data dir that is a symbolic link (to a volume of its own): the
	// backup goes where it points, and the link stays.
	t.Run("SymlinkedDataDir", func(t *testing.T) {
		for _, force := range []bool{false, true} {
			base := t.TempDir()
			target := filepath.Join(base, "volume", "openprofiles")
			if err := os.MkdirAll(target, 0o700); err != nil {
				t.Fatal(err)
			}
			args := []string{"--from", backup, "--data-dir", filepath.Join(base, "data")}
			if force {
				if err := os.WriteFile(filepath.Join(target, "old.txt"), []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--force")
			}
			if err := os.Symlink(target, filepath.Join(base, "data")); err != nil {
				t.Fatal(err)
			}
			if _, stderr, err := runRestore(t, args...); err != nil {
				t.Fatalf("restore (--force %v) into a symlinked data dir: %v\n%s", force, err, stderr)
			}
			if fi, err := os.Lstat(filepath.Join(base, "data")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("--force %v: the data dir's symbolic link was replaced (%v, %v)", force, fi.Mode(), err)
			}
			if got := mustList(t, target); !strings.Contains(got, "openprofiles.db") || strings.Contains(got, "old.txt") {
				t.Errorf("--force %v: the directory the link points to holds %s, want the backup alone", force, got)
			}
			if force {
				matches, _ := filepath.Glob(target + ".before-restore-*")
				if len(matches) != 1 || !strings.Contains(mustList(t, matches[0]), "old.txt") {
					t.Errorf("what the data dir held was not moved aside beside it: %v", matches)
				}
			}
			readsAnn(t, filepath.Join(base, "data"))
		}
	})

	t.Run("Force", func(t *testing.T) {
		e.m.Close()
		stdout, stderr, err := runRestore(t, "--from", backup, "--data-dir", dataDir, "--force")
		if err != nil {
			t.Fatalf("restore --force: %v\n%s", err, stderr)
		}
		matches, _ := filepath.Glob(dataDir + ".before-restore-*")
		if len(matches) != 1 {
			t.Fatalf("%d directories moved aside, want 1: %v", len(matches), matches)
		}
		if !strings.Contains(stdout, matches[0]) {
			t.Errorf("output does not say where the old data dir went (%s):\n%s", matches[0], stdout)
		}
		if got := mustList(t, matches[0]); !strings.Contains(got, "openprofiles.db") {
			t.Errorf("the directory moved aside holds %s, not the old database", got)
		}
		checkModes(t, dataDir)
		readsAnn(t, dataDir)
	})
}

// TestBackup_NoRoom runs the real `openprofiles backup` with a limit on
// the size of its files smaller than the database (as a full disk stops
// it): it exits with status 1, says there is no room for the copy (not
// SQLite's "disk I/O error" alone), and leaves nothing behind.
func TestBackup_NoRoom(t *testing.T) {
	bin := mustBuildBinary(t)
	m := MustRunMain(t, func(c *main.Config) { c.Store = "sqlite" })
	to := filepath.Join(t.TempDir(), "backup")
	// 64 blocks (32 or 64 KiB, as the shell counts them): less than the
	// database, more than the key files.
	cmd := exec.CommandContext(t.Context(), "sh", "-c", `ulimit -f 64 && exec "$0" backup --data-dir "$1" --to "$2"`, bin, m.Config.DataDir, to)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("backup with no room: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "no room for the copy "+filepath.Join(to, "openprofiles.db")) {
		t.Errorf("backup with no room says\n%s\nwant it to say there is no room for the copy", out)
	}
	if _, err := os.Stat(to); !os.IsNotExist(err) {
		t.Errorf("the failed backup left %s (%v)", to, err)
	}
}

// TestRestore_NewerSchema: a backup whose database a newer version
// migrated is refused by the restore of an older one (whose server would
// refuse to start on it), saying which versions; nothing is written.
func TestRestore_NewerSchema(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.Store = "sqlite" })
	m.Close()
	known := mustRawCount(t, m, `SELECT MAX(version) FROM schema_migrations`)
	mustRawExec(t, m, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, '9999_future.sql', '2099-01-01T00:00:00Z')`, known+1)
	backup := filepath.Join(t.TempDir(), "backup")
	if _, stderr, err := runBackup(t, "--data-dir", m.Config.DataDir, "--to", backup); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := runRestore(t, "--from", backup, "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d; this openprofiles", known+1)) || !strings.Contains(err.Error(), fmt.Sprintf("knows up to %d", known)) {
		t.Fatalf("restore of a newer schema: err %v, want it refused naming versions %d and %d", err, known+1, known)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the refused restore made %s (%v)", dir, err)
	}
}
