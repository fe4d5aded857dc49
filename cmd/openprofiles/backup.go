package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/sqlite"
)

// What a data dir holds, and what a backup does with each.
const (
	databaseFile  = "openprofiles.db" // SQLite: copied consistently (sqlite.Backup)
	spoolFile     = "dlq-spool.jsonl" // dead letters waiting for their queue
	dlqObjectsDir = "dlq-objects"     // whole copies of large dead letters, sealed
	auditFile     = "audit.log"       // and audit.log.1, …: left out
	// manifestFile is the manifest of a backup, written last: a directory
	// without it is not a complete backup.
	manifestFile = "backup.json"
	// pgDumpFile is the name the printed pg_dump command gives the dump.
	pgDumpFile = "openprofiles.pgdump"
)

// keyMaterial are the data dir's secrets, with the environment variable a
// server takes each from instead when it is set.
var keyMaterial = []struct{ file, env string }{
	{localkms.RootKeyFile, localkms.RootKeyEnv},
	{secretFile, "OPENPROFILES_SERVER_SECRET"},
	{credentialsFile, "OPENPROFILES_ACCESS_KEY_ID"},
}

// Manifest describes a backup (backup.json).
type Manifest struct {
	Format  int    `json:"format"`
	Version string `json:"openprofiles_version"`
	Commit  string `json:"commit,omitempty"`
	Created string `json:"created_at"` // RFC 3339, when the copy of the database began
	DataDir string `json:"source_data_dir"`
	Store   string `json:"store"` // "sqlite" or "postgres"
	// SchemaVersion is the database copy's (SQLite); 0 on PostgreSQL.
	SchemaVersion int `json:"schema_version,omitempty"`
	// Integrity is the result of the copy's PRAGMA integrity_check.
	Integrity string         `json:"integrity,omitempty"`
	Database  string         `json:"database"` // what holds the database
	Files     []ManifestFile `json:"files"`
	LeftOut   []string       `json:"left_out,omitempty"` // what of the data dir is not in the backup, and why
}

// ManifestFile is one file of a backup.
type ManifestFile struct {
	Name   string `json:"name"` // slash-separated, relative to the backup
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := DefaultConfig()
	var dataDir, store, to string
	fs.StringVar(&dataDir, "data-dir", envString(getenv, "OPENPROFILES_DATA_DIR", d.DataDir), "`directory` of the server to back up (env OPENPROFILES_DATA_DIR)")
	fs.StringVar(&store, "store", envString(getenv, "OPENPROFILES_STORE", "sqlite"), "the server's store: `sqlite` or its PostgreSQL URL, as given to serve (env OPENPROFILES_STORE)")
	fs.StringVar(&to, "to", "", "`directory` to write the backup to, outside the data dir: it must not exist, or be empty")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: openprofiles backup --data-dir DIR --to BACKUP-DIR [flags]

Writes a backup of a server's data dir, while the server runs or not: a
consistent copy of its SQLite database (checked with PRAGMA
integrity_check), its KMS root key, server secret and root credentials,
and its dead-letter spool and large dead letters, all mode 0600, and a
manifest (backup.json). To restore, stop the server and run 'openprofiles
restore --from BACKUP-DIR --data-dir DIR', which checks the backup against
its manifest and copies it into DIR (or cp -a BACKUP-DIR to a new DIR);
never copy the files over a data dir's, whose old openprofiles.db-wal would
be played into the restored database. It holds the KMS root key: keep it
as secret as the server.

With --store postgres://…, the database is not copied: the command copies
the key material and prints the pg_dump command that dumps the database.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("backup: unexpected argument %q", fs.Arg(0))
	}
	onPostgres := strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
	switch {
	case to == "":
		return errors.New("backup: --to is required: the directory to write the backup to")
	case dataDir == "":
		return errors.New("backup: --data-dir is required")
	case !onPostgres && store != "sqlite" && store != "":
		return fmt.Errorf("backup: --store %q: want sqlite or a postgres:// URL", store)
	}
	b := &backup{dataDir: dataDir, to: to, stderr: stderr, getenv: getenv}
	m, err := b.run(ctx, onPostgres)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return printBackup(stdout, m, absPath(to), store, onPostgres)
}

