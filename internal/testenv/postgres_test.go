package testenv_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
)

func TestPostgresGivesAnEmptyDatabase(t *testing.T) {
	dbURL := testenv.Postgres(t)
	db, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(),
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&n))
	require.Zero(t, n)
}

func TestDatabasesAreMigrated(t *testing.T) {
	for name, db := range testenv.Databases(t) {
		var n int
		require.NoError(t, db.NewSelect().TableExpr("tenants").ColumnExpr("count(*)").Scan(context.Background(), &n), name)
	}
}
