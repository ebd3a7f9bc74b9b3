package store_test

import (
	"context"
	"testing"
)

// Migrations 025 (contact tasks of the citizens an operator registered) and
// 029 (their cases) go down and up. 029 first: its function and read
// policies leave with it, the timeline's tenant policy is put back as 001
// wrote it, and all come back. Then 025: its functions and timeline
// policies leave with it, and the tasks policy is put back in place both
// ways.
func TestRegisteredContactsMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	const cases = `SELECT to_regprocedure('sportello_registered_cases()') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_policies WHERE policyname IN ('cases_registered_read', 'vouchers_registered_read', 'case_events_registered_read'))
		OR (SELECT qual FROM pg_policies WHERE tablename = 'case_events' AND policyname = 'case_events_tenant') LIKE '%sportello_visible%'`
	goesDownAndUp(t, conn, 29, cases, "registered case function or policies")
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regprocedure('sportello_registered_cases()') IS NOT NULL
		AND (SELECT count(*) FROM pg_policies WHERE policyname IN ('cases_registered_read', 'vouchers_registered_read', 'case_events_registered_read')
		     AND cmd = 'SELECT') = 3
		AND (SELECT qual FROM pg_policies WHERE tablename = 'case_events' AND policyname = 'case_events_tenant') LIKE '%sportello_visible%'`).Scan(&ok); err != nil || !ok {
		t.Fatalf("029 after going up again: %v %v", ok, err)
	}

	const present = `SELECT to_regprocedure('sportello_registered_contact(uuid)') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'case_events' AND policyname LIKE 'case_events_registered_contact%')`
	goesDownAndUp(t, conn, 25, present, "registered contact function or policies")
	if err := conn.QueryRow(ctx, `SELECT to_regprocedure('sportello_registered_contact(uuid)') IS NOT NULL
		AND (SELECT count(*) FROM pg_policies WHERE tablename = 'case_events' AND policyname LIKE 'case_events_registered_contact%') = 2
		AND (SELECT qual FROM pg_policies WHERE tablename = 'tasks' AND policyname = 'tasks_tenant') LIKE '%sportello_registered_contact(id)%'`).Scan(&ok); err != nil || !ok {
		t.Fatalf("025 after going up again: %v %v", ok, err)
	}
}
