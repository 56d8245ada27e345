package app

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/internal/testenv"
	"github.com/jitaccess/jitaccess/seal"
	"github.com/jitaccess/jitaccess/store"
)

// Two worker processes of one deployment, configured alike with a syslog SIEM, on a real
// Temporal dev server and PostgreSQL: the SIEM gets every audit event exactly once; when the
// worker that exports stops, the other one takes over and the later events arrive once too.
func TestTwoWorkersExportTheAuditLogOnce(t *testing.T) {
	if _, err := os.Stat(os.Getenv("JIT_TEMPORAL_CLI")); err != nil {
		t.Fatalf("JIT_TEMPORAL_CLI must name the Temporal CLI: %v", err)
	}
	tsrv := testenv.Temporal(t, temporaldev.Options{})
	dbURL := testenv.Postgres(t)
	rcv := newSyslogReceiver(t)
	key, err := seal.GenerateKey()
	require.NoError(t, err)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"JIT_ENCRYPTION_KEY": key, "JIT_DATABASE_URL": dbURL, "JIT_TEMPORAL_ADDRESS": tsrv.Address,
			"JIT_TEMPORAL_NAMESPACE": tsrv.Namespace, "JIT_TASK_QUEUE": "evidence-" + strconv.Itoa(os.Getpid()),
			"JIT_SIEM_SYSLOG_ADDR": rcv.addr, "JIT_SIEM_SYSLOG_CA": rcv.caFile, "JIT_DATA_DIR": t.TempDir()}[k]
	})
	require.NoError(t, err)

	type worker struct {
		app  *App
		stop func()
	}
	start := func() worker {
		ctx, cancel := context.WithCancel(context.Background())
		a, err := Open(ctx, cfg, NewLogger(cfg, io.Discard))
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- a.RunWorker(ctx) }()
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(60 * time.Second):
					t.Error("worker did not stop")
				}
				a.Close()
			})
		}
		t.Cleanup(stop)
		return worker{a, stop}
	}
	w1, w2 := start(), start()
	write := func(st *store.Store, from, n int) {
		for i := from; i < from+n; i++ {
			require.NoError(t, st.RecordAudit(context.Background(), store.AuditEvent{TenantID: "tnt_1", Action: "test.event", Target: fmt.Sprint("t", i)}))
		}
	}
	write(w1.app.Store, 0, 15)
	write(w2.app.Store, 15, 15)
	require.Eventually(t, func() bool { return rcv.distinct() == 30 }, 90*time.Second, 100*time.Millisecond)
	time.Sleep(2 * time.Second) // a second exporter, were there one, would send them again
	require.Equal(t, 30, rcv.frames(), "frames beyond one per event")
	// One lock per job (SIEM export, retention, expiring-soon scan) is held, each by one
	// worker's connection.
	var locks []struct {
		PID     int   `bun:"pid"`
		Key     int64 `bun:"key"`
		Holders int   `bun:"n"`
	}
	require.NoError(t, w1.app.Store.DB().NewRaw(`SELECT min(pid) AS pid, (classid::bigint << 32) | objid::bigint AS key, count(*) AS n
		FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		GROUP BY 2`).Scan(context.Background(), &locks))
	require.Len(t, locks, 3, "the SIEM export, the retention loop and the expiring-soon scan each run under a lock: %+v", locks)
	for _, l := range locks {
		require.Equal(t, 1, l.Holders)
	}

	// Workers go and come: after each stop the one left exports from the cursor. When w2 stops,
	// it was the exporter (it was the only worker), so w3 must take over.
	w1.stop()
	write(w2.app.Store, 30, 10)
	require.Eventually(t, func() bool { return rcv.distinct() == 40 }, 90*time.Second, 100*time.Millisecond)
	w3 := start()
	w2.stop()
	write(w3.app.Store, 40, 10)
	require.Eventually(t, func() bool { return rcv.distinct() == 50 }, 90*time.Second, 100*time.Millisecond)
	time.Sleep(time.Second)
	require.Equal(t, 50, rcv.frames(), "frames beyond one per event after the hand-overs")
}

// syslogReceiver is a syslog-over-TLS SIEM that counts frames per event id.
type syslogReceiver struct {
	addr, caFile string
	mu           sync.Mutex
	got          map[string]int
	total        int
}

func newSyslogReceiver(t *testing.T) *syslogReceiver {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	require.NoError(t, err)
	r := &syslogReceiver{got: map[string]int{}, caFile: filepath.Join(t.TempDir(), "ca.pem")}
	require.NoError(t, os.WriteFile(r.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	r.addr = ln.Addr().String()
	idRe := regexp.MustCompile(`\[jitaccess@32473 id="([^"]+)"`)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					n, err := br.ReadString(' ')
					if err != nil {
						return
					}
					size, err := strconv.Atoi(strings.TrimSpace(n))
					if err != nil {
						return
					}
					msg := make([]byte, size)
					if _, err := io.ReadFull(br, msg); err != nil {
						return
					}
					if m := idRe.FindSubmatch(msg); m != nil {
						r.mu.Lock()
						r.got[string(m[1])]++
						r.total++
						r.mu.Unlock()
					}
				}
			}()
		}
	}()
	return r
}

func (r *syslogReceiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *syslogReceiver) frames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}
