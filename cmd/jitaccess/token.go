package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

const tokenUsage = `usage: jitaccess token create --role admin|technician --email E [--name N] [--token-name T] [--expires-in D]
       jitaccess token list [--email E]
       jitaccess token revoke TOKEN_ID`

// runToken manages API tokens straight in the database (for the first admin, or when the API
// is not reachable): create (creating the person when the e-mail is new; the token is printed
// once, only its hash is stored), list (with last use and expiry) and revoke.
func runToken(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 {
		return &usageError{tokenUsage}
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, env, args[1:])
	case "list":
		return tokenList(ctx, env, args[1:])
	case "revoke":
		if len(args) != 2 || args[1] == "" {
			return &usageError{tokenUsage}
		}
		return withStore(ctx, env, func(st *store.Store) error {
			tok, err := st.Token(ctx, args[1])
			if err != nil {
				return err
			}
			if tok, err = st.RevokeToken(ctx, tok.ID); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "revoked %s (%s) at %s\n", tok.ID, tok.Name, tok.RevokedAt.Format(time.RFC3339))
			return nil
		})
	default:
		return &usageError{tokenUsage}
	}
}

func tokenCreate(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	role := fs.String("role", "technician", "admin, technician or auditor (read-only)")
	tenants := fs.String("tenants", "", "auditor only: comma-separated tenant ids the auditor may see, or * for every tenant (replaces the previous list)")
	email := fs.String("email", "", "the person's e-mail (required)")
	name := fs.String("name", "", "display name for a new person (defaults to the e-mail)")
	tokenName := fs.String("token-name", "cli", "what the token is for")
	expiresIn := fs.Duration("expires-in", 90*24*time.Hour, "lifetime of the token (0: no expiry)")
	if err := fs.Parse(args); err != nil {
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
	if *expiresIn < 0 {
		return &usageError{"--expires-in must not be negative"}
	}
	if *name == "" {
		*name = *email
	}
	return withStore(ctx, env, func(st *store.Store) error {
		tech, err := st.TechnicianByEmail(ctx, *email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if tech, _, err = st.CreateTechnician(ctx, *email, *name, *role); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "created %s %s (%s)\n", tech.Role, tech.Email, tech.ID)
		case err != nil:
			return err
		case tech.Role != *role:
			return fmt.Errorf("%s is a %s; change the role through the API, not with a token", tech.Email, tech.Role)
		case !tech.Active:
			return fmt.Errorf("%s is deactivated; reactivate them through the API first", tech.Email)
		}
		if err := setAuditorTenants(ctx, st, tech, *tenants); err != nil {
			return err
		}
		var expires time.Time
		if *expiresIn > 0 {
			expires = time.Now().Add(*expiresIn)
		}
		tok, plain, err := st.CreateToken(ctx, store.NewToken{TechnicianID: tech.ID, Name: *tokenName, ExpiresAt: expires})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s %s (%s) token %s expires %s\ntoken: %s\n", tech.Role, tech.Email, tech.ID, tok.ID, orNever(tok.ExpiresAt), plain)
		return nil
	})
}

func tokenList(ctx context.Context, env environment, args []string) error {
	fs := flag.NewFlagSet("token list", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	email := fs.String("email", "", "only this person's tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withStore(ctx, env, func(st *store.Store) error {
		var techID string
		if *email != "" {
			tech, err := st.TechnicianByEmail(ctx, *email)
			if err != nil {
				return err
			}
			techID = tech.ID
		}
		toks, err := st.Tokens(ctx, techID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTECHNICIAN\tNAME\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
		for _, t := range toks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.TechnicianID, t.Name, t.CreatedAt.Format(time.RFC3339),
				orNever(t.LastUsedAt), orNever(t.ExpiresAt), orNever(t.RevokedAt))
		}
		return w.Flush()
	})
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// withStore opens the configured database (migrating it) and runs fn on its store.
func withStore(ctx context.Context, env environment, fn func(*store.Store) error) error {
	cfg, err := config.Load(env.getenv)
	if err != nil {
		return err
	}
	sealer, err := seal.New(cfg.EncryptionKey, cfg.PreviousKeys...)
	if err != nil {
		return err
	}
	db, err := schema.Open(ctx, cfg.DatabaseURL, app.SQLitePath(cfg), cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := schema.Migrate(ctx, db); err != nil {
		return err
	}
	return fn(store.New(db, sealer))
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
