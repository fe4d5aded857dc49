package service

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
)

// flowTask is a checked task of a flow (AppFlow's task types, with the S3
// connector's operators).
type flowTask struct {
	profiles.FlowTask
	value, lower, upper string // VALUE, LOWER_BOUND, UPPER_BOUND
	values              []string
	dropRecord          bool // Validate: drop the record (else end the step)
	maskValue           string
	maskLength          int
	truncateLength      int
}

// taskOperators lists the operators each task type takes.
var taskOperators = map[string][]string{
	"Filter":   {"PROJECTION", "EQUAL_TO", "NOT_EQUAL_TO", "LESS_THAN", "GREATER_THAN", "LESS_THAN_OR_EQUAL_TO", "GREATER_THAN_OR_EQUAL_TO", "BETWEEN"},
	"Map":      {"NO_OP"},
	"Mask":     {"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"},
	"Truncate": {"NO_OP"},
	"Validate": {"VALIDATE_NON_NULL", "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC", "NO_OP"},
}

// compileTasks checks a flow's tasks. Arithmetic and Merge tasks are
// refused.
func compileTasks(tasks []profiles.FlowTask) ([]flowTask, error) {
	out := make([]flowTask, len(tasks))
	for i, t := range tasks {
		at := fmt.Sprintf("FlowDefinition.Tasks[%d]", i)
		ops, ok := taskOperators[t.Type]
		if !ok {
			return nil, profiles.Errorf(profiles.EINVALID, "%s.TaskType %q: OpenProfiles runs Filter, Map, Mask, Truncate and Validate tasks.", at, t.Type)
		}
		op := t.Operator
		if op == "" {
			op = "NO_OP"
		}
		if !slices.Contains(ops, op) {
			return nil, profiles.Errorf(profiles.EINVALID, "%s.ConnectorOperator.S3 %q does not go with TaskType %s (one of %s).", at, t.Operator, t.Type, strings.Join(ops, ", "))
		}
		if len(t.SourceFields) == 0 {
			return nil, profiles.Errorf(profiles.EINVALID, "%s.SourceFields must name a field.", at)
		}
		ft := flowTask{FlowTask: t, value: t.Properties["VALUE"], lower: t.Properties["LOWER_BOUND"], upper: t.Properties["UPPER_BOUND"]}
		ft.Operator = op
		if v := t.Properties["VALUES"]; v != "" {
			if op != "EQUAL_TO" && op != "NOT_EQUAL_TO" {
				return nil, profiles.Errorf(profiles.EINVALID, "%s: VALUES goes with EQUAL_TO and NOT_EQUAL_TO; %s takes VALUE.", at, op)
			}
			for _, one := range strings.Split(v, ",") {
				ft.values = append(ft.values, strings.TrimSpace(one))
			}
		}
		switch {
		case t.Type == "Map" && t.DestinationField == "":
			return nil, profiles.Errorf(profiles.EINVALID, "%s.DestinationField is required by a Map task.", at)
		case t.Type == "Filter" && op == "BETWEEN" && (ft.lower == "" || ft.upper == ""):
			return nil, profiles.Errorf(profiles.EINVALID, "%s: BETWEEN needs the LOWER_BOUND and UPPER_BOUND task properties.", at)
		case t.Type == "Filter" && op != "PROJECTION" && op != "BETWEEN" && ft.value == "" && len(ft.values) == 0:
			return nil, profiles.Errorf(profiles.EINVALID, "%s: %s needs the VALUE task property.", at, op)
		case t.Type == "Mask":
			ft.maskValue = cmp.Or(t.Properties["MASK_VALUE"], "*")
			if utf8.RuneCountInString(ft.maskValue) != 1 {
				return nil, profiles.Errorf(profiles.EINVALID, "%s: MASK_VALUE must be one character.", at)
			}
			if op != "MASK_ALL" {
				n, err := strconv.Atoi(t.Properties["MASK_LENGTH"])
				if err != nil || n < 0 {
					return nil, profiles.Errorf(profiles.EINVALID, "%s: %s needs MASK_LENGTH, a whole number.", at, op)
				}
				ft.maskLength = n
			}
		case t.Type == "Truncate":
			n, err := strconv.Atoi(t.Properties["TRUNCATE_LENGTH"])
			if err != nil || n < 0 {
				return nil, profiles.Errorf(profiles.EINVALID, "%s: a Truncate task needs TRUNCATE_LENGTH, a whole number.", at)
			}
			ft.truncateLength = n
		case t.Type == "Validate":
			switch a := t.Properties["VALIDATION_ACTION"]; a {
			case "", "DropRecord":
				ft.dropRecord = true
			case "TerminateFlow":
			default:
				return nil, profiles.Errorf(profiles.EINVALID, "%s: VALIDATION_ACTION %q must be DropRecord or TerminateFlow.", at, a)
			}
		}
		out[i] = ft
	}
	return out, nil
}

