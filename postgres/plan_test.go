package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestQueryPlans checks that the queries that run on every ingestion,
// lookup and listing can read a range of an index and need no sort: with
// sequential and bitmap scans disabled (the tables here are empty, so the
// planner would otherwise rightly prefer them), each plan must name its
// index, and hold no Seq Scan and no Sort.
func TestQueryPlans(t *testing.T) {
	db := mustOpen(t, nil)
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
	for _, tt := range []struct {
		name  string
		query string
		args  []any
		want  []string // in the plan
	}{
		{"FindProfileIDs", findProfileIDsSQL, []any{"d", "n", "v", now}, []string{"keys_pkey", "objects_pkey"}},
		{"ListKeys", listKeysSQL, []any{"d", "p", now}, []string{"keys_by_profile"}},
		{"ListObjects", listSQL, listArgs, []string{"objects_by_profile"}},
		{"ListObjectsPageFiltered", pageSQL, pageArgs, []string{"objects_by_profile", "keys_by_profile"}},
		{"ProfileUsage", allUsageSQL, allUsageArgs, []string{"objects_by_profile"}},
		{"ProfileUsageOfType", typeUsageSQL, typeUsageArgs, []string{"objects_by_profile"}},
		{"DomainStats", domainStatsSQL, []any{"d", now}, []string{"objects_by_profile", "profiles_pkey", "domains_pkey"}},
		{"DeleteExpired", deleteExpiredSQL, []any{now, 100, "EXPIRED", "openprofiles"}, []string{"objects_by_expiry", "domains_pkey", "history_by_object"}},
		{"DropExpired", dropExpiredSQL, []any{"d", "CTR", "u", now}, []string{"objects_pkey", "keys_by_profile", "history_by_object"}},
		{"DeleteObject", deleteObjectSQL, []any{"d", "CTR", "u", now}, []string{"objects_pkey", "keys_by_profile", "history_by_object"}},
		{"ClearProfileHistory", clearProfileHistorySQL, []any{"d", "p"}, []string{"history_"}},
		{"DeleteTypeObjects", deleteTypeObjectsSQL, []any{"d", "CTR", "u", 500, now}, []string{"objects_pkey", "keys_by_profile"}},
		{"DeleteKeyValues", deleteKeyValuesSQL, []any{"d", "n", "p", []string{"a", "b"}, now}, []string{"Index Scan using keys_"}},
		{"ListHistory", historySQL, historyArgs, []string{"history_by_profile"}},
		{"ListHistoryPageFiltered", historyPageSQL, historyPageArgs, []string{"history_by_profile"}},
		{"ListHistoryOfObject", objectHistorySQL, objectHistoryArgs, []string{"history_by_object"}},
		{"ListKMSKeys", listKMSKeysSQL, []any{"k", 7}, []string{"kms_keys_pkey"}},
		{"ListKMSAliases", listKMSAliasesSQL, []any{"alias/a", 7}, []string{"kms_aliases_pkey"}},
		{"ListKMSAliasesOfKey", listKMSAliasesOfKeySQL, []any{"k", "alias/a", 7}, []string{"kms_aliases_by_key"}},
		{"ListKMSGrants", listKMSGrantsSQL, []any{"k", "g", 7}, []string{"kms_grants_pkey"}},
		{"FindKMSGrant", findKMSGrantSQL, []any{"k", "g"}, []string{"kms_grants_"}},
		{"FindKMSGrantByToken", findKMSGrantByTokenSQL, []any{"t"}, []string{"kms_grants_by_token"}},
		{"ListConfigs", listConfigsSQL, []any{"d", profiles.ConfigLayout, "l", 7}, []string{"configs_pkey"}},
		{"DeleteDeadLetterCopiesBefore", deleteDeadLetterCopiesSQL, []any{now, 100}, []string{"dead_letter_copies_by_age", "dead_letter_copies_pkey"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			tx, err := db.pool.Begin(ctx)
			if err != nil {
				t.Fatalf("Begin: %v", err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
				t.Fatalf("SET: %v", err)
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+tt.query, tt.args...)
			if err != nil {
				t.Fatalf("EXPLAIN: %v", err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatalf("scan plan: %v", err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("read plan: %v", err)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "Seq Scan") || strings.Contains(text, "Sort") {
				t.Errorf("the plan reads a whole table or sorts:\n%s", text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan does not use %q:\n%s", w, text)
				}
			}
		})
	}
}
