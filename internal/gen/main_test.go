package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoPattern(t *testing.T) {
	tests := []struct {
		in, wantSrc, wantPrefix string
	}{
		{"^[a-zA-Z0-9_-]+$", "^[a-zA-Z0-9_-]+$", ""},
		{"^(?!aws:)[a-zA-Z+-=._:/]+$", "^[a-zA-Z+-=._:/]+$", "aws:"},
		{"[a-f0-9]{32}", "[a-f0-9]{32}", ""},
	}
	for _, tt := range tests {
		src, prefix, err := goPattern(tt.in)
		if err != nil || src != tt.wantSrc || prefix != tt.wantPrefix {
			t.Errorf("goPattern(%q)=%q,%q,%v; want %q,%q", tt.in, src, prefix, err, tt.wantSrc, tt.wantPrefix)
		}
	}
	if _, _, err := goPattern("(?<=x)y"); err == nil {
		t.Errorf("goPattern accepted a pattern RE2 cannot run")
	}
}

// TestRun generates from a small model and checks the parts of the output
// the transport relies on.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := run(filepath.Join("testdata", "model.json"), dir); err != nil {
		t.Fatalf("run: %v", err)
	}
	routes, _ := os.ReadFile(filepath.Join(dir, "zz_generated_routes.go"))
	shapes, _ := os.ReadFile(filepath.Join(dir, "zz_generated_shapes.go"))
	for _, want := range []string{
		"const operationCount = 2",
		`{Operation: "GetThing", Method: "GET", Template: "/things/{Name}"}`,
		"DO NOT EDIT",
	} {
		if !strings.Contains(string(routes), want) {
			t.Errorf("routes lack %q:\n%s", want, routes)
		}
	}
	for _, want := range []string{
		"Name *string `json:\"-\"`",
		"Size *int `json:\"Size,omitzero\"`",
		`in.Name = c.label("Name")`,
		`in.NextToken = c.queryString("next-token")`,
		`v.required(join(path, "Name"), s.Name != nil)`,
		`v.number(join(path, "Size"), float64(*s.Size), bound(1), bound(10))`,
		`v.enum(join(path, "Color"), *s.Color, []string{"RED", "BLUE"})`,
		`v.number(join(path, "Count"), float64(*s.Count), bound(-2147483648), bound(2147483647))`,
		`v.union(path, []string{"Round", "Square"}, s.Round != nil, s.Square != nil)`,
		// Exact member names (exactKeys): how each body member is read,
		// none for path and query members.
		`case "Parts": return wireValue{"l", (*shape)(nil)}, true`,
		`case "Shape": return wireValue{"", (*shape)(nil)}, true`,
		`case "Size": return wireValue{}, true`,
		`return foldsAny(name, "Color", "Count", "Parts", "Shape", "Size")`,
		`func (*GetThingRequest) wireFolds(name []byte) bool { return false }`,
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(shapes)), " "), want) {
			t.Errorf("shapes lack %q", want)
		}
	}
}

func TestRunRejectsUnknownLocation(t *testing.T) {
	dir := t.TempDir()
	model := `{"operations":{"Op":{"name":"Op","http":{"method":"GET","requestUri":"/x"},"input":{"shape":"In"}}},
	"shapes":{"In":{"type":"structure","members":{"H":{"shape":"S","location":"header","locationName":"X-H"}}},"S":{"type":"string"}}}`
	path := filepath.Join(dir, "m.json")
	os.WriteFile(path, []byte(model), 0o644)
	if err := run(path, dir); err == nil || !strings.Contains(err.Error(), "header") {
		t.Fatalf("err=%v, want one naming the unsupported header location", err)
	}
}
