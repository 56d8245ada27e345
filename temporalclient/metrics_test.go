package temporalclient

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestHandlerExportsCountersGaugesTimers(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewMetricsHandler(reg).WithTags(map[string]string{"namespace": "default", "task_queue": "jit-access"})
	h.Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"operation": "StartWorkflowExecution"}).Counter("temporal_request").Inc(1) // extra tag is dropped
	h.Gauge("temporal_num_pollers").Update(3)
	h.Timer("temporal_request_latency").Record(20 * time.Millisecond)

	want := `
# HELP temporal_request_total Temporal SDK counter temporal_request
# TYPE temporal_request_total counter
temporal_request_total{namespace="default",task_queue="jit-access"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "temporal_request_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(prometheusGauge(t, reg)); got != 3 {
		t.Errorf("gauge = %v", got)
	}
	n, err := testutil.GatherAndCount(reg, "temporal_request_latency_seconds")
	if err != nil || n != 1 {
		t.Errorf("histogram series = %d, %v", n, err)
	}
}

// A handler keeps the series it resolved: the same name again is the same series, another
// kind of the same name its own, and a tag the SDK spells with '-' lands on its label.
func TestHandlerReusesItsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewMetricsHandler(reg).WithTags(map[string]string{"task-queue": "jit-access"})
	for range 3 {
		h.Counter("temporal_poll").Inc(1)
	}
	h.Gauge("temporal_poll").Update(7)
	want := `
# HELP temporal_poll_total Temporal SDK counter temporal_poll
# TYPE temporal_poll_total counter
temporal_poll_total{task_queue="jit-access"} 3
# HELP temporal_poll Temporal SDK gauge temporal_poll
# TYPE temporal_poll gauge
temporal_poll{task_queue="jit-access"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "temporal_poll_total", "temporal_poll"); err != nil {
		t.Error(err)
	}
}

func prometheusGauge(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "temporal_num_pollers" {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
			g.Set(mf.GetMetric()[0].GetGauge().GetValue())
			return g
		}
	}
	t.Fatal("gauge not exported")
	return nil
}

// BenchmarkHandler is the SDK's two patterns: a long-lived tagged handler asked for the same
// metrics on every task (the worker's), and a handler tagged for one request.
//
//	go test -run '^$' -bench Handler -benchmem ./temporalclient/
func BenchmarkHandler(b *testing.B) {
	h := NewMetricsHandler(prometheus.NewRegistry()).WithTags(map[string]string{"namespace": "default", "task_queue": "jit-access",
		"worker_type": "ActivityWorker", "activity_type": "EnsureAccount"})
	b.Run("long-lived", func(b *testing.B) {
		for b.Loop() {
			h.Counter("temporal_activity_execution").Inc(1)
			h.Timer("temporal_activity_execution_latency").Record(time.Millisecond)
		}
	})
	b.Run("per-request", func(b *testing.B) {
		for b.Loop() {
			r := h.WithTags(map[string]string{"operation": "RespondActivityTaskCompleted"})
			r.Counter("temporal_request").Inc(1)
			r.Timer("temporal_request_latency").Record(time.Millisecond)
		}
	})
}
