package store_test

import (
	"testing"
)

// Migration 026 (form versions and calls) goes down and up: its tables,
// functions and the funds' form_version column go and come back.
func TestCallsMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 26, `SELECT to_regclass('calls') IS NOT NULL AND to_regclass('form_versions') IS NOT NULL
		AND to_regprocedure('sportello_next_form_version(text)') IS NOT NULL
		AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'funds' AND column_name = 'form_version')`, "calls tables")
}
