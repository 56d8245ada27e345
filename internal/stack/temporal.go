package stack

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/jitaccess/jitaccess/deploy"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/workflows"
)

// TemporalPorts are the ports of the single-process Temporal server (each service listens on
// its own gRPC and membership port).
type TemporalPorts struct {
	Frontend, FrontendHTTP, FrontendMembership int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	Metrics                                    int
}

// temporalPorts picks the server's ports. With a frontend port the others follow it
// (frontend+1 … frontend+9), so a restarted stack finds its cluster membership where it left
// it; they must be free. Without one every port is a free one.
func temporalPorts(frontend int) (TemporalPorts, error) {
	var p TemporalPorts
	ptrs := []*int{&p.Frontend, &p.History, &p.Matching, &p.Worker, &p.FrontendMembership, &p.HistoryMembership,
		&p.MatchingMembership, &p.WorkerMembership, &p.FrontendHTTP, &p.Metrics}
	seen := map[int]bool{}
	for i, ptr := range ptrs {
		if frontend != 0 {
			*ptr = frontend + i
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *ptr))
			if err != nil {
				return p, fmt.Errorf("the Temporal server needs ports %d-%d free: %w", frontend, frontend+len(ptrs)-1, err)
			}
			ln.Close()
			continue
		}
		membership := ptr == &p.FrontendMembership || ptr == &p.HistoryMembership || ptr == &p.MatchingMembership || ptr == &p.WorkerMembership
		for {
			n, err := temporaldev.FreePort()
			if membership {
				n, err = freeSmallPort()
			}
			if err != nil {
				return p, err
			}
			if !seen[n] {
				seen[n] = true
				*ptr = n
				break
			}
		}
	}
	return p, nil
}

// freeSmallPort finds a free port below 32768: the SQL schema keeps membership ports in a
// smallint, and the kernel's free ports come from the ephemeral range above it.
func freeSmallPort() (int, error) {
	for range 200 {
		n := 20000 + mrand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", n))
		if err == nil {
			ln.Close()
			return n, nil
		}
	}
	return 0, errors.New("no free port below 32768 for the Temporal server's membership")
}

// temporalConfig fills deploy/temporal/config.yaml.tmpl.
type temporalConfig struct {
	LogLevel                       string
	HistoryShards                  int
	Database, VisibilityDatabase   string
	PostgresAddr                   string
	PostgresUser, PostgresPassword string
	Ports                          TemporalPorts
	DynamicConfigFile              string
}

// writeTemporalConfig renders the server's configuration into <dir>/config/stack.yaml (the
// server reads <config dir>/<env>.yaml) and its dynamic configuration beside it.
func writeTemporalConfig(dir string, c temporalConfig) (configDir string, err error) {
	configDir = filepath.Join(dir, "config")
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return "", err
	}
	c.DynamicConfigFile = filepath.Join(configDir, "dynamicconfig.yaml")
	if err := os.WriteFile(c.DynamicConfigFile, deploy.TemporalDynamicConfig, 0o600); err != nil {
		return "", err
	}
	tmpl, err := template.New("temporal").Option("missingkey=error").Parse(deploy.TemporalConfig)
	if err != nil {
		return "", fmt.Errorf("deploy/temporal/config.yaml.tmpl: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, c); err != nil {
		return "", fmt.Errorf("deploy/temporal/config.yaml.tmpl: %w", err)
	}
	return configDir, os.WriteFile(filepath.Join(configDir, "stack.yaml"), buf.Bytes(), 0o600)
}

// postgresTarget is where a database lives, split the way the schema tool and the server's
// configuration want it.
type postgresTarget struct {
	adminURL       string
	host, port     string
	user, password string
}

func parsePostgres(adminURL string) (postgresTarget, error) {
	u, err := url.Parse(adminURL)
	if err != nil || u.Host == "" {
		return postgresTarget{}, fmt.Errorf("PostgreSQL URL %q is not a URL", adminURL)
	}
	t := postgresTarget{adminURL: adminURL, host: u.Hostname(), port: u.Port(), user: u.User.Username()}
	t.password, _ = u.User.Password()
	if t.port == "" {
		t.port = "5432"
	}
	if t.user == "" {
		t.user = "postgres"
	}
	return t, nil
}

