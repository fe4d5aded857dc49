package sqlite

import (
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
	objectHistorySQL, objectHistoryArgs := listHistorySQL(profiles.HistoryQuery{DomainName: "d", ProfileID: "p", Limit: 1,
		ObjectTypeName: "CTR", ObjectKey: "u", ActionType: profiles.ActionIngested})
	deleteValuesSQL, deleteValuesArgs := deleteKeyValuesSQL("d", "p", "n", []string{"a", "b"}, now)
	for _, tt := range []struct {
		name  string
		query string
		args  []any
		want  []string // in the plan
	}{
		{"FindProfileIDs", findProfileIDsSQL, []any{"d", "n", "v", now}, []string{"PRIMARY KEY (domain=? AND name=? AND value=?)", "sqlite_autoindex_objects_1"}},
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
		{"ListHistoryOfObject", objectHistorySQL, objectHistoryArgs, []string{"history_by_object (domain=? AND profile_id=? AND object_type=? AND object_key=?)"}},
		{"DeleteKeyValues", deleteValuesSQL, deleteValuesArgs, []string{"PRIMARY KEY (domain=? AND name=? AND value=? AND profile_id=?)"}},
		{"ClaimStreamEvents", streamEventsSQL, []any{"d", "s", 200}, []string{"stream_events_by_stream (domain=? AND stream=?)"}},
		{"NextStream", nextStreamSQL, []any{"d", "s"}, []string{"COVERING INDEX stream_events_by_stream (domain=? AND stream>?)"}},
		{"NextDomainStream", nextDomainStreamSQL, []any{"d"}, []string{"COVERING INDEX stream_events_by_stream (domain>?)"}},
		{"FirstStreamEvent", firstStreamEventSQL, []any{"d", "s"}, []string{"COVERING INDEX stream_events_by_stream (domain=? AND stream=?)", "SEARCH c USING PRIMARY KEY (domain=? AND stream=?)"}},
		{"DeleteObjectKeys", deleteObjectKeys, []any{"d", "p", "CTR", "u"}, []string{"keys_by_profile (domain=? AND profile_id=? AND origin=? AND object_key=?)"}},
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
				if (strings.HasPrefix(line, "SCAN ") && !strings.HasPrefix(line, "SCAN (subquery")) || strings.Contains(line, "TEMP B-TREE") {
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
