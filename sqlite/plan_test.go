package sqlite

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestQueryPlans checks that the queries that run on every ingestion,
// lookup and listing read a range of an index, never a whole table, and do
// not sort: each plan must name its index, and hold no SCAN of a table and
// no temporary b-tree.
func TestQueryPlans(t *testing.T) {
	db := mustOpen(t)
	now := time.Now().UnixMilli()
	after := profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: "p", Limit: 7,
		AfterUpdatedAt: time.Now(), AfterUniqueKey: "u", FilterKey: "k", FilterValues: []string{"a", "b"}}
	listSQL, listArgs := listObjectsSQL(profiles.ObjectQuery{DomainName: "d", ObjectType: "CTR", ProfileID: "p", Limit: 7}, now)
	pageSQL, pageArgs := listObjectsSQL(after, now)
	allUsageSQL, allUsageArgs := profileUsageSQL("d", "p", "", now)
	typeUsageSQL, typeUsageArgs := profileUsageSQL("d", "p", "CTR", now)
	historySQL, historyArgs := listHistorySQL(profiles.HistoryQuery{DomainName: "d", ProfileID: "p", Limit: 7})
	historyPageSQL, historyPageArgs := listHistorySQL(profiles.HistoryQuery{DomainName: "d", ProfileID: "p", Limit: 7,
		AfterCreatedAt: time.Now(), AfterID: "h", ObjectTypeName: "CTR", ActionType: profiles.ActionIngested, PerformedBy: "arn"})
	// Ingestion's look-up of the INGESTED record of an object received
	// again (service/ingest.go recordIngested).
	// TestListHistoryOfObjectKeyFromIndex checks that it compares the key
	// in the index entry.
	objectHistorySQL, objectHistoryArgs := listHistorySQL(profiles.HistoryQuery{DomainName: "d", ProfileID: "p", Limit: 1,
		ObjectTypeName: "CTR", ObjectKey: "u", ActionType: profiles.ActionIngested})
	deleteValuesSQL, deleteValuesArgs := deleteKeyValuesSQL("d", "p", "n", []string{"a", "b"}, now)
	for _, tt := range []struct {
		name  string
		query string
		args  []any
		want  []string // in the plan
	}{
		{"FindKeyRows", findKeyRowsSQL, []any{"d", "n", "v", now}, []string{"PRIMARY KEY (domain=? AND name=? AND value=?)", "sqlite_autoindex_objects_1"}},
		{"FindProfileIDs", findProfileIDsSQL, []any{"d", "n", "v", now}, []string{"PRIMARY KEY (domain=? AND name=? AND value=?)",
			"PRIMARY KEY (domain=? AND name=? AND value=? AND profile_id>?)", "sqlite_autoindex_objects_1"}},
		{"ListKeys", listKeysSQL, []any{"d", "p", now}, []string{"keys_by_profile (domain=? AND profile_id=?)"}},
		{"ListObjects", listSQL, listArgs, []string{"objects_by_profile (domain=? AND profile_id=? AND object_type=?)"}},
		{"ListObjectsPageFiltered", pageSQL, pageArgs, []string{"objects_by_profile (domain=? AND profile_id=? AND object_type=? AND (updated_at,unique_key)<(?,?))",
			"COVERING INDEX keys_by_profile (domain=? AND profile_id=? AND origin=? AND object_key=? AND name=? AND value=?)"}},
		{"ProfileUsage", allUsageSQL, allUsageArgs, []string{"COVERING INDEX objects_by_profile (domain=? AND profile_id=?)"}},
		{"ProfileUsageOfType", typeUsageSQL, typeUsageArgs, []string{"COVERING INDEX objects_by_profile (domain=? AND profile_id=? AND object_type=?)"}},
		{"DomainStats", objectStatsSQL, []any{"d", now}, []string{"COVERING INDEX objects_by_profile (domain=?)"}},
		{"DeleteExpired", selectExpiredSQL, []any{now, 100}, []string{"objects_by_expiry (expires_at>? AND expires_at<?)"}},
		{"ListHistory", historySQL, historyArgs, []string{"history_by_profile (domain=? AND profile_id=?)"}},
		{"ListHistoryPageFiltered", historyPageSQL, historyPageArgs, []string{"history_by_profile (domain=? AND profile_id=? AND (created_at,id)<(?,?))"}},
		{"ListHistoryOfObject", objectHistorySQL, objectHistoryArgs, []string{"history_by_profile (domain=? AND profile_id=?)"}},
		{"DeleteKeyValues", deleteValuesSQL, deleteValuesArgs, []string{"PRIMARY KEY (domain=? AND name=? AND value=? AND profile_id=?)"}},
		{"ClaimStreamEvents", streamEventsSQL, []any{"d", "s", 200}, []string{"stream_events_by_stream (domain=? AND stream=?)"}},
		{"NextStream", nextStreamSQL, []any{"d", "s"}, []string{"COVERING INDEX stream_events_by_stream (domain=? AND stream>?)"}},
		{"NextDomainStream", nextDomainStreamSQL, []any{"d"}, []string{"COVERING INDEX stream_events_by_stream (domain>?)"}},
		{"FirstStreamEvent", firstStreamEventSQL, []any{"d", "s"}, []string{"COVERING INDEX stream_events_by_stream (domain=? AND stream=?)", "SEARCH c USING PRIMARY KEY (domain=? AND stream=?)"}},
		{"DeleteObjectKeys", deleteObjectKeys, []any{"d", "p", "CTR", "u"}, []string{"keys_by_profile (domain=? AND profile_id=? AND origin=? AND object_key=?)"}},
		// The sweep's (and PutObject's over an expired object) removal of
		// the content of an object's history records.
		{"ClearProfileHistory", clearProfileHistorySQL, []any{"d", "p"}, []string{"(domain=? AND profile_id=?)"}},
		{"ClearHistory", clearHistorySQL, []any{"d", "p", `[["CTR","u"],["CTR","v"]]`}, []string{"history_by_profile (domain=? AND profile_id=?)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatalf("scan plan: %v", err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("read plan: %v", err)
			}
			text := strings.Join(plan, "\n")
			for _, line := range plan {
				// A json_each is a list the statement is given
				// (clearHistorySQL's objects), not a table.
				// FindProfileIDs's recursive CTE scans its own rows (one
				// a profile found), then steps by the primary key.
				if (strings.HasPrefix(line, "SCAN ") && !strings.HasPrefix(line, "SCAN (subquery") && !strings.HasPrefix(line, "SCAN json_each VIRTUAL TABLE") &&
					line != "SCAN ids" && line != "SCAN CONSTANT ROW") ||
					strings.Contains(line, "TEMP B-TREE") {
					t.Errorf("plan step %q reads a whole table or sorts; plan:\n%s", line, text)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan does not use %q; plan:\n%s", w, text)
				}
			}
		})
	}
}

