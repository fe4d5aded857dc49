package service

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

func TestApplyTasks(t *testing.T) {
	task := func(typ, op string, src []string, dst string, props map[string]string) profiles.FlowTask {
		return profiles.FlowTask{Type: typ, Operator: op, SourceFields: src, DestinationField: dst, Properties: props}
	}
	record := func() map[string]any {
		return map[string]any{"id": "c1", "email": "ann@example.com", "card": "4111111111111111", "score": json.Number("42"), "city": "Marseille", "empty": ""}
	}
	tests := []struct {
		name  string
		tasks []profiles.FlowTask
		want  map[string]any // nil: dropped
		err   string
	}{
		{"none", nil, record(), ""},
		{"projection", []profiles.FlowTask{task("Filter", "PROJECTION", []string{"id", "score"}, "", nil)},
			map[string]any{"id": "c1", "score": json.Number("42")}, ""},
		{"between keeps", []profiles.FlowTask{task("Filter", "BETWEEN", []string{"score"}, "", map[string]string{"LOWER_BOUND": "40", "UPPER_BOUND": "42"}),
			task("Map", "NO_OP", []string{"id"}, "Id", nil)}, map[string]any{"Id": "c1"}, ""},
		{"numbers compare as numbers", []profiles.FlowTask{task("Filter", "GREATER_THAN", []string{"score"}, "", map[string]string{"VALUE": "9"})}, record(), ""},
		{"equal to one of", []profiles.FlowTask{task("Filter", "EQUAL_TO", []string{"city"}, "", map[string]string{"VALUES": "Lyon,Nice"})}, nil, ""},
		{"equal to one of, spaced", []profiles.FlowTask{task("Filter", "EQUAL_TO", []string{"city"}, "", map[string]string{"VALUES": "Lyon, Marseille"})}, record(), ""},
		{"missing field filtered out", []profiles.FlowTask{task("Filter", "EQUAL_TO", []string{"nope"}, "", map[string]string{"VALUE": "x"})}, nil, ""},
		{"validate drops", []profiles.FlowTask{task("Validate", "VALIDATE_NON_NULL", []string{"empty"}, "", nil)}, nil, ""},
		{"validate terminates", []profiles.FlowTask{task("Validate", "VALIDATE_NUMERIC", []string{"city"}, "", map[string]string{"VALIDATION_ACTION": "TerminateFlow"})},
			nil, "city fails VALIDATE_NUMERIC"},
		{"mask and truncate", []profiles.FlowTask{task("Mask", "MASK_FIRST_N", []string{"card"}, "", map[string]string{"MASK_LENGTH": "12", "MASK_VALUE": "#"}),
			task("Truncate", "", []string{"city"}, "", map[string]string{"TRUNCATE_LENGTH": "4"}),
			task("Map", "NO_OP", []string{"card"}, "Card", nil), task("Map", "NO_OP", []string{"city"}, "City", nil)},
			map[string]any{"Card": "############1111", "City": "Mars"}, ""},
		{"mask last", []profiles.FlowTask{task("Mask", "MASK_LAST_N", []string{"id"}, "", map[string]string{"MASK_LENGTH": "5"}),
			task("Map", "NO_OP", []string{"id"}, "Id", nil)}, map[string]any{"Id": "**"}, ""},
	}
	for _, tt := range tests {
		tasks, err := compileTasks(tt.tasks)
		if err != nil {
			t.Fatalf("%s: compileTasks: %v", tt.name, err)
		}
		got, keep, err := applyTasks(tasks, record())
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == nil && keep:
			t.Errorf("%s: kept %v, want it dropped", tt.name, got)
		case tt.want != nil && (!keep || !reflect.DeepEqual(got, tt.want)):
			t.Errorf("%s: got %v (keep %v), want %v", tt.name, got, keep, tt.want)
		}
	}
}

