package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/jitaccess/jitaccess/schema"
	"github.com/jitaccess/jitaccess/store/internal/sqlstore"
)

// Notification destination types and delivery statuses.
const (
	DestinationWebhook = "webhook"
	DestinationTeams   = "teams"
	DestinationSlack   = "slack"
	DestinationEmail   = "email"

	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Destination is where grant events go. It never carries its secrets.
type Destination struct {
	ID        string
	Name      string
	Type      string // webhook | teams | slack | email
	TenantID  string // "" for every tenant
	Events    []string
	Settings  DestinationSettings
	CreatedBy string
	CreatedAt time.Time
}

// DestinationSettings are the non-secret settings of a destination.
type DestinationSettings struct {
	// E-mail: the SMTP server ("host:port"), its user name, TLS mode ("starttls" default,
	// "tls", "none" only for a relay on localhost), sender, and fixed recipients besides the
	// requester and approvers.
	SMTPAddr     string   `json:"smtp_addr,omitempty"`
	SMTPUsername string   `json:"smtp_username,omitempty"`
	SMTPTLS      string   `json:"smtp_tls,omitempty"`
	From         string   `json:"from,omitempty"`
	Recipients   []string `json:"recipients,omitempty"`
	// Slack: which staff e-mail each Slack user id acts as when pressing Approve or Deny.
	SlackUsers map[string]string `json:"slack_users,omitempty"`
	// URLHost shows where the (secret) URL points, for listings.
	URLHost string `json:"url_host,omitempty"`
}

// DestinationSecrets are sealed at rest: the webhook/Teams/Slack URL (the URL is the
// credential), the HMAC or Slack signing secret and the SMTP password.
type DestinationSecrets struct {
	URL           string `json:"url,omitempty"`
	SigningSecret string `json:"signing_secret,omitempty"`
	SMTPPassword  string `json:"smtp_password,omitempty"`
}

// NewDestination is the input of CreateDestination.
type NewDestination struct {
	Name      string
	Type      string
	TenantID  string
	Events    []string // short event names ("approved"); empty: every event
	Settings  DestinationSettings
	Secrets   DestinationSecrets
	CreatedBy string
}

// secretsAAD binds a destination's sealed secrets to its row.
func secretsAAD(id string) string { return "notification_destination:" + id }

// CreateDestination stores a destination with its secrets sealed.
func (s *Store) CreateDestination(ctx context.Context, in NewDestination) (Destination, error) {
	if s.Sealer == nil {
		return Destination{}, errors.New("create destination: no sealer")
	}
	id := sqlstore.NewID("dst")
	secrets, err := json.Marshal(in.Secrets)
	if err != nil {
		return Destination{}, fmt.Errorf("encode secrets: %w", err)
	}
	sealed, err := s.Sealer.Seal(string(secrets), secretsAAD(id))
	if err != nil {
		return Destination{}, fmt.Errorf("seal destination secrets: %w", err)
	}
	settings, err := json.Marshal(in.Settings)
	if err != nil {
		return Destination{}, fmt.Errorf("encode settings: %w", err)
	}
	m := schema.NotificationDestination{ID: id, Name: strings.TrimSpace(in.Name), Type: in.Type, TenantID: in.TenantID,
		Events: schema.StringList(sqlstore.OrEmpty(sqlstore.Dedupe(in.Events))), Config: string(settings), SecretsSealed: sealed,
		KeyID: s.Sealer.KeyID(), CreatedBy: in.CreatedBy, CreatedAt: s.Clock()}
	if _, err := s.DB.NewInsert().Model(&m).Exec(ctx); err != nil {
		if sqlstore.IsForeignKeyViolation(err) {
			return Destination{}, sqlstore.NotFound("tenant", in.TenantID)
		}
		return Destination{}, fmt.Errorf("create destination: %w", err)
	}
	return destinationOf(m)
}

func destinationOf(m schema.NotificationDestination) (Destination, error) {
	d := Destination{ID: m.ID, Name: m.Name, Type: m.Type, TenantID: m.TenantID, Events: sqlstore.OrEmpty(m.Events),
		CreatedBy: m.CreatedBy, CreatedAt: sqlstore.UTC(m.CreatedAt)}
	if err := json.Unmarshal([]byte(m.Config), &d.Settings); err != nil {
		return Destination{}, fmt.Errorf("destination %s settings: %w", m.ID, err)
	}
	return d, nil
}

// Destinations lists every destination, oldest first.
func (s *Store) Destinations(ctx context.Context) ([]Destination, error) {
	var rows []schema.NotificationDestination
	if err := s.DB.NewSelect().Model(&rows).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	out := make([]Destination, 0, len(rows))
	for _, r := range rows {
		d, err := destinationOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Destination reads one destination, without its secrets.
func (s *Store) Destination(ctx context.Context, id string) (Destination, error) {
	var m schema.NotificationDestination
	if err := s.DB.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return Destination{}, sqlstore.NoRows(err, "notification destination", id)
	}
	return destinationOf(m)
}

// DestinationSecrets unseals a destination's secrets (the senders need them; nothing else).
func (s *Store) DestinationSecrets(ctx context.Context, id string) (DestinationSecrets, error) {
	var m schema.NotificationDestination
	if err := s.DB.NewSelect().Model(&m).Column("id", "secrets_sealed").Where("id = ?", id).Scan(ctx); err != nil {
		return DestinationSecrets{}, sqlstore.NoRows(err, "notification destination", id)
	}
	plain, err := s.Sealer.Open(m.SecretsSealed, secretsAAD(id))
	if err != nil {
		return DestinationSecrets{}, fmt.Errorf("destination %s secrets: %w", id, err)
	}
	var sec DestinationSecrets
	if err := json.Unmarshal([]byte(plain), &sec); err != nil {
		return DestinationSecrets{}, fmt.Errorf("destination %s secrets: %w", id, err)
	}
	return sec, nil
}

// DeleteDestination removes a destination and its deliveries.
func (s *Store) DeleteDestination(ctx context.Context, id string) error {
	res, err := s.DB.NewDelete().Model((*schema.NotificationDestination)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete destination: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sqlstore.NotFound("notification destination", id)
	}
	return nil
}

// OutboxEvent is one event to deliver. Payload is the event's JSON; it never holds a secret.
type OutboxEvent struct {
	ID       string // stable across retries of whoever enqueues it
	Type     string // short name: "approved", "expiring_soon", …
	GrantID  string
	TenantID string
	Payload  []byte
}

// EnqueueEvent puts ev in the outbox of every destination that wants it (its tenant, its
// event filter) and returns how many. Enqueuing the same event id again adds nothing.
func (s *Store) EnqueueEvent(ctx context.Context, ev OutboxEvent) (int, error) {
	var n int
	err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		n, err = s.enqueueEvent(ctx, tx, ev)
		return err
	})
	return n, err
}