// TestListHistoryOfObjectKeyFromIndex checks that ingestion's look-up of an
// object's history record (ListHistory by object type and key, which walks
// history_by_profile newest first) compares each entry's object_key in the
// index, before reading the entry's table row: in the program SQLite makes
// of the query, the first column read after the deferred seek of
// history_by_profile is its object_key, and the first comparison after it
// tests that column. Without object_key in history_by_profile (migration
// 0016) the first column read is the table's.
func TestListHistoryOfObjectKeyFromIndex(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	query, args := listHistorySQL(profiles.HistoryQuery{DomainName: "d", ProfileID: "p", Limit: 1,
		ObjectTypeName: "CTR", ObjectKey: "u", ActionType: profiles.ActionIngested})
	keyColumn := -1
	cols, err := db.rdb.QueryContext(ctx, `SELECT seqno FROM pragma_index_info('history_by_profile') WHERE name = 'object_key'`)
	if err != nil {
		t.Fatalf("index_info: %v", err)
	}
	for cols.Next() {
		if err := cols.Scan(&keyColumn); err != nil {
			t.Fatalf("scan index_info: %v", err)
		}
	}
	if err := cols.Err(); err != nil {
		t.Fatalf("read index_info: %v", err)
	}
	cols.Close()

	type op struct {
		name       string
		p1, p2, p3 int
	}
	rows, err := db.rdb.QueryContext(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	defer rows.Close()
	var program []op
	var text strings.Builder
	for rows.Next() {
		var o op
		var addr, p5 int
		var p4, comment any
		if err := rows.Scan(&addr, &o.name, &o.p1, &o.p2, &o.p3, &p4, &p5, &comment); err != nil {
			t.Fatalf("scan program: %v", err)
		}
		program = append(program, o)
		fmt.Fprintf(&text, "%d %s %d %d %d %v\n", addr, o.name, o.p1, o.p2, o.p3, p4)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read program: %v", err)
	}
	seek := slices.IndexFunc(program, func(o op) bool { return o.name == "DeferredSeek" })
	if seek < 0 || seek+2 >= len(program) {
		t.Fatalf("no deferred seek of an index; program:\n%s", text.String())
	}
	index, column, compare := program[seek].p1, program[seek+1], program[seek+2]
	if column.name != "Column" || column.p1 != index || column.p2 != keyColumn || keyColumn < 0 {
		t.Errorf("first read after the seek is %+v, want history_by_profile's object_key (cursor %d, column %d); program:\n%s",
			column, index, keyColumn, text.String())
	}
	if (compare.name != "Ne" && compare.name != "Eq") || compare.p3 != column.p3 {
		t.Errorf("%+v does not compare the key read into register %d; program:\n%s", compare, column.p3, text.String())
	}
}
