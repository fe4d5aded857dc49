package templates

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseAllErrors(t *testing.T) {
	ok := `{"TemplateId":"CTR","SourceName":"s","SourceObject":"o","AllowProfileCreation":true,
		"SourceLastUpdatedTimestampFormat":"","Fields":{"a":{"Source":"_source.a","Target":"","ContentType":"STRING"}},
		"Keys":{"_ctrContactId":[{"StandardIdentifiers":["PROFILE","UNIQUE"],"FieldNames":["a"]}]}}`
	tests := []struct {
		name, file, data, want string
	}{
		{"BadJSON", "data/CTR.json", `{`, "unexpected EOF"},
		{"UnknownField", "data/CTR.json", strings.Replace(ok, `"SourceName"`, `"Extra":1,"SourceName"`, 1), "unknown field"},
		{"Trailing", "data/CTR.json", ok + `{}`, "trailing data"},
		{"NoID", "data/CTR.json", strings.Replace(ok, `"CTR"`, `""`, 1), "TemplateId is empty"},
		{"NameMismatch", "data/CTR-x.json", ok, "does not match the file name"},
		{"NoDescription", "data/Other.json", strings.Replace(ok, `"CTR"`, `"Other"`, 1), "no description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAll(fstest.MapFS{tt.file: {Data: []byte(tt.data)}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseAll() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}

	got, err := parseAll(fstest.MapFS{"data/CTR.json": {Data: []byte(ok)}})
	if err != nil || len(got) != 1 || got[0].ID != "CTR" {
		t.Errorf("parseAll(valid) = %v, %v", got, err)
	}
}

func TestEmbeddedParse(t *testing.T) {
	all, err := parseAll(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no embedded templates")
	}
}
