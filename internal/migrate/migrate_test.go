package migrate

import (
	"slices"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("CREATE TABLE t (x int);")}
	for _, tt := range []struct {
		name    string
		files   []string
		want    []int
		wantErr bool
	}{
		{"InOrder", []string{"0002_b.sql", "0001_a.sql", "0003_c.sql"}, []int{1, 2, 3}, false},
		{"Gap", []string{"0001_a.sql", "0003_c.sql"}, nil, true},
		{"Duplicate", []string{"0001_a.sql", "0001_b.sql"}, nil, true},
		{"StartsAfterOne", []string{"0002_b.sql"}, nil, true},
		{"BadName", []string{"0001-a.sql"}, nil, true},
		{"ShortVersion", []string{"1_a.sql"}, nil, true},
		{"None", []string{}, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mfs := fstest.MapFS{"migrations/README": &fstest.MapFile{}}
			for _, name := range tt.files {
				mfs["migrations/"+name] = file
			}
			ms, err := Load(mfs)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Load: err=%v, want error %v", err, tt.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
				if m.SQL == "" || m.Name == "" {
					t.Errorf("migration %+v: no SQL or name", m)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("versions %v, want %v", got, tt.want)
			}
		})
	}
}
