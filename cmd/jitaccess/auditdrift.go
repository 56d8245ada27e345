package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jitaccess/jitaccess/app"
	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/timeline"
)

// reconcilerFindings reads, from the database's audit log, the reconciler's drift.* events
// about the grant or its account (the grant row's account and every object id the history
// names). It does not migrate: an auditor's command changes nothing.
func reconcilerFindings(ctx context.Context, cfg config.Config, grant timeline.Grant, entries []timeline.Entry) ([]timeline.Entry, error) {
	if cfg.DatabaseURL == "" {
		if _, err := os.Stat(app.SQLitePath(cfg)); err != nil {
			return nil, fmt.Errorf("no database (JIT_DATABASE_URL is empty and %s: %w)", app.SQLitePath(cfg), err)
		}
	}
	db, err := schema.Open(ctx, cfg.DatabaseURL, app.SQLitePath(cfg), cfg.DBMaxConns)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	sealer, err := seal.New(cfg.EncryptionKey, cfg.PreviousKeys...) // nothing is unsealed
	if err != nil {
		return nil, err
	}
	st := store.New(db, sealer)
	targets := []string{grant.GrantID}
	seen := map[string]bool{grant.GrantID: true}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			targets = append(targets, id)
		}
	}
	if g, err := st.Grant(ctx, grant.GrantID); err == nil {
		add(g.AccountID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	for _, e := range entries {
		if id, ok := e.Data["object_id"].(string); ok {
			add(id)
		}
	}
	evs, err := st.ReconcilerFindings(ctx, targets)
	if err != nil {
		return nil, err
	}
	fs := make([]timeline.Finding, len(evs))
	for i, e := range evs {
		fs[i] = timeline.Finding{AuditEventID: e.ID, Time: e.CreatedAt, Action: e.Action, Target: e.Target, Details: e.Details}
	}
	return timeline.FindingEntries(grant.GrantID, fs), nil
}
