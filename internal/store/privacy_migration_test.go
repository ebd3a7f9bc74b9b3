package store_test

import (
	"context"
	"testing"
)

// Migration 021 (privacy) goes down and up; its JSON scrub replaces every
// text of an answer but ids, timestamps, the municipality and workflow
// codes, and keeps numbers, booleans and the shape.
func TestPrivacyMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	var got string
	if err := conn.QueryRow(ctx, `SELECT sportello_scrub_json($1::jsonb, 'PSN-X')::text`,
		`{"applicant": {"first_name": "Maria", "tax_code": "RSSMRA80A41L319X"}, "residence": {"municipality": "tradate",
		  "address": "Via Roma 1"}, "household": {"members": 3}, "declarations": {"truthful": true}, "delivery": "download",
		  "task_id": "t-1", "due_at": "2026-01-01", "notes": ["a", 2, null]}`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	const want = `{"notes": ["PSN-X", 2, null], "due_at": "2026-01-01", "task_id": "t-1", "delivery": "download", "applicant": ` +
		`{"tax_code": "PSN-X", "first_name": "PSN-X"}, "household": {"members": 3}, "residence": {"address": "PSN-X", ` +
		`"municipality": "tradate"}, "declarations": {"truthful": true}}`
	if got != want {
		t.Errorf("scrubbed:\n%s\nwant\n%s", got, want)
	}
	goesDownAndUp(t, conn, 21, `SELECT to_regclass('retention_runs') IS NOT NULL
		OR EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'pseudonymised_at')`,
		"privacy table and columns")
}