func TestCompileTasksRefuses(t *testing.T) {
	for _, c := range []struct {
		task profiles.FlowTask
		want string
	}{
		{profiles.FlowTask{Type: "Arithmetic", Operator: "ADDITION", SourceFields: []string{"a"}}, "TaskType"},
		{profiles.FlowTask{Type: "Map", Operator: "PROJECTION", SourceFields: []string{"a"}, DestinationField: "b"}, "does not go with"},
		{profiles.FlowTask{Type: "Map", SourceFields: []string{"a"}}, "DestinationField"},
		{profiles.FlowTask{Type: "Filter", Operator: "BETWEEN", SourceFields: []string{"a"}, Properties: map[string]string{"LOWER_BOUND": "1"}}, "UPPER_BOUND"},
		{profiles.FlowTask{Type: "Filter", Operator: "EQUAL_TO", SourceFields: []string{"a"}}, "VALUE"},
		{profiles.FlowTask{Type: "Truncate", SourceFields: []string{"a"}}, "TRUNCATE_LENGTH"},
		{profiles.FlowTask{Type: "Validate", Operator: "VALIDATE_NON_NULL", SourceFields: []string{"a"}, Properties: map[string]string{"VALIDATION_ACTION": "Ignore"}}, "VALIDATION_ACTION"},
		{profiles.FlowTask{Type: "Filter", Operator: "PROJECTION"}, "SourceFields"},
		{profiles.FlowTask{Type: "Filter", Operator: "LESS_THAN", SourceFields: []string{"a"}, Properties: map[string]string{"VALUES": "1,2"}}, "VALUE"},
		{profiles.FlowTask{Type: "Mask", Operator: "MASK_ALL", SourceFields: []string{"a"}, Properties: map[string]string{"MASK_VALUE": "**"}}, "one character"},
	} {
		_, err := compileTasks([]profiles.FlowTask{c.task})
		if err == nil || !strings.Contains(profiles.ErrorMessage(err), c.want) {
			t.Errorf("%+v: %v, want an error naming %q", c.task, err, c.want)
		}
	}
}

// parseRecords collects a file's records (eachRecord).
func parseRecords(key string, data []byte) ([]map[string]any, error) {
	var out []map[string]any
	err := eachRecord(key, bytes.NewReader(data), func(r map[string]any) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func TestEachRecord(t *testing.T) {
	for _, c := range []struct {
		key, data string
		want      int
		err       string
	}{
		{"a.csv", "\xef\xbb\xbfid,email\n1,a@x\n2,\n", 2, ""},
		{"a.CSV", "id\n", 0, ""},
		{"a.json", `[{"id":1},{"id":2}]`, 2, ""},
		{"a.jsonl", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}", 3, ""},
		{"a", "", 0, ""},
		{"a.json", "not json", 0, "JSON lines"},
		{"a.json", "[1,2]", 0, "JSON array"},
		{"a.csv", "id,\"x\n", 0, "not CSV"},
		{"a.csv", "id,email\n1\n2,b@x,extra\n", 2, ""}, // ragged rows
		{"a.json", `[{"id":1},{"id":2}`, 0, "JSON array"},
	} {
		got, err := parseRecords(c.key, []byte(c.data))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %q: %v, want %q", c.key, c.data, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != c.want {
			t.Errorf("%s %q: %d records, %v; want %d", c.key, c.data, len(got), err, c.want)
		}
	}
	rows, _ := parseRecords("a.csv", []byte("id,email\n1,\n"))
	if _, ok := rows[0]["email"]; ok {
		t.Errorf("an empty CSV cell became a field: %v", rows[0])
	}
}

func TestScheduleInterval(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(5minutes)": 5 * time.Minute, "rate(1 hours)": time.Hour, "rate( 2 days )": 48 * time.Hour, "rate(1 minute)": time.Minute,
		"rate(365 days)": 365 * 24 * time.Hour, "rate(366 days)": 0, "rate(106752 days)": 0, "cron(0 * * * ? *)": 0, "rate(0 minutes)": 0,
	} {
		got, err := scheduleInterval(expr)
		if got != want || (want == 0) != (err != nil) {
			t.Errorf("scheduleInterval(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
}
