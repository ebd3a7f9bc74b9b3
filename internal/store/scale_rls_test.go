package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// tenantCase is a case with one open task and two timeline events.
type tenantCase struct {
	id, task string
}

func (f *fixture) tenantCase(t *testing.T, id, district, municipality string, applicant int64) tenantCase {
	t.Helper()
	ctx := context.Background()
	c := tenantCase{id: id, task: uuid.NewString()}
	err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		var fund string
		if err := tx.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = $1 AND form_id = 'buoni-spesa' LIMIT 1`,
			municipality).Scan(&fund); err != nil {
			return fmt.Errorf("fund of %s: %w", municipality, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
				form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, $2, $3, $4, $1, 'buoni-spesa', 1, $5, '{}', 'in_review', 'case:' || $1, 'h')`,
			id, district, municipality, applicant, fund); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tasks (id, case_id, district_id, municipality_id, status, due_at, created_at)
			VALUES ($1, $2, $3, $4, 'open', now() + interval '3 days', now())`, c.task, id, district, municipality); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, event_key, at, type, actor)
			VALUES ($1, $1 || ':submitted', now(), 'submitted', 'citizen'), ($1, $1 || ':precheck', now(), 'precheck', 'system')`, id)
		return err
	})
	if err != nil {
		t.Fatalf("tenant case %s: %v", id, err)
	}
	return c
}