// WantsGrantEvent reports whether any destination of the grant's tenant (or of every tenant)
// wants event, in one read (the grant's tenant is a subquery), so that a publisher reads and
// builds an event only when someone listens.
func (s *Store) WantsGrantEvent(ctx context.Context, grantID, event string) (bool, error) {
	tenant := s.DB.NewSelect().Model((*schema.Grant)(nil)).Column("tenant_id").Where("id = ?", grantID)
	dests, err := s.destinationsFor(ctx, s.DB, tenant)
	if err != nil {
		return false, err
	}
	for _, d := range dests {
		if wants(d, event) {
			return true, nil
		}
	}
	return false, nil
}

// wants reports whether destination d subscribes to event (no filter: every event).
func wants(d schema.NotificationDestination, event string) bool {
	return len(d.Events) == 0 || slices.Contains(d.Events, event)
}

// destinationsFor lists the destinations of a tenant and those of every tenant; tenant is the
// tenant's id or a subquery that selects it ("" lists them all).
func (s *Store) destinationsFor(ctx context.Context, db bun.IDB, tenant any) ([]schema.NotificationDestination, error) {
	var dests []schema.NotificationDestination
	q := db.NewSelect().Model(&dests).Column("id", "tenant_id", "events")
	if tenant != "" {
		q = q.Where("tenant_id IS NULL OR tenant_id = (?)", tenant)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	return dests, nil
}

// enqueueEvent is EnqueueEvent inside the caller's transaction, so that a projection write
// and its notifications commit together.
func (s *Store) enqueueEvent(ctx context.Context, db bun.IDB, ev OutboxEvent) (int, error) {
	dests, err := s.destinationsFor(ctx, db, ev.TenantID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range dests {
		if !wants(d, ev.Type) {
			continue
		}
		ok, err := s.enqueueDelivery(ctx, db, d.ID, ev)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// EnqueueTestEvent puts ev in one destination's outbox, whatever its filters.
func (s *Store) EnqueueTestEvent(ctx context.Context, destinationID string, ev OutboxEvent) error {
	if _, err := s.Destination(ctx, destinationID); err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := s.enqueueDelivery(ctx, tx, destinationID, ev)
		return err
	})
}

func (s *Store) enqueueDelivery(ctx context.Context, db bun.IDB, destinationID string, ev OutboxEvent) (bool, error) {
	var seq int64
	if err := db.NewSelect().Model((*schema.NotificationDelivery)(nil)).ColumnExpr("COALESCE(MAX(seq), 0)").
		Where("destination_id = ? AND grant_id = ?", destinationID, ev.GrantID).Scan(ctx, &seq); err != nil {
		return false, fmt.Errorf("next delivery sequence: %w", err)
	}
	now := s.Clock()
	m := schema.NotificationDelivery{ID: sqlstore.DerivedID("dlv", destinationID+":"+ev.ID), DestinationID: destinationID, EventID: ev.ID,
		EventType: ev.Type, GrantID: ev.GrantID, Seq: seq + 1, Payload: string(ev.Payload), Status: DeliveryPending,
		NextAttemptAt: now, CreatedAt: now}
	res, err := db.NewInsert().Model(&m).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("enqueue delivery: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Delivery is one event for one destination.
type Delivery struct {
	ID            string
	DestinationID string
	EventID       string
	EventType     string
	GrantID       string
	Seq           int64
	Payload       []byte
	Status        string
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	CreatedAt     time.Time
	DeliveredAt   time.Time
}

func deliveryOf(m schema.NotificationDelivery) Delivery {
	return Delivery{ID: m.ID, DestinationID: m.DestinationID, EventID: m.EventID, EventType: m.EventType, GrantID: m.GrantID,
		Seq: m.Seq, Payload: []byte(m.Payload), Status: m.Status, Attempts: m.Attempts, LastError: m.LastError,
		NextAttemptAt: sqlstore.UTC(m.NextAttemptAt), CreatedAt: sqlstore.UTC(m.CreatedAt), DeliveredAt: sqlstore.UTC(m.DeliveredAt)}
}

// ClaimDeliveries leases up to limit due deliveries for lease. Only the oldest pending
// delivery of each (destination, grant) is eligible, so a grant's events reach a
// destination in order, one at a time, however many dispatchers run.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]Delivery, error) {
	now := s.Clock()
	var rows []schema.NotificationDelivery
	err := s.DB.NewSelect().Model(&rows).
		Where("notification_delivery.status = ?", DeliveryPending).
		Where("notification_delivery.next_attempt_at <= ?", now).
		Where("notification_delivery.locked_until IS NULL OR notification_delivery.locked_until < ?", now).
		Where("NOT EXISTS (?)", s.DB.NewSelect().TableExpr("notification_deliveries AS e").ColumnExpr("1").
			Where("e.destination_id = notification_delivery.destination_id AND e.grant_id = notification_delivery.grant_id AND e.status = ?", DeliveryPending).
			Where("e.seq < notification_delivery.seq")).
		Order("notification_delivery.created_at", "notification_delivery.id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list due deliveries: %w", err)
	}
	out := []Delivery{}
	for _, r := range rows {
		res, err := s.DB.NewUpdate().Model((*schema.NotificationDelivery)(nil)).
			Set("locked_until = ?", now.Add(lease)).
			Where("id = ? AND status = ?", r.ID, DeliveryPending).
			Where("locked_until IS NULL OR locked_until < ?", now).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("claim delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, deliveryOf(r))
		}
	}
	return out, nil
}

// MarkDelivered records a successful delivery.
func (s *Store) MarkDelivered(ctx context.Context, id string) error {
	now := s.Clock()
	_, err := s.DB.NewUpdate().Model((*schema.NotificationDelivery)(nil)).
		Set("status = ?", DeliveryDelivered).Set("attempts = attempts + 1").Set("delivered_at = ?", now).
		Set("locked_until = NULL").Set("last_error = ''").Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark delivered: %w", err)
	}
	return nil
}

// MarkAttemptFailed records a failed attempt: tried again at next, or failed for good when
// giveUp (the next event of the grant then goes on).
func (s *Store) MarkAttemptFailed(ctx context.Context, id, reason string, next time.Time, giveUp bool) error {
	status := DeliveryPending
	if giveUp {
		status = DeliveryFailed
	}
	if len(reason) > 500 {
		reason = reason[:500]
	}
	_, err := s.DB.NewUpdate().Model((*schema.NotificationDelivery)(nil)).
		Set("status = ?", status).Set("attempts = attempts + 1").Set("last_error = ?", reason).
		Set("next_attempt_at = ?", sqlstore.DBTime(next)).Set("locked_until = NULL").Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark attempt failed: %w", err)
	}
	return nil
}

// Deliveries lists a destination's latest deliveries, newest first (the portal's table).
func (s *Store) Deliveries(ctx context.Context, destinationID string, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > sqlstore.MaxLimit {
		limit = sqlstore.DefaultLimit
	}
	var rows []schema.NotificationDelivery
	if err := s.DB.NewSelect().Model(&rows).Where("destination_id = ?", destinationID).
		OrderExpr("created_at DESC, seq DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = deliveryOf(r)
	}
	return out, nil
}

// PruneDeliveries deletes delivered and failed deliveries created before before; pending
// ones stay whatever their age. It returns how many were deleted.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	res, err := s.DB.NewDelete().Model((*schema.NotificationDelivery)(nil)).
		Where("status IN (?)", sqlstore.In([]string{DeliveryDelivered, DeliveryFailed})).
		Where("created_at < ?", sqlstore.DBTime(before)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
