package testenv

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestPostgresFreshDatabases(t *testing.T) {
	ctx := context.Background()
	url1, st1 := Postgres(t)
	url2, st2 := Postgres(t)
	if url1 == url2 {
		t.Fatalf("two calls returned the same database %s", url1)
	}
	var db1, db2 string
	if err := st1.Pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db1); err != nil {
		t.Fatal(err)
	}
	if err := st2.Pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db2); err != nil {
		t.Fatal(err)
	}
	if db1 == db2 || !strings.HasPrefix(db1, "t_") || !strings.Contains(url1, db1) {
		t.Fatalf("databases %q (%s) and %q (%s) are not distinct fresh databases", db1, url1, db2, url2)
	}

	// Writes in one database are invisible in the other.
	if _, err := st1.Pool.Exec(ctx, `INSERT INTO districts (id, name) VALUES ('x', 'X')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st2.Pool.QueryRow(ctx, `SELECT count(*) FROM districts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second database sees %d districts, want 0", n)
	}
}

func TestPostgresMigratedSchema(t *testing.T) {
	ctx := context.Background()
	_, st := Postgres(t)
	for _, table := range []string{"districts", "municipalities", "users", "funds", "cases", "tasks", "accounts", "transfers", "vouchers"} {
		var ok bool
		if err := st.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+table).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("table %s missing after migration", table)
		}
	}
}

func TestPostgresParallel(t *testing.T) {
	for i := 0; i < 4; i++ {
		t.Run("db", func(t *testing.T) {
			t.Parallel()
			_, st := Postgres(t)
			if err := st.Pool.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPostgresDropsDatabaseAtCleanup(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		_, st := Postgres(t)
		if err := st.Pool.QueryRow(context.Background(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	if err := pg.admin.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after the test ended", name)
	}
}

func TestTemporalHealth(t *testing.T) {
	c := Temporal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(ctx, nil); err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	if TemporalAddress(t) == "" {
		t.Fatal("empty Temporal address")
	}
}

func TestTaskQueueUnique(t *testing.T) {
	a, b := TaskQueue(t), TaskQueue(t)
	if a == b {
		t.Fatalf("TaskQueue returned %q twice", a)
	}
	if !strings.HasPrefix(a, "test-TestTaskQueueUnique-") {
		t.Fatalf("TaskQueue = %q", a)
	}
}
