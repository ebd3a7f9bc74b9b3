package store_test

import (
	"testing"
)

// Migration 032 (district data, issue 15) goes down and up: the
// presentation columns, the ISTAT code, the row policies and the guard of
// districts leave with it and come back.
func TestDistrictDataMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	const present = `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'districts' AND column_name = 'presentation')
		OR EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'municipalities' AND column_name = 'istat_code')
		OR EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'districts')
		OR to_regprocedure('districts_data_guard()') IS NOT NULL`
	goesDownAndUp(t, conn, 32, present, "district data columns, policies or guard")
}
