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
