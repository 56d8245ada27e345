package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jitaccess/internal/demo"
	"github.com/jitaccess/jitaccess/internal/entrasim"
	"github.com/jitaccess/jitaccess/internal/proc"
	"github.com/jitaccess/jitaccess/internal/temporaldev"
	"github.com/jitaccess/jitaccess/temporalclient"
)

// disableBound is the invariant: under the suite's faults no account stays enabled, signed in
// or holding a role longer than this after its expires_at (or after the revoke was asked).
// Derived from the retry policies (workflows/options.go) for a grant that loses at most one
// activity attempt to a crash:
//
//	60 s  StartToCloseTimeout of a DisableAccount attempt lost with a SIGKILLed worker or a
//	      crashed Temporal server (no heartbeat: the server notices only at the timeout)
//	10 s  workflow task timeout when the worker died holding the task that fires the timer
//	10 s  RecordGrant("revoking") retrying through a PostgreSQL restart (max interval 10 s)
//	15 s  Graph faults: a few attempts, each waiting Retry-After (2–3 s) or backoff, and a
//	      fault storm of 8 s
//	25 s  restart gaps (3 s each) and scheduling slack on a loaded 2-core machine
//
// = 120 s. The chaos schedule keeps crashes that can lose an attempt at least 80 s apart
// from the retry of an attempt lost earlier, so no grant loses two.
const disableBound = 120 * time.Second

// baseFaults are in force for the whole run: 5 % 429 with Retry-After, 5 % 503 (per request
// and per $batch item) and new users invisible to role assignment for 4 s.
func baseFaults() entrasim.Faults {
	return entrasim.Faults{LatencyMS: 10, ThrottleRate: 0.05, ErrorRate: 0.05, RetryAfterSeconds: 2, ReplicationLagMS: 4000}
}

// stormFaults are in force during a fault storm.
func stormFaults() entrasim.Faults {
	return entrasim.Faults{LatencyMS: 10, ThrottleRate: 0.4, ErrorRate: 0.2, RetryAfterSeconds: 3, ReplicationLagMS: 4000}
}

// settings of one run: bounded (CI) by default, larger with JIT_CHAOS_GRANTS.
type settings struct {
	Grants int
	Out    string
}

func loadSettings(t *testing.T) settings {
	s := settings{Grants: 24, Out: os.Getenv("JIT_CHAOS_OUT")}
	if v := os.Getenv("JIT_CHAOS_GRANTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 || n > 5000 {
			t.Fatalf("chaos: JIT_CHAOS_GRANTS=%q must be a number from 4 to 5000", v)
		}
		s.Grants = n
	}
	return s
}