// backup is one run of `openprofiles backup`.
type backup struct {
	dataDir, to string
	stderr      io.Writer
	getenv      func(string) string
	made        []string // what it wrote into to, to remove on failure
	manifest    Manifest
	// databaseCopied, when set, is called once the database is copied
	// (tests: what a server does meanwhile); deadLettersListed once the
	// domains' directories of dlq-objects are listed.
	databaseCopied, deadLettersListed func()
}

func (b *backup) warn(format string, args ...any) {
	fmt.Fprintf(b.stderr, "openprofiles backup: warning: "+format+"\n", args...)
}

func (b *backup) run(ctx context.Context, onPostgres bool) (_ *Manifest, err error) {
	if fi, err := os.Stat(b.dataDir); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("data dir %s is not a directory", b.dataDir)
	}
	if in, err := within(b.to, b.dataDir); err != nil {
		return nil, err
	} else if in {
		return nil, fmt.Errorf("--to %s is inside the data dir %s: a backup there goes with the data dir (and is in the next backups); give a directory outside it", b.to, b.dataDir)
	}
	created, err := makeBackupDir(b.to)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err == nil {
			return
		}
		// Nothing half-written stays: what this run made goes.
		if created {
			os.RemoveAll(b.to)
			return
		}
		for _, name := range slices.Backward(b.made) {
			os.RemoveAll(filepath.Join(b.to, name))
		}
	}()

	m := &b.manifest
	bi := readBuild()
	m.Format, m.Version, m.Commit = 1, bi.Version, bi.Commit
	m.DataDir = absPath(b.dataDir)

	// The dead letters of the data dir before the database, the key
	// material after it. A server moves dead letters out of the data dir
	// into the database (the spool delivers a letter into a queue, which
	// may be the built-in one), and no longer writes whole copies there
	// (an earlier version's, which a replay or the sweep removes): copied
	// before the database, every letter and copy the data dir held when
	// the database's snapshot began is in the backup (a letter delivered
	// meanwhile is there twice, as after a crash of the server while it
	// delivered the spool). Copied after it, a letter delivered while the
	// database was being copied would be in neither. The spool just
	// before the database, so that the letters spooled between the two
	// are as few as can be. The key material was written at the first
	// start, before the database's first key: copied after the database,
	// it is there for every key of the copy.
	if err := b.copyDeadLetterCopies(); err != nil {
		return nil, err
	}
	if _, err := b.copyFile(spoolFile); err != nil {
		return nil, err
	}
	m.Created = time.Now().UTC().Format(time.RFC3339)
	if onPostgres {
		m.Store = "postgres"
		m.Database = "PostgreSQL: not in this backup; dump it with pg_dump (" + pgDumpFile + ")"
	} else {
		m.Store = "sqlite"
		b.made = append(b.made, databaseFile)
		info, err := sqlite.Backup(ctx, filepath.Join(b.dataDir, databaseFile), filepath.Join(b.to, databaseFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database %s in %s: is it a server's data dir (or does the server run on PostgreSQL: --store)?", databaseFile, b.dataDir)
		} else if err != nil {
			return nil, err
		}
		m.SchemaVersion, m.Integrity, m.Database = info.SchemaVersion, "ok", databaseFile
		if err := b.note(databaseFile); err != nil {
			return nil, err
		}
	}
	if b.databaseCopied != nil {
		b.databaseCopied()
	}

	for _, k := range keyMaterial {
		ok, err := b.copyFile(k.file)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok && b.getenv(k.env) != "":
			b.warn("%s is not in %s: the server takes it from %s, which is not in the backup; keep that value with it", k.file, b.dataDir, k.env)
			m.LeftOut = append(m.LeftOut, k.file+": not in the data dir (from "+k.env+")")
		case !ok:
			b.warn("%s is not in %s: if the server takes it from %s, keep that value with the backup; else the server has not started there yet", k.file, b.dataDir, k.env)
			m.LeftOut = append(m.LeftOut, k.file+": not in the data dir")
		}
	}
	if err := b.noteLeftOut(); err != nil {
		return nil, err
	}
	if err := b.writeManifest(); err != nil {
		return nil, err
	}
	return m, nil
}

