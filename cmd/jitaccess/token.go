package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"strings"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// runToken issues an API token for a member of the MSP's staff, creating the person when the
// e-mail is new. The token is printed once; only its hash is stored.
func runToken(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return &usageError{"usage: jitaccess token create --role admin|technician|auditor --email E [--name N] [--tenants ID,…|*]"}
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	role := fs.String("role", "technician", "admin, technician or auditor (read-only)")
	tenants := fs.String("tenants", "", "auditor only: comma-separated tenant ids the auditor may see, or * for every tenant (replaces the previous list)")
	email := fs.String("email", "", "the person's e-mail (required)")
	name := fs.String("name", "", "display name for a new person (defaults to the e-mail)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *role != store.RoleAdmin && *role != store.RoleTechnician && *role != store.RoleAuditor {
		return &usageError{fmt.Sprintf("--role must be admin, technician or auditor, not %q", *role)}
	}
	if *tenants != "" && *role != store.RoleAuditor {
		return &usageError{"--tenants is for --role auditor"}
	}
	if _, err := mail.ParseAddress(*email); err != nil || *email == "" {
		return &usageError{"--email must be an e-mail address"}
	}
	if *name == "" {
		*name = *email
	}
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	sealer, err := seal.New(cfg.EncryptionKey, cfg.PreviousKeys...)
	if err != nil {
		return err
	}
	db, err := schema.Open(ctx, cfg.DatabaseURL, app.SQLitePath(cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := schema.Migrate(ctx, db); err != nil {
		return err
	}
	st := store.New(db, sealer)
	tech, err := st.TechnicianByEmail(ctx, *email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		var token string
		tech, token, err = st.CreateTechnician(ctx, *email, *name, *role)
		if err != nil {
			return err
		}
		if err := setAuditorTenants(ctx, st, tech, *tenants); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "created %s %s (%s)\ntoken: %s\n", tech.Role, tech.Email, tech.ID, token)
		return nil
	case err != nil:
		return err
	}
	if tech.Role != *role {
		return fmt.Errorf("%s is a %s; change the role through the API, not with a token", tech.Email, tech.Role)
	}
	if err := setAuditorTenants(ctx, st, tech, *tenants); err != nil {
		return err
	}
	token, err := st.NewToken(ctx, tech.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s %s (%s)\ntoken: %s\n", tech.Role, tech.Email, tech.ID, token)
	return nil
}

// setAuditorTenants gives an auditor the comma-separated tenants ("*": all); "" leaves them.
func setAuditorTenants(ctx context.Context, st *store.Store, tech store.Technician, list string) error {
	if list == "" {
		return nil
	}
	var ids []string
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return st.SetAuditorTenants(ctx, tech.ID, ids)
}
