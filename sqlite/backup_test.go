package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// TestBackup copies a database while a writer commits domains into it: the
// copy holds every domain committed before the backup began, opens as a
// DB at the latest schema, and is the owner's alone.
func TestBackup(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := mustOpenDBAt(t, filepath.Join(dir, "profiles.db"), nil)
	for i := range 50 {
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: fmt.Sprintf("before-%d", i), DefaultExpirationDays: 1}, 0); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.CreateDomain(context.Background(), &profiles.Domain{Name: fmt.Sprintf("during-%d", i), DefaultExpirationDays: 1}, 0); err != nil {
				t.Errorf("CreateDomain during the backup: %v", err)
				return
			}
		}
	})
	dst := filepath.Join(t.TempDir(), "copy.db")
	info, err := sqlite.Backup(ctx, filepath.Join(dir, "profiles.db"), dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("copy's mode %04o, want 0600", got)
	}
	if info.Bytes != fi.Size() || info.Bytes == 0 {
		t.Errorf("BackupInfo.Bytes = %d, file has %d", info.Bytes, fi.Size())
	}
	latest := mustSchemaVersion(t, filepath.Join(dir, "profiles.db"))
	if info.SchemaVersion != latest {
		t.Errorf("BackupInfo.SchemaVersion = %d, want %d", info.SchemaVersion, latest)
	}
	for _, ext := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(dst + ext); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the copy has a %s file beside it (%v)", ext, err)
		}
	}

	copyDB := mustOpenDBAt(t, dst, nil)
	for i := range 50 {
		if _, err := copyDB.FindDomain(ctx, fmt.Sprintf("before-%d", i)); err != nil {
			t.Errorf("the copy lacks domain before-%d: %v", i, err)
		}
	}
}

// TestBackup_WriterHoldsTheLock backs up while a write transaction is
// open and waiting: the backup neither waits for it nor copies what it
// has not committed, and the writer commits after.
func TestBackup_WriterHoldsTheLock(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profiles.db")
	db := mustOpenDBAt(t, path, nil)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
		t.Fatal(err)
	}
	inFn, release := make(chan struct{}), make(chan struct{})
	updated := make(chan error, 1)
	go func() {
		_, err := db.UpdateDomain(ctx, "d", func(d *profiles.Domain) error {
			d.DefaultExpirationDays = 2
			close(inFn)
			<-release
			return nil
		})
		updated <- err
	}()
	<-inFn
	dst := filepath.Join(t.TempDir(), "copy.db")
	// Bounded below SQLite's busy timeout: a backup that waited for the
	// writer's lock would fail here rather than after it.
	bctx, cancel := context.WithTimeout(ctx, sqlite.BusyTimeout/2)
	_, err := sqlite.Backup(bctx, path, dst)
	cancel()
	close(release)
	if err != nil {
		t.Fatalf("Backup while a writer holds the lock: %v", err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("UpdateDomain: %v", err)
	}
	d, err := mustOpenDBAt(t, dst, nil).FindDomain(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if d.DefaultExpirationDays != 1 {
		t.Errorf("the copy has DefaultExpirationDays %d, which was not committed when it was made; want 1", d.DefaultExpirationDays)
	}
}

// TestBackup_Refuses checks that Backup neither overwrites a file nor
// creates a database where there is none.
func TestBackup_Refuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "profiles.db")
	mustOpenDBAt(t, path, nil)
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Backup(ctx, path, existing); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Backup onto an existing file: err %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("the existing file now holds %q", b)
	}
	missing := filepath.Join(dir, "missing.db")
	dst := filepath.Join(dir, "copy.db")
	if _, err := sqlite.Backup(ctx, missing, dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Backup of a missing file: err %v, want fs.ErrNotExist", err)
	}
	for _, p := range []string{missing, dst} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists after a refused backup", filepath.Base(p))
		}
	}
}

// TestBackup_DamagedSource damages a database's pages: the backup fails
// and leaves no file.
func TestBackup_DamagedSource(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profiles.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: fmt.Sprintf("d-%03d", i), DefaultExpirationDays: 1}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Zero the middle of the file: pages of tables and indexes.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 3; i < 2*len(b)/3; i++ {
		b[i] = 0
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if _, err := sqlite.Backup(ctx, path, dst); err == nil {
		t.Fatal("Backup of a damaged database succeeded")
	}
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed backup left %s (%v)", dst, err)
	}
}

func mustSchemaVersion(tb testing.TB, path string) int {
	tb.Helper()
	raw := mustOpenRaw(tb, path)
	var v int
	if err := raw.QueryRowContext(context.Background(), `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestBackup_Closed backs up a database no DB has open (its -wal and -shm
// are gone): the copy is made all the same, and the file is left as it
// was.
func TestBackup_Closed(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "profiles.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 1}, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	filesBefore := mustList(t, filepath.Dir(path))
	dst := filepath.Join(t.TempDir(), "copy.db")
	if _, err := sqlite.Backup(ctx, path, dst); err != nil {
		t.Fatalf("Backup of a closed database: %v", err)
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(before) {
		t.Errorf("the backup changed the database file (%v)", err)
	}
	if got := mustList(t, filepath.Dir(path)); got != filesBefore {
		t.Errorf("the database's directory holds %s after the backup, %s before", got, filesBefore)
	}
	if _, err := mustOpenDBAt(t, dst, nil).FindDomain(ctx, "d"); err != nil {
		t.Errorf("the copy lacks domain d: %v", err)
	}
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