// makeBackupDir creates dir (mode 0700) or checks that it is an empty
// directory, which it then restricts to its owner; created reports
// whether it made it.
func makeBackupDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o700); err != nil {
			return false, err
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("--to %s: %w", dir, err)
	case len(entries) > 0:
		return false, fmt.Errorf("--to %s is not empty (it holds %s): give a new or empty directory, a backup never overwrites one", dir, entries[0].Name())
	}
	return false, os.Chmod(dir, 0o700)
}

// within reports whether path is dir or inside it, symbolic links
// followed (path need not exist: the links of its longest existing prefix
// are).
func within(path, dir string) (bool, error) {
	p, err := resolve(path)
	if err != nil {
		return false, err
	}
	d, err := resolve(dir)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(d, p)
	if err != nil {
		return false, nil
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// resolve returns the absolute path of path, the symbolic links of its
// longest existing prefix resolved.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(r, rest), nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(p) == p {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// copyFile copies the data dir's file name (slash-separated) into the
// backup, mode 0600, and notes it; ok is false when there is no such file
// (or it went away meanwhile).
func (b *backup) copyFile(name string) (ok bool, err error) {
	src := filepath.Join(b.dataDir, filepath.FromSlash(name))
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer in.Close()
	dst := filepath.Join(b.to, filepath.FromSlash(name))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	b.made = append(b.made, name)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("copy %s: %w", name, err)
	}
	b.manifest.Files = append(b.manifest.Files, ManifestFile{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return true, nil
}

// copyDeadLetterCopies copies dlq-objects/<domain>/<file>: the whole
// objects of dead letters too large for a queue message. A file being
// written (*.tmp*) is left out; one a replay removes meanwhile is too.
func (b *backup) copyDeadLetterCopies() error {
	domains, err := os.ReadDir(filepath.Join(b.dataDir, dlqObjectsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(b.to, dlqObjectsDir), 0o700); err != nil {
		return err
	}
	b.made = append(b.made, dlqObjectsDir)
	if b.deadLettersListed != nil {
		b.deadLettersListed()
	}
	for _, d := range domains {
		if !d.IsDir() {
			if d.Type().IsRegular() { // an earlier version's copies: dlq-objects/<hash>.json
				if _, err := b.copyFile(dlqObjectsDir + "/" + d.Name()); err != nil {
					return err
				}
			}
			continue
		}
		files, err := os.ReadDir(filepath.Join(b.dataDir, dlqObjectsDir, d.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			// Removed since it was listed: the domain was deleted (its
			// copies go with it), or the sweep removed the last of them.
			continue
		} else if err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(b.to, dlqObjectsDir, d.Name()), 0o700); err != nil {
			return err
		}
		for _, f := range files {
			if !f.Type().IsRegular() || strings.Contains(f.Name(), ".tmp") {
				continue
			}
			if _, err := b.copyFile(dlqObjectsDir + "/" + d.Name() + "/" + f.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// note records a file the backup wrote otherwise than by copyFile.
func (b *backup) note(name string) error {
	f, err := os.Open(filepath.Join(b.to, filepath.FromSlash(name)))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	b.manifest.Files = append(b.manifest.Files, ManifestFile{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// noteLeftOut records what of the data dir the backup does not hold.
func (b *backup) noteLeftOut() error {
	entries, err := os.ReadDir(b.dataDir)
	if err != nil {
		return err
	}
	copied := map[string]bool{}
	for _, f := range b.manifest.Files {
		first, _, _ := strings.Cut(f.Name, "/")
		copied[first] = true
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case copied[name]:
		case name == databaseFile+"-wal" || name == databaseFile+"-shm":
			if b.manifest.Store == "sqlite" {
				continue // in the copy of the database
			}
			b.manifest.LeftOut = append(b.manifest.LeftOut, name+": not this server's store")
		case name == databaseFile:
			b.manifest.LeftOut = append(b.manifest.LeftOut, name+": not this server's store (it runs on PostgreSQL)")
		case name == auditFile || strings.HasPrefix(name, auditFile+"."):
			b.manifest.LeftOut = append(b.manifest.LeftOut, name+": the audit trail, not needed to restore (ship it to your log store)")
		case name == manifestFile:
			b.manifest.LeftOut = append(b.manifest.LeftOut, name+": the manifest of the backup this data dir was restored from")
		case strings.Contains(name, ".tmp"):
			// a file being written
		default:
			b.manifest.LeftOut = append(b.manifest.LeftOut, name+": not a file of OpenProfiles")
		}
	}
	return nil
}

// writeManifest writes backup.json, last, and syncs the backup's
// directories.
func (b *backup) writeManifest() error {
	body, err := json.MarshalIndent(b.manifest, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(b.to, manifestFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	b.made = append(b.made, manifestFile)
	_, err = f.Write(append(body, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", manifestFile, err)
	}
	return filepath.WalkDir(b.to, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		dir, err := os.Open(path)
		if err != nil {
			return err
		}
		defer dir.Close()
		return dir.Sync()
	})
}

// printBackup says what the backup holds and how to restore it, and on
// PostgreSQL how to dump the database.
func printBackup(w io.Writer, m *Manifest, to, store string, onPostgres bool) error {
	var names []string
	for _, f := range m.Files {
		if !strings.Contains(f.Name, "/") {
			names = append(names, f.Name)
		}
	}
	if n := len(m.Files) - len(names); n > 0 {
		names = append(names, fmt.Sprintf("%s/ (%d files)", dlqObjectsDir, n))
	}
	fmt.Fprintf(w, "Backed up %s to %s: %s, and %s.\n", m.DataDir, to, strings.Join(names, ", "), manifestFile)
	if !onPostgres {
		fmt.Fprintf(w, "The database copy is consistent as of %s (schema version %d, integrity_check ok).\n", m.Created, m.SchemaVersion)
		fmt.Fprintf(w, "To restore: stop the server, restore the backup into a data dir of its own and start the server there:\n\n\topenprofiles restore --from %s --data-dir DATA-DIR\n\topenprofiles serve --data-dir DATA-DIR\n\n", shellQuote(to))
		fmt.Fprintln(w, "The backup holds the KMS root key: keep it as secret as the server.")
		return nil
	}
	dump := shellQuote(filepath.Join(to, pgDumpFile))
	_, err := fmt.Fprintf(w, `The server's database is in PostgreSQL: this backup holds its key material, not the database.
Dump the database now, into the backup:

	pg_dump --format=custom --file=%s %s

%sTo restore: load the dump into an empty database (DATABASE-URL: the one above dropped and
created again, or a new one), restore this backup into a data dir, and start the server on both:

	pg_restore --no-owner --dbname=DATABASE-URL %s
	openprofiles restore --from %s --data-dir DATA-DIR
	openprofiles serve --data-dir DATA-DIR --store DATABASE-URL

The backup holds the KMS root key: keep it, and the dump, as secret as the server.
`, dump, shellQuote(withoutPassword(store)), passwordNote(store), dump, shellQuote(to))
	return err
}

// withoutPassword returns the PostgreSQL URL u without its passwords,
// which are not printed: the user info's, and the parameters password and
// sslpassword (libpq and pgx take them there too). A URL that does not
// parse is not printed at all (DATABASE-URL instead): where its password
// is cannot be told.
func withoutPassword(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "DATABASE-URL"
	}
	changed := false
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.User(p.User.Username())
			changed = true
		}
	}
	if q := p.Query(); q.Has("password") || q.Has("sslpassword") {
		q.Del("password")
		q.Del("sslpassword")
		p.RawQuery = q.Encode()
		changed = true
	}
	if !changed {
		return u
	}
	return p.String()
}

func passwordNote(u string) string {
	switch withoutPassword(u) {
	case u:
		return ""
	case "DATABASE-URL":
		return "(DATABASE-URL: the --store URL, which does not parse as a URL, so is not printed.)\n"
	}
	return "(The URL's password is left out: give it in PGPASSWORD or ~/.pgpass.)\n"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
