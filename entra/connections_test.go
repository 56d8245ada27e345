package entra_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jitaccess/jitaccess/entra"
	"github.com/jitaccess/jitaccess/internal/entrasim"
)

// A worker runs many directory activities at once (a burst of expiries). Over HTTP/1.1 (the
// emulator, an HTTP/1.1 egress proxy) the connections of one burst must serve the next:
// net/http's default keeps only 2 idle connections per host, so every call beyond the second
// opened (TLS handshake included) and closed a connection of its own.
func TestConcurrentCallsReuseConnections(t *testing.T) {
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int64
	ts := httptest.NewUnstartedServer(sim)
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	e := &env{t: t, sim: sim, ts: ts, store: newMemStore()}
	e.c = entra.New(e.config(), e.store)
	e.consent(appID, "")

	const concurrent = 32
	burst := func() {
		var wg sync.WaitGroup
		for range concurrent {
			wg.Go(func() {
				if _, err := e.c.Domains(context.Background(), appID); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	// With a pool, no call ever needs a connection while more than `concurrent` exist, so
	// three bursts open at most `concurrent` between them (fewer when calls overlap less).
	before := opened.Load()
	for range 3 {
		burst()
	}
	if n := opened.Load() - before; n > concurrent {
		t.Errorf("three bursts of %d concurrent Graph calls opened %d connections; want at most %d, reused from burst to burst", concurrent, n, concurrent)
	}
}