// text returns a record's field as text ("" and false when it has none).
func text(r map[string]any, field string) (string, bool) {
	v, ok := r[field]
	if !ok || v == nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// compare orders two values: as numbers when both are, else as text.
func compare(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// applyTasks runs a flow's tasks on a record, in this order whatever their
// order in the flow (as AppFlow does): projections keep only their fields,
// filters and validations keep or drop the record (or refuse it: an
// error), masks and truncations change values, and, when the flow has Map
// tasks, the record ingested holds only their destination fields. It
// returns the record to ingest and whether to ingest it.
func applyTasks(tasks []flowTask, r map[string]any) (map[string]any, bool, error) {
	var keep map[string]bool
	for _, t := range tasks {
		if t.Type == "Filter" && t.Operator == "PROJECTION" {
			if keep == nil {
				keep = map[string]bool{}
			}
			for _, f := range t.SourceFields {
				keep[f] = true
			}
		}
	}
	if keep != nil {
		for f := range r {
			if !keep[f] {
				delete(r, f)
			}
		}
	}
	for _, t := range tasks {
		field := t.SourceFields[0]
		v, has := text(r, field)
		switch t.Type {
		case "Filter":
			if t.Operator == "PROJECTION" {
				continue
			}
			if !has || !filterHolds(t, v) {
				return nil, false, nil
			}
		case "Validate":
			if validates(t.Operator, v, has) {
				continue
			}
			if t.dropRecord {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("field %s fails %s (VALIDATION_ACTION TerminateFlow)", field, t.Operator)
		}
	}
	for _, t := range tasks {
		field := t.SourceFields[0]
		v, has := text(r, field)
		if !has {
			continue
		}
		switch t.Type {
		case "Mask":
			r[field] = mask(t, v)
		case "Truncate":
			r[field] = cutChars(v, t.truncateLength)
		}
	}
	var out map[string]any
	for _, t := range tasks {
		if t.Type != "Map" {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		if v, ok := r[t.SourceFields[0]]; ok {
			out[t.DestinationField] = v
		}
	}
	if out == nil {
		out = r
	}
	return out, len(out) > 0, nil
}

func filterHolds(t flowTask, v string) bool {
	switch t.Operator {
	case "EQUAL_TO":
		if len(t.values) > 0 {
			return slices.ContainsFunc(t.values, func(x string) bool { return compare(v, x) == 0 })
		}
		return compare(v, t.value) == 0
	case "NOT_EQUAL_TO":
		if len(t.values) > 0 {
			return !slices.ContainsFunc(t.values, func(x string) bool { return compare(v, x) == 0 })
		}
		return compare(v, t.value) != 0
	case "LESS_THAN":
		return compare(v, t.value) < 0
	case "GREATER_THAN":
		return compare(v, t.value) > 0
	case "LESS_THAN_OR_EQUAL_TO":
		return compare(v, t.value) <= 0
	case "GREATER_THAN_OR_EQUAL_TO":
		return compare(v, t.value) >= 0
	case "BETWEEN":
		return compare(v, t.lower) >= 0 && compare(v, t.upper) <= 0
	}
	return true
}

func validates(op, v string, has bool) bool {
	n, err := strconv.ParseFloat(v, 64)
	switch op {
	case "VALIDATE_NON_NULL":
		return has && v != ""
	case "VALIDATE_NON_ZERO":
		return has && (err != nil || n != 0)
	case "VALIDATE_NON_NEGATIVE":
		return has && err == nil && n >= 0
	case "VALIDATE_NUMERIC":
		return has && err == nil
	}
	return true
}

func mask(t flowTask, v string) string {
	rs := []rune(v)
	from, to := 0, len(rs)
	switch t.Operator {
	case "MASK_FIRST_N":
		to = min(t.maskLength, len(rs))
	case "MASK_LAST_N":
		from = max(0, len(rs)-t.maskLength)
	}
	return string(rs[:from]) + strings.Repeat(t.maskValue, to-from) + string(rs[to:])
}
