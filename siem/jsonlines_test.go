package siem_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// An HTTPS SIEM that refuses for a while gets every line once it accepts, each once.
func TestJSONLinesOverHTTPSResumesAfterRefusals(t *testing.T) {
	db := testenv.MigratedDB(t, "postgres")
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st := store.New(db, sealer)

	var mu sync.Mutex
	got := map[string]int{}
	refuse := 3
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer siem-token" || r.Header.Get("Content-Type") != "application/x-ndjson" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if refuse > 0 {
			refuse--
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			var rec siem.Record
			require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
			require.NotZero(t, rec.Seq)
			require.Len(t, rec.Hash, 64)
			got[rec.ID]++
		}
	}))
	defer srv.Close()

	record(t, st, 0, 25)
	stop := runSIEM(st, &siem.JSONLines{URL: srv.URL, Token: "siem-token", Client: srv.Client()})
	defer stop()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 25 }, 60*time.Second, 50*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
}
