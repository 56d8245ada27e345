package siem

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jitaccess/store"
)

// Syslog sends RFC 5424 messages over TLS with octet-counting framing (RFC 5425).
type Syslog struct {
	Addr     string
	TLS      *tls.Config
	Hostname string
	Timeout  time.Duration

	mu   sync.Mutex
	conn *tls.Conn
}

// sdID is the structured-data id of the event element ("name@<enterprise number>"; 32473 is
// the number RFC 5612 reserves for documentation).
const sdID = "jitaccess@32473"

// facility 13 (log audit), severity 5 (notice).
const priority = 13*8 + 5

// Name is "syslog:<addr>".
func (s *Syslog) Name() string { return "syslog:" + s.Addr }

// ReplayAfterError: a TCP write can succeed into a connection the peer already dropped, so the
// last batch is sent again after a failure (the SIEM de-duplicates by event id).
func (s *Syslog) ReplayAfterError() bool { return true }

// Send writes one frame per event and flushes; any error drops the connection.
func (s *Syslog) Send(ctx context.Context, events []store.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.connect(ctx); err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(timeout))
	w := bufio.NewWriter(s.conn)
	for _, e := range events {
		msg, err := s.Format(e)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%d %s", len(msg), msg)
	}
	if err := w.Flush(); err != nil {
		s.drop()
		return fmt.Errorf("siem syslog %s: %w", s.Addr, err)
	}
	return nil
}

func (s *Syslog) connect(ctx context.Context) error {
	if s.conn != nil && s.alive() {
		return nil
	}
	s.drop()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: s.TLS}
	c, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("siem syslog %s: %w", s.Addr, err)
	}
	s.conn = c.(*tls.Conn)
	return nil
}

// alive peeks at the connection: a receiver never writes, so anything but a timeout means it
// closed or reset the connection.
func (s *Syslog) alive() bool {
	_ = s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := s.conn.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *Syslog) drop() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// Close closes the connection.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop()
	return nil
}

// Format renders e as an RFC 5424 message: MSGID is the action, the structured data carries
// the ids a SIEM de-duplicates and correlates by, and MSG is the event as JSON.
func (s *Syslog) Format(e store.AuditEvent) (string, error) {
	body, err := marshal(e)
	if err != nil {
		return "", err
	}
	host := s.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	var sd strings.Builder
	sd.WriteString("[" + sdID)
	for _, p := range [][2]string{{"id", e.ID}, {"seq", strconv.FormatInt(e.Seq, 10)}, {"tenant", e.TenantID}, {"actor", e.ActorID},
		{"target", e.Target}, {"workflow_id", e.WorkflowID}, {"run_id", e.RunID}, {"hash", e.Hash}} {
		if p[1] != "" {
			sd.WriteString(" " + p[0] + `="` + sdEscape(p[1]) + `"`)
		}
	}
	sd.WriteString("]")
	return fmt.Sprintf("<%d>1 %s %s jitaccess - %s %s %s", priority, e.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
		header(host, 255), header(e.Action, 32), sd.String(), body), nil
}

// header makes a header field: printable US-ASCII without spaces, bounded, "-" when empty.
func header(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return '_'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

func sdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}
