package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// GrantApproval is one approver's decision on a grant; one row per approver and grant.
type GrantApproval struct {
	bun.BaseModel `bun:"table:grant_approvals"`

	ID         string    `bun:"id,pk"`
	GrantID    string    `bun:"grant_id,notnull"`
	TenantID   string    `bun:"tenant_id,notnull"`
	ApproverID string    `bun:"approver_id,notnull"`
	Decision   string    `bun:"decision,notnull"`
	Comment    string    `bun:"comment,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// ExtensionApproval is one approver's decision on a grant's extension request; one row per
// approver and request.
type ExtensionApproval struct {
	bun.BaseModel `bun:"table:extension_approvals"`

	ID         string    `bun:"id,pk"`
	GrantID    string    `bun:"grant_id,notnull"`
	Request    string    `bun:"request,notnull"`
	TenantID   string    `bun:"tenant_id,notnull"`
	ApproverID string    `bun:"approver_id,notnull"`
	Decision   string    `bun:"decision,notnull"`
	Comment    string    `bun:"comment,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// NotificationDestination is where grant events are sent. Secrets (webhook URLs, signing
// and HMAC secrets, SMTP passwords) are one sealed JSON object in SecretsSealed.
type NotificationDestination struct {
	bun.BaseModel `bun:"table:notification_destinations"`

	ID            string     `bun:"id,pk"`
	Name          string     `bun:"name,notnull"`
	Type          string     `bun:"type,notnull"`
	TenantID      string     `bun:"tenant_id,nullzero"`
	Events        StringList `bun:"events,notnull"`
	Config        string     `bun:"config,notnull"` // JSON object, no secret
	SecretsSealed string     `bun:"secrets_sealed,notnull"`
	KeyID         string     `bun:"key_id,notnull"`
	CreatedBy     string     `bun:"created_by,notnull"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
}

// NotificationDelivery is one event for one destination in the outbox.
type NotificationDelivery struct {
	bun.BaseModel `bun:"table:notification_deliveries"`

	ID            string    `bun:"id,pk"`
	DestinationID string    `bun:"destination_id,notnull"`
	EventID       string    `bun:"event_id,notnull"`
	EventType     string    `bun:"event_type,notnull"`
	GrantID       string    `bun:"grant_id,notnull"`
	Seq           int64     `bun:"seq,notnull"`
	Payload       string    `bun:"payload,notnull"`
	Status        string    `bun:"status,notnull"`
	Attempts      int       `bun:"attempts,notnull"`
	LastError     string    `bun:"last_error,notnull"`
	NextAttemptAt time.Time `bun:"next_attempt_at,notnull"`
	LockedUntil   time.Time `bun:"locked_until,nullzero"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	DeliveredAt   time.Time `bun:"delivered_at,nullzero"`
}
