package mapping_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var update = flag.Bool("update", false, "rewrite testdata/map/*/want.json from the current results")

// golden is what want.json holds: the Result, or the error.
type golden struct {
	*mapping.Result
	Error *goldenError `json:",omitempty"`
}

type goldenError struct {
	Code    string
	Message string
}

// TestMap_Golden maps testdata/map/<case>/object.json with type.json and
// compares the outcome with want.json (go test ./mapping -update rewrites it).
func TestMap_Golden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "map", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if got, min := len(dirs), 12; got < min {
		t.Fatalf("golden cases = %d, want at least %d", got, min)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			typ := MustReadType(t, filepath.Join(dir, "type.json"))
			obj := MustReadFile(t, filepath.Join(dir, "object.json"))
			res, err := mapping.Map(typ, obj)
			g := golden{Result: res}
			if err != nil {
				var e *profiles.Error
				if !errors.As(err, &e) {
					t.Fatalf("Map: error %v is not a *profiles.Error", err)
				}
				g.Error = &goldenError{Code: e.Code, Message: e.Message}
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			wantPath := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(wantPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := MustReadFile(t, wantPath)
			if !bytes.Equal(got, want) {
				t.Errorf("Map result differs from %s (run go test ./mapping -update to accept)\ngot:\n%s\nwant:\n%s", wantPath, got, want)
			}
		})
	}
}

// TestMap_ErrorCodes checks the code and the gist of Map's errors.
func TestMap_ErrorCodes(t *testing.T) {
	typ := &profiles.ObjectType{
		Fields: map[string]profiles.ObjectTypeField{
			"id":                          {Source: "_source.id"},
			"_sourceLastUpdatedTimestamp": {Source: "_source.at"},
		},
		Keys:                             map[string][]profiles.ObjectTypeKey{"id": {{StandardIdentifiers: []string{"UNIQUE", "PROFILE"}, FieldNames: []string{"id"}}}},
		SourceLastUpdatedTimestampFormat: "dd/MM/yyyy",
	}
	for _, tt := range []struct {
		name, obj string
		want      []string // substrings of the message
	}{
		{"Array", `[]`, []string{"The object must be a JSON object", "array"}},
		{"String", `"x"`, []string{"The object must be a JSON object", "string"}},
		{"Number", `12`, []string{"The object must be a JSON object", "number"}},
		{"Null", `null`, []string{"The object must be a JSON object", "null"}},
		{"Empty", ``, []string{"The object must be a JSON object", "empty"}},
		{"Truncated", `{"id": "a"`, []string{"The object must be a JSON object"}},
		{"BadTimestamp", `{"id": "a", "at": "2024-01-31"}`, []string{`"_sourceLastUpdatedTimestamp"`, `"dd/MM/yyyy"`, `"2024-01-31"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mapping.Map(typ, []byte(tt.obj))
			if got, want := profiles.ErrorCode(err), profiles.EINVALID; got != want {
				t.Fatalf("code = %q (%v), want %q", got, err, want)
			}
			for _, s := range tt.want {
				if msg := profiles.ErrorMessage(err); !strings.Contains(msg, s) {
					t.Errorf("message = %q, want it to contain %q", msg, s)
				}
			}
		})
	}
}

// TestMap_InvalidType checks that Map refuses what it cannot apply.
func TestMap_InvalidType(t *testing.T) {
	for _, tt := range []struct {
		name string
		typ  *profiles.ObjectType
		want string
	}{
		{"BadSource", &profiles.ObjectType{Fields: map[string]profiles.ObjectTypeField{"a": {Source: "source.a"}}}, `Field "a": source "source.a"`},
		{"BadTarget", &profiles.ObjectType{Fields: map[string]profiles.ObjectTypeField{"a": {Source: "_source.a", Target: "_profile.Nope"}}}, `target "_profile.Nope"`},
		{"BadFormat", &profiles.ObjectType{Fields: map[string]profiles.ObjectTypeField{"a": {Source: "_source.a"}}, SourceLastUpdatedTimestampFormat: "yyyy QQ"}, `'Q'`},
		{"UnknownKeyField", &profiles.ObjectType{
			Fields: map[string]profiles.ObjectTypeField{"a": {Source: "_source.a"}},
			Keys:   map[string][]profiles.ObjectTypeKey{"k": {{StandardIdentifiers: []string{"UNIQUE"}, FieldNames: []string{"b"}}}},
		}, `Key "k": field "b" is not in Fields`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mapping.Map(tt.typ, []byte(`{"a": "1"}`))
			if got, want := profiles.ErrorCode(err), profiles.EINVALID; got != want {
				t.Fatalf("code = %q (%v), want %q", got, err, want)
			}
			if msg := profiles.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// BenchmarkMap maps a realistic 1–2 KB CRM contact with 15 fields and 3 keys.
func BenchmarkMap(b *testing.B) {
	typ := MustReadType(b, filepath.Join("testdata", "bench", "type.json"))
	obj := MustReadFile(b, filepath.Join("testdata", "bench", "object.json"))
	if n := len(typ.Fields); n != 15 {
		b.Fatalf("fields = %d, want 15", n)
	}
	res, err := mapping.Map(typ, obj)
	if err != nil {
		b.Fatal(err)
	}
	if got, want := len(res.Keys), 3; got != want {
		b.Fatalf("keys = %d, want %d", got, want)
	}
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mapping.Map(typ, obj); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMapper_Map: what BenchmarkMap does with the type compiled once,
// as ingestion does (service.mappers).
func BenchmarkMapper_Map(b *testing.B) {
	typ := MustReadType(b, filepath.Join("testdata", "bench", "type.json"))
	obj := MustReadFile(b, filepath.Join("testdata", "bench", "object.json"))
	m, err := mapping.Compile(typ)
	if err != nil {
		b.Fatal(err)
	}
	want, err := mapping.Map(typ, obj)
	if err != nil {
		b.Fatal(err)
	}
	if got, err := m.Map(obj); err != nil || !reflect.DeepEqual(got, want) {
		b.Fatalf("Mapper.Map = %+v, %v; want Map's %+v", got, err, want)
	}
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(obj); err != nil {
			b.Fatal(err)
		}
	}
}

// MustReadFile returns the content of a file.
func MustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustReadType reads an object type from its JSON rendering.
func MustReadType(tb testing.TB, path string) *profiles.ObjectType {
	tb.Helper()
	var t profiles.ObjectType
	dec := json.NewDecoder(bytes.NewReader(MustReadFile(tb, path)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		tb.Fatal(fmt.Errorf("%s: %w", path, err))
	}
	return &t
}
