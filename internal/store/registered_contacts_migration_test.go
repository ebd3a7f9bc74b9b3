package store_test

import (
	"context"
	"testing"
)

// Migration 025 (contact tasks of the citizens an operator registered) goes
// down and up: its functions and timeline policies leave with it, and the
// tasks policy is put back in place both ways.
func TestRegisteredContactsMigrationGoesDownAndUp(t *testing.T) {
	ctx := context.Background()
	conn := seededConn(t)
	const present = `SELECT to_regprocedure('sportello_registered_contact(uuid)') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'case_events' AND policyname LIKE 'case_events_registered_contact%')`
	goesDownAndUp(t, conn, 25, present, "registered contact function or policies")
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regprocedure('sportello_registered_contact(uuid)') IS NOT NULL
		AND (SELECT count(*) FROM pg_policies WHERE tablename = 'case_events' AND policyname LIKE 'case_events_registered_contact%') = 2
		AND (SELECT qual FROM pg_policies WHERE tablename = 'tasks' AND policyname = 'tasks_tenant') LIKE '%sportello_registered_contact(id)%'`).Scan(&ok); err != nil || !ok {
		t.Fatalf("after going up again: %v %v", ok, err)
	}
}
