// Package migrate reads the embedded, versioned SQL migrations of a store:
// files migrations/NNNN_name.sql numbered 1, 2, 3, … Each store applies
// them in its own way (package sqlite, package postgres).
package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

// Migration is one SQL file.
type Migration struct {
	Version int
	Name    string // file name
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Load reads migrations/*.sql from fsys in version order. The versions must
// be 1, 2, 3, … without gaps or duplicates.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("migrations: none found")
	}
	var ms []Migration
	for i, name := range names { // fs.Glob sorts
		base := path.Base(name)
		m := fileName.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("migrations: %s: name is not NNNN_name.sql", base)
		}
		version, _ := strconv.Atoi(m[1])
		if version != i+1 {
			return nil, fmt.Errorf("migrations: %s: version %d, want %d", base, version, i+1)
		}
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		ms = append(ms, Migration{Version: version, Name: base, SQL: string(buf)})
	}
	return ms, nil
}
