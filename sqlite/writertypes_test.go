package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// The committer remembers the object types it reads (writerTypes); these
// tests change a type every way it can change and read it back through
// Update, where the remembered type would show if it were stale.

func putType(tb testing.TB, db *sqlite.DB, domain, name, description string) {
	tb.Helper()
	ctx := tb.Context()
	err := db.Update(ctx, func(tx profiles.Tx) error {
		return tx.PutObjectType(ctx, &profiles.ObjectType{DomainName: domain, Name: name, Description: description,
			Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id", Target: "_profile.AccountNumber"}},
			Keys:   map[string][]profiles.ObjectTypeKey{"id": {{FieldNames: []string{"id"}, StandardIdentifiers: []string{profiles.IdentifierUnique}}}},
		}, 0)
	})
	if err != nil {
		tb.Fatalf("PutObjectType: %v", err)
	}
}

// typeInUpdate returns the description of the type as an Update reads it,
// or the error.
func typeInUpdate(tb testing.TB, db *sqlite.DB, domain, name string) (string, error) {
	tb.Helper()
	ctx := tb.Context()
	var desc string
	err := db.Update(ctx, func(tx profiles.Tx) error {
		ot, err := tx.FindObjectType(ctx, domain, name)
		if err != nil {
			return err
		}
		desc = ot.Description
		return nil
	})
	return desc, err
}

func mustDomain(tb testing.TB, db *sqlite.DB, name string) {
	tb.Helper()
	if err := db.CreateDomain(tb.Context(), &profiles.Domain{Name: name}, 0); err != nil {
		tb.Fatalf("CreateDomain: %v", err)
	}
}

func TestWriterTypes_Changes(t *testing.T) {
	db := MustOpenDB(t)
	mustDomain(t, db, "d")
	putType(t, db, "d", "t", "v1")
	for range 2 { // the second read is the remembered one
		if got, err := typeInUpdate(t, db, "d", "t"); err != nil || got != "v1" {
			t.Fatalf("FindObjectType = %q, %v; want v1", got, err)
		}
	}
	putType(t, db, "d", "t", "v2")
	if got, err := typeInUpdate(t, db, "d", "t"); err != nil || got != "v2" {
		t.Fatalf("after a new version: FindObjectType = %q, %v; want v2", got, err)
	}
	ctx := t.Context()
	if err := db.Update(ctx, func(tx profiles.Tx) error { return tx.DeleteObjectType(ctx, "d", "t") }); err != nil {
		t.Fatalf("DeleteObjectType: %v", err)
	}
	if _, err := typeInUpdate(t, db, "d", "t"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("after DeleteObjectType: FindObjectType error = %v, want ENOTFOUND", err)
	}
}

// A type an Update changes and reads, and that is then rolled back, is not
// the one later Updates read.
func TestWriterTypes_RolledBack(t *testing.T) {
	db := MustOpenDB(t)
	mustDomain(t, db, "d")
	putType(t, db, "d", "t", "v1")
	if got, err := typeInUpdate(t, db, "d", "t"); err != nil || got != "v1" {
		t.Fatalf("FindObjectType = %q, %v; want v1", got, err)
	}
	ctx := t.Context()
	refused := errors.New("refused")
	err := db.Update(ctx, func(tx profiles.Tx) error {
		ot, err := tx.FindObjectType(ctx, "d", "t")
		if err != nil {
			return err
		}
		ot.Description = "v2"
		if err := tx.PutObjectType(ctx, ot, 0); err != nil {
			return err
		}
		if ot, err := tx.FindObjectType(ctx, "d", "t"); err != nil || ot.Description != "v2" {
			t.Errorf("in the Update that wrote it: FindObjectType = %v, %v; want v2", ot, err)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Update = %v, want %v", err, refused)
	}
	for range 2 {
		if got, err := typeInUpdate(t, db, "d", "t"); err != nil || got != "v1" {
			t.Fatalf("after the rollback: FindObjectType = %q, %v; want v1", got, err)
		}
	}
}

// DeleteDomain takes the domain's types along: a domain created again under
// the same name has none.
func TestWriterTypes_DomainDeleted(t *testing.T) {
	db := MustOpenDB(t)
	mustDomain(t, db, "d")
	putType(t, db, "d", "t", "v1")
	if _, err := typeInUpdate(t, db, "d", "t"); err != nil {
		t.Fatalf("FindObjectType: %v", err)
	}
	if err := db.DeleteDomain(t.Context(), "d"); err != nil {
		t.Fatalf("DeleteDomain: %v", err)
	}
	mustDomain(t, db, "d")
	if got, err := typeInUpdate(t, db, "d", "t"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("in the new domain: FindObjectType = %q, %v; want ENOTFOUND", got, err)
	}
}

// A type changed by another process on the same file is read anew.
func TestWriterTypes_OtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profiles.db")
	a, b := mustOpenDBAt(t, path, nil), mustOpenDBAt(t, path, nil)
	mustDomain(t, a, "d")
	putType(t, a, "d", "t", "v1")
	if got, err := typeInUpdate(t, a, "d", "t"); err != nil || got != "v1" {
		t.Fatalf("FindObjectType = %q, %v; want v1", got, err)
	}
	putType(t, b, "d", "t", "v2")
	if got, err := typeInUpdate(t, a, "d", "t"); err != nil || got != "v2" {
		t.Fatalf("after the other process wrote: FindObjectType = %q, %v; want v2", got, err)
	}
	if err := b.DeleteDomain(context.Background(), "d"); err != nil {
		t.Fatalf("DeleteDomain: %v", err)
	}
	if got, err := typeInUpdate(t, a, "d", "t"); profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return
	} else {
		t.Fatalf("after the other process deleted the domain: FindObjectType = %q, %v; want ENOTFOUND", got, err)
	}
}