// TestChaos runs concurrent short grants through crashes and faults and checks, against the
// emulator's directory, that every grant ended right, that no technician got two accounts,
// that every account was disabled, signed out and stripped of its roles within disableBound,
// that every projection row matches its workflow and that no secret reached a log or history.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos suite: skipped in -short mode")
	}
	cfg := loadSettings(t)
	bin := binary(t)
	dir := t.TempDir()
	began := time.Now()

	// The parts, each owned by this test.
	pg := startPostgres(t)
	tp := startTemporal(t, dir)
	issued := &issuedTokens{}
	sim, err := entrasim.New(entrasim.Options{AutoConsent: true})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(issued.wrap(sim))
	t.Cleanup(simSrv.Close)

	apiPort, _ := temporaldev.FreePort()
	metricsPort, _ := temporaldev.FreePort()
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	adminToken := "jit_" + randomString(32)
	encryptionKey := base64.StdEncoding.EncodeToString(randomBytes(32))
	vars := map[string]string{
		"JIT_HTTP_ADDR":             fmt.Sprintf("127.0.0.1:%d", apiPort),
		"JIT_PUBLIC_URL":            apiURL,
		"JIT_DATABASE_URL":          pg.URL(),
		"JIT_TEMPORAL_ADDRESS":      tp.address(),
		"JIT_TASK_QUEUE":            "jit-chaos",
		"JIT_ENCRYPTION_KEY":        encryptionKey,
		"JIT_BOOTSTRAP_ADMIN_TOKEN": adminToken,
		"JIT_ENTRA_AUTHORITY":       simSrv.URL,
		"JIT_GRAPH_URL":             simSrv.URL + "/v1.0",
		"JIT_OAUTH_CLIENT_ID":       entrasim.ClientID,
		"JIT_OAUTH_CLIENT_SECRET":   entrasim.ClientSecret,
		"JIT_MIN_ACCESS_DURATION":   "1s",
		"JIT_MAX_ACCESS_DURATION":   "1h",
		"JIT_LOG_LEVEL":             "debug", // the most a log could leak
		"JIT_RECONCILE_INTERVAL":    reconcileInterval.String(),
	}
	api := &proc.Process{Name: "api", Bin: bin, Args: []string{"serve"}, Env: proc.Env(vars),
		Log: filepath.Join(dir, "api.log"), Ready: proc.HTTPReady(apiURL + "/readyz")}
	workerVars := map[string]string{"JIT_METRICS_ADDR": fmt.Sprintf("127.0.0.1:%d", metricsPort)}
	for k, v := range vars {
		workerVars[k] = v
	}
	worker := &proc.Process{Name: "worker", Bin: bin, Args: []string{"worker"}, Env: proc.Env(workerVars),
		Log: filepath.Join(dir, "worker.log"), Ready: proc.HTTPReady(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))}
	t.Cleanup(func() {
		worker.Stop(stopGrace)
		api.Stop(stopGrace)
		if t.Failed() {
			for _, f := range []string{"api.log", "worker.log"} {
				t.Logf("%s: %s", f, tail(filepath.Join(dir, f), 40))
			}
		}
	})
	if err := api.Start(context.Background(), startLimit); err != nil { // the API migrates the database first
		t.Fatalf("chaos: %v", err)
	}
	if err := worker.Start(context.Background(), startLimit); err != nil {
		t.Fatalf("chaos: %v", err)
	}

	// The vendor guide's setup, plus one technician per first-round grant.
	ctx := context.Background()
	d, err := demo.Seed(ctx, demo.Options{API: apiURL, AdminToken: adminToken, AccessDuration: "30m",
		Roles: []string{demo.RoleUserAdministrator, demo.RoleHelpdeskAdministrator}})
	if err != nil {
		t.Fatalf("chaos: seed: %v", err)
	}
	c := &apiClient{base: apiURL, http: &http.Client{Timeout: 15 * time.Second}}
	w := newWorkload(t, c, d, cfg.Grants, adminToken)
	setupDone := time.Since(began)

	// Faults on, the directory watched, the grants and the chaos under way.
	if err := sim.SetFaults(baseFaults()); err != nil {
		t.Fatal(err)
	}
	watch := newWatcher(sim, "contoso")
	go watch.run()
	defer watch.stop()

	dr, err := newDrift(tp.address(), simSrv.URL, sim)
	if err != nil {
		t.Fatal(err)
	}
	defer dr.close()
	r := &run{t: t, began: time.Now(), api: api, worker: worker, temporal: tp, pg: pg, sim: sim, w: w, drift: dr}
	w.start(r.began)
	chaosDone := make(chan struct{})
	go func() { defer close(chaosDone); r.chaos(w.plannedEnd) }()

	// Every grant must end; give the last ones the bound and a margin.
	deadline := r.began.Add(w.plannedEnd + disableBound + 2*time.Minute)
	allEnded := w.wait(deadline)
	<-chaosDone
	// What only the reconciler ends (reset runs' new grants, out-of-band changes) converges
	// within its bound of the last such event.
	converge := time.Now().Add(reconcileBound + time.Minute)
	for !clean(sim) && time.Now().Before(converge) {
		time.Sleep(time.Second)
	}
	watch.stop()
	_ = sim.SetFaults(entrasim.Faults{})
	if !allEnded {
		t.Errorf("not every grant ended by %s after the start of the run", time.Until(deadline)+time.Since(r.began))
	}
	w.stopPolling()

	// The checks, against the directory, the workflows, the logs and the histories.
	rep := &report{Grants: len(w.grants), Technicians: len(w.techs), Faults: baseFaults(), StormFaults: stormFaults(),
		BoundSeconds: disableBound.Seconds(), SetupSeconds: setupDone.Seconds(), Events: r.eventLog(), Violations: []string{}}
	keyBytes, err := base64.StdEncoding.DecodeString(encryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := temporalclient.NewCodec(keyBytes)
	if err != nil {
		t.Fatal(err)
	}
	check := &checker{t: t, rep: rep, w: w, sim: sim, simURL: simSrv.URL, watch: watch, oob: dr.oobEvents(),
		dc: temporalclient.NewDataConverter(codec)}
	check.endStates()
	check.accounts()
	check.lateness()
	check.signIns()
	rep.ReconcileLateness = statsOf(check.reconciled(check.oob))
	hist := check.workflows(tp.address())
	secrets := append(w.secrets(), adminToken, encryptionKey)
	secrets = append(secrets, issued.all()...)
	if len(issued.all()) == 0 {
		t.Error("the emulator issued no token: the secret scan would prove nothing")
	}
	var logs []string
	for _, f := range []string{"api.log", "worker.log", "temporal.log"} {
		logs = append(logs, filepath.Join(dir, f))
	}
	logs = append(logs, filepath.Join(pg.dir, "postgres.log"))
	check.secrets(secrets, logs, hist)
	rep.WallClockSeconds = time.Since(began).Seconds()
	rep.log(t)
	if cfg.Out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.Out, append(b, '\n'), 0o644); err != nil {
			t.Errorf("JIT_CHAOS_OUT: %v", err)
		}
	}
}