// TestScalePoliciesKeepTenantsApart checks the policies of migration 003
// (settings read once per statement) and the tenant predicates of the task
// queries: municipalities, districts and citizens stay apart, for reads and
// for writes, through plain SQL and through the store's inbox and timeline.
func TestScalePoliciesKeepTenantsApart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var vedanoCitizen, padovaCitizen int64
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = 'cittadino.vedano'`).Scan(&vedanoCitizen); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id)
			VALUES ('cittadino.limena2', 'x', 'citizen', 'Cittadino Limena', 'alta-padovana', 'limena') RETURNING id`).Scan(&padovaCitizen)
	}); err != nil {
		t.Fatal(err)
	}
	tradate := f.tenantCase(t, "BS-RLS-1", "tradate", "tradate", f.citizen)
	vedano := f.tenantCase(t, "BS-RLS-2", "tradate", "vedano-olona", vedanoCitizen)
	padova := f.tenantCase(t, "BS-RLS-3", "alta-padovana", "limena", padovaCitizen)
	all := []tenantCase{tradate, vedano, padova}

	system := store.System
	tradateSup := store.Scope{Kind: "supervisor", District: "tradate"}
	padovaSup := store.Scope{Kind: "supervisor", District: "alta-padovana"}
	tradateOp := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate"}
	vedanoOp := store.Scope{Kind: "operator", District: "tradate", Municipality: "vedano-olona"}
	crossedOp := store.Scope{Kind: "operator", District: "alta-padovana", Municipality: "tradate"}
	owner := store.Scope{Kind: "citizen", District: "tradate", Municipality: "tradate", UserID: f.citizen}
	vedanoOwner := store.Scope{Kind: "citizen", District: "tradate", Municipality: "vedano-olona", UserID: vedanoCitizen}
	stranger := store.Scope{Kind: "citizen", District: "tradate", UserID: f.citizen + 1000}
	noUser := store.Scope{Kind: "citizen", District: "tradate"}
	merchant := store.Scope{Kind: "merchant", District: "tradate", Municipality: "tradate", UserID: f.citizen}
	supervisorAsOperator := store.Scope{Kind: "operator", District: "tradate"}

	for _, c := range []struct {
		name  string
		scope store.Scope
		cases []tenantCase // visible cases (and their events)
		tasks []tenantCase // cases whose task is visible
	}{
		{"system", system, all, all},
		{"supervisor of Tradate", tradateSup, []tenantCase{tradate, vedano}, []tenantCase{tradate, vedano}},
		{"supervisor of Alta Padovana", padovaSup, []tenantCase{padova}, []tenantCase{padova}},
		{"operator of Tradate", tradateOp, []tenantCase{tradate}, []tenantCase{tradate}},
		{"operator of Vedano Olona", vedanoOp, []tenantCase{vedano}, []tenantCase{vedano}},
		{"operator with another district's municipality", crossedOp, nil, nil},
		{"operator without a municipality", supervisorAsOperator, nil, nil},
		{"applicant in Tradate", owner, []tenantCase{tradate}, nil},
		{"applicant in Vedano Olona", vedanoOwner, []tenantCase{vedano}, nil},
		{"another citizen", stranger, nil, nil},
		{"citizen without a user", noUser, nil, nil},
		{"merchant", merchant, nil, nil},
		{"no scope", store.Scope{}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cases, tasks, events []string
			err := f.st.InTx(ctx, c.scope, func(tx pgx.Tx) error {
				for _, q := range []struct {
					sql string
					out *[]string
				}{
					{`SELECT id FROM cases WHERE id LIKE 'BS-RLS-%' ORDER BY id`, &cases},
					{`SELECT id::text FROM tasks WHERE case_id LIKE 'BS-RLS-%' ORDER BY case_id`, &tasks},
					{`SELECT event_key FROM case_events WHERE case_id LIKE 'BS-RLS-%' ORDER BY case_id, event_key`, &events},
				} {
					rows, err := tx.Query(ctx, q.sql)
					if err != nil {
						return err
					}
					if *q.out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var wantCases, wantTasks, wantEvents []string
			for _, v := range c.cases {
				wantCases = append(wantCases, v.id)
				wantEvents = append(wantEvents, v.id+":precheck", v.id+":submitted")
			}
			for _, v := range c.tasks {
				wantTasks = append(wantTasks, v.task)
			}
			if !slices.Equal(cases, wantCases) {
				t.Errorf("cases: got %v, want %v", cases, wantCases)
			}
			if !slices.Equal(tasks, wantTasks) {
				t.Errorf("tasks: got %v, want %v", tasks, wantTasks)
			}
			if !slices.Equal(events, wantEvents) {
				t.Errorf("events: got %v, want %v", events, wantEvents)
			}

			// The inbox as the API reads it, in every status filter.
			for _, status := range []string{"open", "active", "all"} {
				list, total, err := f.st.API().Tasks(ctx, c.scope, store.TaskFilter{Status: status, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, v := range list {
					if strings.HasPrefix(v.CaseID, "BS-RLS-") {
						got = append(got, v.ID)
					}
				}
				slices.Sort(got)
				want := slices.Clone(wantTasks)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("inbox %s: got %v, want %v", status, got, want)
				}
				if total != (store.Count{N: len(list)}) {
					t.Errorf("inbox %s: total %+v for %d tasks", status, total, len(list))
				}
			}
			// The timeline of each case: visible exactly when the case is.
			for _, v := range all {
				ev, err := f.st.API().Timeline(ctx, c.scope, v.id)
				visible := slices.Contains(c.cases, v)
				switch {
				case visible && (err != nil || len(ev) != 2):
					t.Errorf("timeline of %s: %d events, %v", v.id, len(ev), err)
				case !visible && !errors.Is(err, store.ErrNotFound):
					t.Errorf("timeline of %s: %d events, %v; want not found", v.id, len(ev), err)
				}
			}
		})
	}

	// Writes are fenced by the same policies.
	affected := func(scope store.Scope, sql string, args ...any) (int64, error) {
		var n int64
		err := f.st.InTx(ctx, scope, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, sql, args...)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	for _, w := range []struct {
		name  string
		scope store.Scope
		sql   string
		args  []any
		want  int64 // rows affected; -1: refused with an error
	}{
		{"operator claims a task of their municipality", tradateOp, `UPDATE tasks SET status = 'claimed' WHERE id = $1`, []any{tradate.task}, 1},
		{"operator touches another municipality's task", vedanoOp, `UPDATE tasks SET status = 'done' WHERE id = $1`, []any{tradate.task}, 0},
		{"operator moves a task to another municipality", tradateOp, `UPDATE tasks SET municipality_id = 'vedano-olona' WHERE id = $1`, []any{tradate.task}, -1},
		{"operator opens a task in another municipality", vedanoOp, `INSERT INTO tasks (id, case_id, district_id, municipality_id, status, due_at, created_at)
			VALUES ($1, $2, 'tradate', 'tradate', 'open', now(), now())`, []any{uuid.NewString(), tradate.id}, -1},
		{"supervisor touches another district's task", padovaSup, `UPDATE tasks SET status = 'done' WHERE id = $1`, []any{tradate.task}, 0},
		{"supervisor touches another district's case", padovaSup, `UPDATE cases SET status = 'rejected' WHERE id = $1`, []any{vedano.id}, 0},
		{"supervisor files a case in another district", padovaSup, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ('BS-RLS-X', 'tradate', 'tradate', $1, 'T', 'buoni-spesa', 1, $2, '{}', 'submitted', 'case:BS-RLS-X', 'h')`, []any{f.citizen, f.fundID}, -1},
		{"citizen opens a task", owner, `INSERT INTO tasks (id, case_id, district_id, municipality_id, status, due_at, created_at)
			VALUES ($1, $2, 'tradate', 'tradate', 'open', now(), now())`, []any{uuid.NewString(), tradate.id}, -1},
		{"citizen hands their case to someone else", owner, `UPDATE cases SET applicant_id = $1 WHERE id = $2`, []any{vedanoCitizen, tradate.id}, -1},
		{"citizen touches another citizen's case", owner, `UPDATE cases SET status = 'closed' WHERE id = $1`, []any{vedano.id}, 0},
		{"merchant touches a case", merchant, `UPDATE cases SET status = 'closed' WHERE id = $1`, []any{tradate.id}, 0},
	} {
		n, err := affected(w.scope, w.sql, w.args...)
		switch {
		case w.want < 0 && err == nil:
			t.Errorf("%s: allowed (%d rows)", w.name, n)
		case w.want >= 0 && (err != nil || n != w.want):
			t.Errorf("%s: %d rows, %v; want %d rows", w.name, n, err, w.want)
		}
	}
}
