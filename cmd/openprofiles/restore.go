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
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openprofiles/profiles/sqlite"
)

// runRestore runs `openprofiles restore --from BACKUP --data-dir DIR`: it
// checks a backup against its manifest and copies it into a data dir of
// its own, which a server then starts on.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var from, dataDir string
	var force bool
	fs.StringVar(&from, "from", "", "`directory` of the backup (what `openprofiles backup --to` wrote)")
	fs.StringVar(&dataDir, "data-dir", envString(getenv, "OPENPROFILES_DATA_DIR", DefaultConfig().DataDir), "`directory` to restore into: it must not exist, or be empty, unless --force (env OPENPROFILES_DATA_DIR)")
	fs.BoolVar(&force, "force", false, "restore into a data dir that holds something: its content is moved aside, whole, to DIR.before-restore-TIME (nothing is deleted)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: openprofiles restore --from BACKUP-DIR --data-dir DIR [--force]

Restores a backup written by 'openprofiles backup' into the data dir DIR,
for a server to start on (stop the server of DIR first). Every file the
manifest (backup.json) lists is checked against its size and SHA-256
before anything is written: a backup that is incomplete or damaged is
refused. DIR must not exist or be empty; with --force, what it holds is
moved aside whole to DIR.before-restore-TIME, never mixed with the backup
(an old openprofiles.db-wal would be played into the restored database).
The files are written beside DIR and put in its place in one rename, mode
0600 (directories 0700). The backup itself is left as it is.

A backup of a server on PostgreSQL holds its key material and dead
letters, not the database: load the dump with pg_restore as well.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("restore: unexpected argument %q", fs.Arg(0))
	case from == "":
		return errors.New("restore: --from is required: the directory of the backup")
	case dataDir == "":
		return errors.New("restore: --data-dir is required")
	}
	m, err := checkBackup(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if in, err := within(dataDir, from); err != nil {
		return fmt.Errorf("restore: %w", err)
	} else if in {
		return fmt.Errorf("restore: --data-dir %s is the backup %s or inside it: restore into a directory of its own (the backup stays as it is)", dataDir, from)
	}
	if in, err := within(from, dataDir); err != nil {
		return fmt.Errorf("restore: %w", err)
	} else if in {
		return fmt.Errorf("restore: the backup %s is inside --data-dir %s: move it out first (a restore replaces the data dir)", from, dataDir)
	}
	aside, err := restoreInto(ctx, from, dataDir, m, force)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}

	fmt.Fprintf(stdout, "Restored the backup %s (made %s by openprofiles %s, schema version %d) into %s.\n",
		absPath(from), m.Created, m.Version, m.SchemaVersion, absPath(dataDir))
	if aside != "" {
		fmt.Fprintf(stdout, "What %s held before is in %s.\n", absPath(dataDir), absPath(aside))
	}
	for _, l := range m.LeftOut {
		for _, k := range keyMaterial {
			if strings.HasPrefix(l, k.file+":") {
				fmt.Fprintf(stderr, "openprofiles restore: warning: the backup has no %s: start the server with %s set to the value the backed-up server had\n", k.file, k.env)
			}
		}
	}
	if m.Store == "postgres" {
		fmt.Fprintf(stdout, "The database is not in this backup: load its dump into an empty database, then start the server on it:\n\n\tpg_restore --no-owner --dbname=DATABASE-URL %s\n\topenprofiles serve --data-dir %s --store DATABASE-URL\n",
			shellQuote(filepath.Join(absPath(from), pgDumpFile)), shellQuote(absPath(dataDir)))
		return nil
	}
	_, err = fmt.Fprintf(stdout, "Start the server on it:\n\n\topenprofiles serve --data-dir %s\n", shellQuote(absPath(dataDir)))
	return err
}