// --- the chaos schedule ---

// run drives the failures.
type run struct {
	t        *testing.T
	began    time.Time
	api      *proc.Process
	worker   *proc.Process
	temporal *temporal
	pg       *postgres
	sim      *entrasim.Server
	w        *workload
	drift    *drift

	mu     sync.Mutex
	events []event
	lossy  []time.Duration // when a crash could lose an activity attempt
}

type event struct {
	AtSeconds   float64 `json:"at_s"`
	What        string  `json:"what"`
	DownSeconds float64 `json:"down_s"`
	InFlight    int     `json:"grants_in_phase,omitempty"`
	Err         string  `json:"error,omitempty"`
}

// step is one failure of the cycle, at an offset from the cycle's start.
type step struct {
	at    time.Duration
	lossy bool
	do    func() event
}

// chaos repeats the cycle of failures until the workload's planned end. The bounded run
// (24 grants) fits one cycle.
func (r *run) chaos(plannedEnd time.Duration) {
	const cycle = 80 * time.Second
	steps := []step{
		{6 * time.Second, true, func() event { return r.killWorker("provisioning", 5*time.Second) }},
		{14 * time.Second, false, func() event { return r.restartAPI(true) }},
		{22 * time.Second, true, r.crashTemporal},
		{32 * time.Second, false, r.crashPostgres},
		{28 * time.Second, false, r.resetRandom},
		{30 * time.Second, false, r.terminateRandom},
		{38 * time.Second, false, r.storm},
		{40 * time.Second, false, r.outOfBandRole},
		{44 * time.Second, true, func() event { return r.killWorker("revoking", 10*time.Second) }},
		{52 * time.Second, false, r.terminateRandom},
		{56 * time.Second, false, func() event { return r.restartAPI(false) }},
		{60 * time.Second, false, r.outOfBandReenable},
		{66 * time.Second, false, r.crashPostgres},
	}
	for n := 0; ; n++ {
		base := time.Duration(n) * cycle
		if base >= plannedEnd {
			return
		}
		for _, s := range steps {
			at := base + s.at
			if at >= plannedEnd+10*time.Second {
				return
			}
			if s.lossy {
				at = r.lossySlot(at)
			}
			time.Sleep(time.Until(r.began.Add(at)))
			if r.w.allEnded() {
				return
			}
			e := s.do()
			r.mu.Lock()
			e.AtSeconds = time.Since(r.began).Seconds() - e.DownSeconds
			if s.lossy {
				r.lossy = append(r.lossy, time.Since(r.began))
			}
			r.events = append(r.events, e)
			r.mu.Unlock()
			if e.Err != "" {
				r.t.Errorf("chaos: %s: %s", e.What, e.Err)
			}
		}
	}
}

// lossySlot postpones a crash that could hit the retry of an attempt lost in an earlier crash
// (60 s StartToCloseTimeout later), so that no grant loses two attempts.
func (r *run) lossySlot(at time.Duration) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	for moved := true; moved; {
		moved = false
		for _, l := range r.lossy {
			if at >= l+50*time.Second && at < l+80*time.Second {
				at, moved = l+80*time.Second, true
			}
		}
	}
	return at
}

func (r *run) eventLog() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

