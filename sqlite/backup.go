package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/openprofiles/profiles/internal/migrate"
)

// BackupInfo describes a copy Backup wrote.
type BackupInfo struct {
	SchemaVersion int   // the highest migration applied to the copy
	Bytes         int64 // the copy's size
}

// Backup writes a consistent copy of the database file src to the new file
// dst (mode 0600; it must not exist) and checks it. A DB of this process or
// of another one (a running server) may be writing to src meanwhile: the
// copy is made by VACUUM INTO on a connection of its own, which only
// reads, in one read transaction, so it holds exactly the transactions
// committed when it began, and the writer never waits for it (in WAL mode
// a reader takes no lock that a writer needs; checkpoints cannot pass its
// snapshot, so the WAL grows while it runs). The copy is then checked
// with PRAGMA integrity_check; on any failure dst is removed. Backup never
// creates or migrates src, and writes it only as SQLite does when its
// connection is the last one to close (no server running): what a server
// killed before it closed left in the -wal is checkpointed into src (as
// that server's next start would), and -wal and -shm are removed. Run it
// as the user the server runs as: with no server running, its connection
// makes src's -wal and -shm while it reads (and removes them after).
func Backup(ctx context.Context, src, dst string) (_ BackupInfo, err error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: no database: %w", err)
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	// VACUUM INTO writes into an empty file: creating it first gives it
	// its mode from the start, and refuses one that exists.
	f, err := os.OpenFile(absDst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(absDst)
		}
	}()

	// mode=rw without create: the file must exist. The connection runs
	// VACUUM INTO alone, which reads it (no pragma that writes, no
	// migration). Not mode=ro: a read-only connection that finds no
	// server's -wal and -shm creates them and leaves them behind, this
	// process's files, which a server running as another user could not
	// open; a read-write one removes them when it closes, if it is the
	// last connection. (query_only refuses VACUUM INTO.)
	u := url.URL{Path: filepath.ToSlash(abs)}
	from, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?mode=rw&_pragma=busy_timeout("+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)+")")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	defer from.Close()
	from.SetMaxOpenConns(1)
	if _, err := from.ExecContext(ctx, `VACUUM INTO ?`, absDst); isStorageFull(err) {
		// SQLite's words for EFBIG are "disk I/O error": say which disk.
		return BackupInfo{}, fmt.Errorf("sqlite: backup: no room for the copy %s (its disk is full, or the size of files is limited: ulimit -f): %w", absDst, err)
	} else if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: copy %s: %w", src, err)
	}
	if err := from.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}

	info, err := checkCopy(ctx, absDst)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: check the copy: %w", err)
	}
	if err := syncFile(absDst); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	return info, nil
}

// checkCopy runs PRAGMA integrity_check on the database file path (which
// no other connection uses) and reads its schema version and size.
func checkCopy(ctx context.Context, path string) (BackupInfo, error) {
	// VACUUM INTO writes a file in rollback-journal mode: read-only, it
	// stays as it is (no -wal or -shm beside it) until a server opens it.
	u := url.URL{Path: filepath.ToSlash(path)}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?mode=ro")
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return BackupInfo{}, err
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return BackupInfo{}, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BackupInfo{}, err
	}
	if len(problems) > 0 {
		return BackupInfo{}, fmt.Errorf("integrity_check: %s", strings.Join(problems, "; "))
	}
	var info BackupInfo
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&info.SchemaVersion); err != nil {
		return BackupInfo{}, fmt.Errorf("read schema version: %w", err)
	}
	if err := db.Close(); err != nil {
		return BackupInfo{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	info.Bytes = fi.Size()
	return info, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// KnownSchemaVersion returns the highest schema version this program's
// migrations make: a database (or a backup's copy) at a higher one was
// made by a newer program, which this one refuses to open.
func KnownSchemaVersion() (int, error) {
	ms, err := migrate.Load(migrationFS)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	if len(ms) == 0 {
		return 0, nil
	}
	return ms[len(ms)-1].Version, nil
}