// checkBackup reads the manifest of the backup dir and checks every file
// it lists against its size and SHA-256.
func checkBackup(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("--from: %w", serr)
		}
		return nil, fmt.Errorf("%s has no %s: it is not a complete backup (a backup writes it last; one that failed has none)", dir, manifestFile)
	} else if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestFile), err)
	}
	if m.Format != 1 {
		return nil, fmt.Errorf("%s: format %d: this openprofiles reads format 1; restore it with the version that wrote it (%s) or a newer one", filepath.Join(dir, manifestFile), m.Format, m.Version)
	}
	if m.Store == "sqlite" && !m.has(databaseFile) {
		return nil, fmt.Errorf("%s lists no %s: not a backup of a server on SQLite", filepath.Join(dir, manifestFile), databaseFile)
	}
	if m.Store == "sqlite" {
		// A server of this version would refuse the copy at its start.
		known, err := sqlite.KnownSchemaVersion()
		if err != nil {
			return nil, err
		}
		if m.SchemaVersion > known {
			return nil, fmt.Errorf("the backup (made %s by openprofiles %s) holds a database at schema version %d; this openprofiles (%s) knows up to %d and could not serve it: restore it with the version that made it, or a newer one",
				m.Created, m.Version, m.SchemaVersion, readBuild().Version, known)
		}
	}
	for _, f := range m.Files {
		if !fs.ValidPath(f.Name) || f.Name == manifestFile {
			return nil, fmt.Errorf("%s lists the file %q, which is not a path inside the backup", filepath.Join(dir, manifestFile), f.Name)
		}
		n, sum, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		switch {
		case err != nil:
			return nil, fmt.Errorf("the backup is not whole: %w", err)
		case n != f.Bytes || sum != f.SHA256:
			return nil, fmt.Errorf("the backup is damaged: %s has %d bytes, SHA-256 %s; the manifest says %d bytes, SHA-256 %s", f.Name, n, sum, f.Bytes, f.SHA256)
		}
	}
	return &m, nil
}

func (m *Manifest) has(name string) bool {
	for _, f := range m.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// restoreInto copies the files of the backup from (and its manifest) into
// a new directory beside dataDir, and puts it in dataDir's place: dataDir
// must not exist or be empty, or, with force, is moved aside first (aside
// names where to). Nothing of dataDir is deleted, and a failure leaves it
// as it was.
func restoreInto(ctx context.Context, from, dataDir string, m *Manifest, force bool) (aside string, err error) {
	dataDir = filepath.Clean(dataDir)
	// A data dir that is a symbolic link (to a volume of its own, say) is
	// restored where it points: the link is left as it is. Renamed, the
	// link itself would be moved aside and the backup put in its place,
	// on the link's filesystem, while the directory it pointed to kept
	// its old content.
	if fi, err := os.Lstat(dataDir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if dataDir, err = filepath.EvalSymlinks(dataDir); err != nil {
			return "", fmt.Errorf("--data-dir: %w", err)
		}
	}
	// A mount point cannot be renamed or removed: refuse it before copying
	// anything, rather than fail once the copy is made (on the parent's
	// filesystem, not the mounted one).
	if mounted, err := isMountPoint(dataDir); err != nil {
		return "", fmt.Errorf("--data-dir %s: %w", dataDir, err)
	} else if mounted {
		return "", fmt.Errorf("--data-dir %s is a mount point: a restore puts a new directory in the data dir's place, which a mount point refuses; restore into a directory inside it (--data-dir %s) and start the server there", dataDir, filepath.Join(dataDir, "data"))
	}
	entries, err := os.ReadDir(dataDir)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("--data-dir %s: %w", dataDir, err)
	case len(entries) > 0 && !force:
		return "", fmt.Errorf("--data-dir %s is not empty (it holds %s): restore into a new or empty directory, or give --force to move what it holds aside (stop its server first)", dataDir, entries[0].Name())
	}
	if exists {
		// A server running there would go on writing into the files
		// moved aside, and its new files (audit log, spool) into the
		// restored data dir.
		if pid, err := databaseInUse(dataDir); err != nil {
			return "", fmt.Errorf("--data-dir %s: %w", dataDir, err)
		} else if pid != 0 {
			return "", fmt.Errorf("--data-dir %s: a process (pid %d) has its database open, a server running there: stop it first", dataDir, pid)
		}
	}
	parent := filepath.Dir(dataDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dataDir)+".restoring-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	names := []string{manifestFile}
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := copyRestored(filepath.Join(from, filepath.FromSlash(name)), filepath.Join(tmp, filepath.FromSlash(name))); err != nil {
			return "", err
		}
	}
	// The copies again: what was checked is what was written.
	if _, err := checkBackup(tmp); err != nil {
		return "", fmt.Errorf("the copy: %w", err)
	}
	if err := syncTree(tmp); err != nil {
		return "", err
	}
	if exists {
		if len(entries) > 0 {
			aside = dataDir + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
			for i := 2; ; i++ { // never onto an earlier restore's
				if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
					break
				}
				aside = fmt.Sprintf("%s.before-restore-%s-%d", dataDir, time.Now().UTC().Format("20060102T150405Z"), i)
			}
			if err := os.Rename(dataDir, aside); err != nil {
				return "", fmt.Errorf("move %s aside: %w", dataDir, err)
			}
		} else if err := os.Remove(dataDir); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		if aside != "" {
			os.Rename(aside, dataDir) // as it was
		}
		return "", err
	}
	return aside, syncDir(parent)
}

// copyRestored copies the file src to the new file dst (mode 0600), making
// its directories (mode 0700).
func copyRestored(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// syncTree syncs every directory of dir, so that the files in them stay.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(path)
	})
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