// killWorker SIGKILLs the worker once some grant is in phase (waiting up to wait for one),
// and starts a new one 3 s later.
func (r *run) killWorker(phase string, wait time.Duration) event {
	deadline := time.Now().Add(wait)
	n := r.w.inPhase(phase)
	for n == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		n = r.w.inPhase(phase)
	}
	down := time.Now()
	r.worker.Kill()
	time.Sleep(3 * time.Second)
	e := event{What: "SIGKILL worker mid-" + phase, InFlight: n}
	if err := r.worker.Start(context.Background(), startLimit); err != nil {
		e.Err = err.Error()
	}
	e.DownSeconds = time.Since(down).Seconds()
	return e
}

func (r *run) restartAPI(crash bool) event {
	e := event{What: "restart API (SIGTERM, drained)"}
	down := time.Now()
	if crash {
		e.What = "SIGKILL API and restart"
		r.api.Kill()
	} else {
		r.api.Stop(stopGrace)
	}
	if err := r.api.Start(context.Background(), startLimit); err != nil {
		e.Err = err.Error()
	}
	e.DownSeconds = time.Since(down).Seconds()
	return e
}

func (r *run) crashTemporal() event {
	e := event{What: "SIGKILL Temporal dev server, restart on its state file", InFlight: r.w.inPhase("provisioning") + r.w.inPhase("revoking")}
	down := time.Now()
	r.temporal.crash()
	time.Sleep(3 * time.Second)
	if err := r.temporal.start(); err != nil {
		e.Err = err.Error()
	}
	e.DownSeconds = time.Since(down).Seconds()
	return e
}

func (r *run) crashPostgres() event {
	e := event{What: "PostgreSQL immediate stop (crash), restart", InFlight: r.w.inPhase("provisioning") + r.w.inPhase("revoking")}
	down := time.Now()
	if err := r.pg.crash(); err != nil {
		e.Err = err.Error()
		return e
	}
	time.Sleep(3 * time.Second)
	if err := r.pg.start(); err != nil {
		e.Err = err.Error()
	}
	e.DownSeconds = time.Since(down).Seconds()
	return e
}

// storm raises the emulator's 429/503 rates for 8 s.
func (r *run) storm() event {
	e := event{What: fmt.Sprintf("fault storm: %.0f%% 429, %.0f%% 503 for 8 s", stormFaults().ThrottleRate*100, stormFaults().ErrorRate*100),
		InFlight: r.w.inPhase("provisioning") + r.w.inPhase("revoking")}
	start := time.Now()
	if err := r.sim.SetFaults(stormFaults()); err != nil {
		e.Err = err.Error()
		return e
	}
	time.Sleep(8 * time.Second)
	if err := r.sim.SetFaults(baseFaults()); err != nil {
		e.Err = err.Error()
	}
	e.DownSeconds = time.Since(start).Seconds()
	return e
}

// --- the emulator's issued tokens, for the secret scan ---

// issuedTokens records every access, refresh and ID token the emulator's token endpoint hands out.
type issuedTokens struct {
	mu     sync.Mutex
	tokens []string
}

func (it *issuedTokens) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			h.ServeHTTP(w, r)
			return
		}
		cw := &captureWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		var body map[string]any
		if json.Unmarshal(cw.buf.Bytes(), &body) != nil {
			return
		}
		it.mu.Lock()
		defer it.mu.Unlock()
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, ok := body[k].(string); ok && s != "" {
				it.tokens = append(it.tokens, s)
			}
		}
	})
}

func (it *issuedTokens) all() []string {
	it.mu.Lock()
	defer it.mu.Unlock()
	return append([]string(nil), it.tokens...)
}

type captureWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.buf.Write(p)
	return c.ResponseWriter.Write(p)
}

// --- the API, as a client that rides out restarts ---

type apiClient struct {
	base string
	http *http.Client
}

// errTransient marks answers worth retrying: no connection, 5xx, 429.
var errTransient = errors.New("transient")

// do sends one request and decodes a 2xx JSON answer into out; it returns the status.
func (c *apiClient) do(ctx context.Context, token, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errTransient, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return resp.StatusCode, fmt.Errorf("%w: %s %s: %d %s", errTransient, method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// retry repeats do while the answer is transient, for up to limit.
func (c *apiClient) retry(limit time.Duration, token, method, path string, in, out any) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		code, err := c.do(context.Background(), token, method, path, in, out)
		if err == nil || !errors.Is(err, errTransient) || time.Now().After(deadline) {
			return code, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomString(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// tail is the end of a log file, for failure output.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	ls := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return "\n" + string(bytes.Join(ls, []byte("\n")))
}
