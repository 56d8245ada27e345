package notify

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/jitaccess/jitaccess/store"
)

// Email sends a plain-text mail per event over SMTP to the event's recipients (requester,
// approvers) and the destination's fixed recipients.
type Email struct {
	Timeout time.Duration // per delivery; 0: 15 s
}

// Send implements Sender.
func (e *Email) Send(ctx context.Context, d store.Destination, sec store.DestinationSecrets, ev Event) error {
	s := d.Settings
	to := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(s.Recipients), ev.Recipients...))))
	to = slices.DeleteFunc(to, func(a string) bool { return strings.TrimSpace(a) == "" })
	if len(to) == 0 {
		return nil // nobody to tell
	}
	host, portText, err := net.SplitHostPort(s.SMTPAddr)
	if err != nil {
		return fmt.Errorf("smtp_addr %q: %v: %w", s.SMTPAddr, err, ErrPermanent)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("smtp_addr %q: %w", s.SMTPAddr, ErrPermanent)
	}
	timeout := e.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout)}
	switch s.SMTPTLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.SMTPUsername != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.SMTPUsername), mail.WithPassword(sec.SMTPPassword))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %v: %w", err, ErrPermanent)
	}
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("from %q: %v: %w", s.From, err, ErrPermanent)
	}
	if err := msg.To(to...); err != nil {
		return fmt.Errorf("recipients: %v: %w", err, ErrPermanent)
	}
	msg.Subject("[jitaccess] " + title(ev))
	msg.SetMessageIDWithValue(ev.ID + "@jitaccess")
	msg.SetBodyString(mail.TypeTextPlain, emailBody(ev))
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail via %s: %w", s.SMTPAddr, err)
	}
	return nil
}

func emailBody(ev Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.\n\n", title(ev))
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-14s %s\n", k+":", v)
		}
	}
	line("Requester", ev.Grant.TechnicianEmail)
	line("Application", firstOf(ev.Grant.ApplicationName, ev.Grant.ApplicationID))
	line("Customer", firstOf(ev.Grant.TenantName, ev.Grant.TenantID))
	line("Roles", roleList(ev.Grant))
	line("Justification", ev.Grant.Justification)
	line("Ticket", ev.Grant.TicketReference)
	if !ev.Grant.ExpiresAt.IsZero() {
		line("Expires", ev.Grant.ExpiresAt.UTC().Format(time.RFC1123))
	}
	if ev.Actor != nil {
		line("By", firstOf(ev.Actor.Email, ev.Actor.ID))
	}
	line("Comment", ev.Comment)
	line("Reason", ev.Reason)
	if ev.URL != "" {
		fmt.Fprintf(&b, "\n%s\n", ev.URL)
	}
	b.WriteString("\nThis message never contains a password. Sign in to jitaccess to see your access.\n")
	return b.String()
}
