package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/auditchain"
)

// evidenceMigration chains the audit log (sequence number, previous hash, hash, and the
// Temporal workflow and run an event belongs to), chains the rows already there, and adds the
// chain head, signed checkpoints, SIEM export cursors, generated reports, and the auditor role
// with the tenants an auditor may see ("*" for all).
func evidenceMigration() migration {
	return migration{
		name: "20261130000009_evidence",
		up: []string{
			`ALTER TABLE audit_events ADD COLUMN seq BIGINT`,
			`ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE audit_events ADD COLUMN workflow_id TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE audit_events ADD COLUMN run_id TEXT NOT NULL DEFAULT ''`,
			`CREATE UNIQUE INDEX audit_events_seq_idx ON audit_events (seq)`,
			`CREATE TABLE audit_chain_heads (
				chain_id TEXT PRIMARY KEY,
				seq BIGINT NOT NULL,
				hash TEXT NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE audit_checkpoints (
				chain_id TEXT NOT NULL,
				seq BIGINT NOT NULL,
				hash TEXT NOT NULL,
				reason TEXT NOT NULL,
				key_id TEXT NOT NULL,
				signature TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				PRIMARY KEY (chain_id, seq)
			)`,
			`CREATE TABLE siem_cursors (
				destination TEXT PRIMARY KEY,
				seq BIGINT NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE reports (
				id TEXT PRIMARY KEY,
				tenant_id TEXT NOT NULL,
				period_from {{ts}} NOT NULL,
				period_to {{ts}} NOT NULL,
				format TEXT NOT NULL,
				content TEXT NOT NULL,
				sha256 TEXT NOT NULL,
				created_by TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				CONSTRAINT reports_period_unique UNIQUE (tenant_id, period_from, period_to, format)
			)`,
			`CREATE TABLE auditor_tenants (
				technician_id TEXT NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
				tenant_id TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				PRIMARY KEY (technician_id, tenant_id)
			)`,
		},
		upTx: func(ctx context.Context, tx bun.Tx) error {
			if err := allowAuditorRole(ctx, tx); err != nil {
				return err
			}
			return chainExistingAudit(ctx, tx)
		},
		down: []string{
			`DROP TABLE IF EXISTS auditor_tenants`,
			`DROP TABLE IF EXISTS reports`,
			`DROP TABLE IF EXISTS siem_cursors`,
			`DROP TABLE IF EXISTS audit_checkpoints`,
			`DROP TABLE IF EXISTS audit_chain_heads`,
			`DROP INDEX IF EXISTS audit_events_seq_idx`,
			`ALTER TABLE audit_events DROP COLUMN run_id`,
			`ALTER TABLE audit_events DROP COLUMN workflow_id`,
			`ALTER TABLE audit_events DROP COLUMN hash`,
			`ALTER TABLE audit_events DROP COLUMN prev_hash`,
			`ALTER TABLE audit_events DROP COLUMN seq`,
			// The wider role check stays: narrowing it would have to delete auditors.
		},
	}
}

const (
	roleCheckOld = `CHECK (role IN ('admin', 'technician'))`
	roleCheckNew = `CHECK (role IN ('admin', 'technician', 'auditor'))`
)

// allowAuditorRole widens the technicians.role check. SQLite cannot alter a constraint; it
// documents editing the stored table definition for exactly this (a wider CHECK needs no
// change to the stored rows).
func allowAuditorRole(ctx context.Context, tx bun.Tx) error {
	if IsPostgres(tx) {
		_, err := tx.ExecContext(ctx, `ALTER TABLE technicians DROP CONSTRAINT technicians_role_check,
			ADD CONSTRAINT technicians_role_check `+roleCheckNew)
		if err != nil {
			return fmt.Errorf("auditor role: %w", err)
		}
		return nil
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("auditor role: %w", err)
	}
	for _, s := range []string{
		`PRAGMA writable_schema = ON`,
		fmt.Sprintf(`UPDATE sqlite_master SET sql = replace(sql, %s, %s) WHERE type = 'table' AND name = 'technicians'`,
			sqlQuote(roleCheckOld), sqlQuote(roleCheckNew)),
		fmt.Sprintf(`PRAGMA schema_version = %d`, version+1),
		`PRAGMA writable_schema = OFF`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("auditor role: %s: %w", s, err)
		}
	}
	return nil
}

func sqlQuote(s string) string {
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += "'"
		}
		out += string(r)
	}
	return out + "'"
}

// chainExistingAudit gives the rows already logged sequence numbers in the order they were
// written (time, then id) and links them into the chain.
func chainExistingAudit(ctx context.Context, tx bun.Tx) error {
	var rows []AuditEvent
	if err := tx.NewSelect().Model(&rows).Order("created_at", "id").Scan(ctx); err != nil {
		return fmt.Errorf("chain audit events: %w", err)
	}
	seq, hash := int64(0), auditchain.GenesisHash
	for _, m := range rows {
		r := auditchain.Link(AuditRecord(m), seq, hash)
		if _, err := tx.NewUpdate().Model((*AuditEvent)(nil)).Set("seq = ?", r.Seq).Set("prev_hash = ?", r.PrevHash).
			Set("hash = ?", r.Hash).Where("id = ?", m.ID).Exec(ctx); err != nil {
			return fmt.Errorf("chain audit event %s: %w", m.ID, err)
		}
		seq, hash = r.Seq, r.Hash
	}
	head := AuditChainHead{ChainID: auditchain.ChainID, Seq: seq, Hash: hash, UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if _, err := tx.NewInsert().Model(&head).Exec(ctx); err != nil {
		return fmt.Errorf("chain head: %w", err)
	}
	return nil
}

// AuditRecord is the chain's view of an audit row.
func AuditRecord(m AuditEvent) auditchain.Record {
	return auditchain.Record{Seq: m.Seq, ID: m.ID, CreatedAt: m.CreatedAt, TenantID: m.TenantID, ActorID: m.ActorID,
		ActorKind: m.ActorKind, Action: m.Action, Target: m.Target, Details: m.Details, WorkflowID: m.WorkflowID,
		RunID: m.RunID, PrevHash: m.PrevHash, Hash: m.Hash}
}