func (t postgresTarget) addr() string { return t.host + ":" + t.port }

// databaseURL is the URL of database name on the same server.
func (t postgresTarget) databaseURL(name string) string {
	u, _ := url.Parse(t.adminURL)
	u.Path = "/" + name
	return u.String()
}

// ensureDatabases creates the databases that do not exist yet.
func (t postgresTarget) ensureDatabases(ctx context.Context, names ...string) error {
	db, err := sql.Open("pgx", t.adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, name := range names {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			return fmt.Errorf("PostgreSQL at %s: %w", t.addr(), err)
		}
		if exists {
			continue
		}
		if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
			return fmt.Errorf("create database %s: %w (the user needs CREATEDB)", name, err)
		}
	}
	return nil
}

// dropDatabases drops the databases, ending connections still open.
func (t postgresTarget) dropDatabases(ctx context.Context, names ...string) error {
	db, err := sql.Open("pgx", t.adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var errs []error
	for _, name := range names {
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// setupSchema brings a Temporal database to the schema of the pinned server with
// temporal-sql-tool: setup-schema at version 0.0 on a fresh database, then update-schema with
// the schema embedded in the tool (schemaName e.g. postgresql/v12/temporal). Both are no-ops
// on a database already current.
func (t postgresTarget) setupSchema(ctx context.Context, tool, logFile, database, schemaName string) error {
	fresh, err := t.lacksSchemaVersion(ctx, database)
	if err != nil {
		return err
	}
	run := func(args ...string) error {
		argv := append([]string{"--endpoint", t.host, "--port", t.port, "--user", t.user,
			"--database", database, "--plugin", "postgres12"}, args...)
		cmd := exec.CommandContext(ctx, tool, argv...)
		// The password goes through the environment, never the process list.
		cmd.Env = append(os.Environ(), "SQL_PASSWORD="+t.password)
		out, err := cmd.CombinedOutput()
		if f, ferr := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); ferr == nil {
			_, _ = f.Write(out)
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("temporal-sql-tool %s on %s: %w (its output: %s)", args[0], database, err, logFile)
		}
		return nil
	}
	if fresh {
		if err := run("setup-schema", "--version", "0.0"); err != nil {
			return err
		}
	}
	return run("update-schema", "--schema-name", schemaName)
}

func (t postgresTarget) lacksSchemaVersion(ctx context.Context, database string) (bool, error) {
	db, err := sql.Open("pgx", t.databaseURL(database))
	if err != nil {
		return false, err
	}
	defer db.Close()
	var table sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_version')::text`).Scan(&table); err != nil {
		return false, fmt.Errorf("database %s: %w", database, err)
	}
	return !table.Valid, nil
}

// temporalReady answers nil once the frontend at address passes its health check.
func temporalReady(address string) func(context.Context) error {
	return func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		c, err := client.DialContext(cctx, client.Options{HostPort: address, Logger: quietLogger{}})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.CheckHealth(cctx, &client.CheckHealthRequest{})
		return err
	}
}

// prepareNamespace registers the namespace when it is missing and the product's custom search
// attributes in the SQL visibility store, then checks they are there with their types.
func prepareNamespace(ctx context.Context, address, namespace string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: address, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer c.Close()
	nc, err := client.NewNamespaceClient(client.Options{HostPort: address, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(7 * 24 * time.Hour),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	// A namespace just registered takes a moment to reach every service's cache.
	want := map[string]enums.IndexedValueType{}
	for _, d := range workflows.SearchAttributeDefinitions() {
		want[d.Name] = d.IndexedValueType()
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err = ensureSearchAttributes(ctx, c, namespace, want)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func ensureSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enums.IndexedValueType) error {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enums.IndexedValueType{}
	for name, typ := range want {
		have, ok := resp.CustomAttributes[name]
		switch {
		case !ok:
			missing[name] = typ
		case have != typ:
			return fmt.Errorf("search attribute %s has type %s, want %s", name, have, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return fmt.Errorf("added %d search attributes; checking again", len(missing))
}

// quietLogger silences the SDK while the runner polls a starting server.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

func itoa(n int) string { return strconv.Itoa(n) }
