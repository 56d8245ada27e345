package siem_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/siem"
	"github.com/jitaccess/jitaccess/store"
)

// receiver is a syslog-over-TLS server (RFC 5425) that counts the frames it gets per event id.
type receiver struct {
	t    *testing.T
	cert tls.Certificate
	addr string

	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	got    map[string]int
	frames []string
}

var sdIDRe = regexp.MustCompile(`\[jitaccess@32473 id="([^"]+)" seq="(\d+)"`)

func newReceiver(t *testing.T) (*receiver, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "siem.test"}, DNSNames: []string{"siem.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	r := &receiver{t: t, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, got: map[string]int{}}
	r.start("127.0.0.1:0")
	t.Cleanup(r.stop)
	return r, pool
}

func (r *receiver) start(addr string) {
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{r.cert}}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(r.t, err)
	r.mu.Lock()
	r.ln, r.addr = ln, ln.Addr().String()
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			go r.read(c)
		}
	}()
}

// read parses octet-counted frames: "<length> <message>".
func (r *receiver) read(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		n, err := br.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			r.t.Errorf("bad frame length %q", n)
			return
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		m := sdIDRe.FindStringSubmatch(string(msg))
		if m == nil {
			r.t.Errorf("frame without event id: %q", msg)
			return
		}
		r.mu.Lock()
		r.got[m[1]]++
		r.frames = append(r.frames, string(msg))
		r.mu.Unlock()
	}
}

// stop closes the listener and every connection: the SIEM is down.
func (r *receiver) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		_ = r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
}

func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

func record(t *testing.T, st *store.Store, from, n int) {
	for i := from; i < from+n; i++ {
		require.NoError(t, st.RecordAudit(context.Background(), store.AuditEvent{TenantID: "ten_1", Action: "grant.activated",
			Target: fmt.Sprint("grt_", i), Details: map[string]any{"i": i}, WorkflowID: "access/ten_1/app/tec", RunID: "run"}))
	}
}

func runSIEM(st *store.Store, dest siem.Destination) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = siem.Run(ctx, st, []siem.Destination{dest}, siem.Options{Batch: 7, Poll: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
		close(done)
	}()
	return func() { cancel(); <-done }
}

// The receiver is down for a while and the worker restarts: every event still arrives, and
// after de-duplication by the event id in the structured data, exactly once.
func TestSyslogTLSDeliversEveryEventAfterDowntime(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := store.New(db, sealer)
	rcv, pool := newReceiver(t)
	dest := &siem.Syslog{Addr: rcv.addr, TLS: &tls.Config{RootCAs: pool, ServerName: "siem.test"}, Hostname: "jit-worker-1"}

	record(t, st, 0, 20)
	stop := runSIEM(st, dest)
	require.Eventually(t, func() bool { return rcv.distinct() == 20 }, 60*time.Second, 50*time.Millisecond)

	rcv.stop() // the SIEM goes down; events keep coming
	record(t, st, 20, 30)
	time.Sleep(1500 * time.Millisecond)
	rcv.start(rcv.addr)
	require.Eventually(t, func() bool { return rcv.distinct() == 50 }, 60*time.Second, 50*time.Millisecond)

	stop() // the worker stops; more events are written meanwhile
	record(t, st, 50, 5)
	stop = runSIEM(st, dest)
	defer stop()
	require.Eventually(t, func() bool { return rcv.distinct() == 55 }, 60*time.Second, 50*time.Millisecond)

	evs, err := st.AuditEventsAfter(context.Background(), 0, 100)
	require.NoError(t, err)
	require.Len(t, evs, 55)
	for _, e := range evs {
		require.GreaterOrEqual(t, rcv.count(e.ID), 1, "event %d (%s) lost", e.Seq, e.ID)
	}
	// Resumed from the cursor: the first events were not sent again by the restarted worker.
	require.Equal(t, 1, rcv.count(evs[0].ID))
	require.Eventually(t, func() bool {
		c, err := st.SIEMCursor(context.Background(), dest.Name())
		return err == nil && c == evs[54].Seq
	}, 10*time.Second, 50*time.Millisecond)

	rcv.mu.Lock()
	frame := rcv.frames[0]
	dup := len(rcv.frames) - len(rcv.got)
	rcv.mu.Unlock()
	t.Logf("%d frames for %d events (%d resent after the outage, de-duplicated by id)", len(rcv.frames), len(rcv.got), dup)
	require.Regexp(t, `^<109>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z jit-worker-1 jitaccess - grant\.activated \[jitaccess@32473 id="aud_[a-z2-7]{16}" seq="1" tenant="ten_1" `, frame)
	require.Contains(t, frame, `workflow_id="access/ten_1/app/tec" run_id="run" hash="`)
	require.True(t, strings.HasSuffix(frame, `}`), frame)
}
