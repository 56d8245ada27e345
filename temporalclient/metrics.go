package temporalclient

// The SDK's metrics (workflow task latency, activity failures, schedule-to-start, poller
// counts…) go to the process's Prometheus registry, so an operator scrapes API, worker and SDK
// figures from one /metrics endpoint.

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// NewMetricsHandler returns an SDK metrics handler registering its metrics on reg under the prefix
// "temporal_" (the SDK's names already start with "temporal_").
func NewMetricsHandler(reg prometheus.Registerer) client.MetricsHandler {
	return &handler{vecs: &vecs{reg: reg, m: map[string]*vec{}}}
}

type vecs struct {
	reg prometheus.Registerer
	mu  sync.Mutex
	m   map[string]*vec
}

// vec is one metric family. Prometheus needs a fixed label set per family, while the SDK may
// call a metric with different tags; the set is fixed at first use and later tags are mapped
// onto it (unknown tags dropped, missing ones empty).
type vec struct {
	labels    []string
	counter   *prometheus.CounterVec
	gauge     *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
}

type handler struct {
	vecs *vecs
	tags map[string]string
}

func (h *handler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return &handler{vecs: h.vecs, tags: merged}
}

func (h *handler) Counter(name string) client.MetricsCounter {
	v := h.vecs.get("counter", name, h.tags)
	if v == nil || v.counter == nil {
		return nopMetric{}
	}
	return counter{v.counter.WithLabelValues(values(v.labels, h.tags)...)}
}

func (h *handler) Gauge(name string) client.MetricsGauge {
	v := h.vecs.get("gauge", name, h.tags)
	if v == nil || v.gauge == nil {
		return nopMetric{}
	}
	return gauge{v.gauge.WithLabelValues(values(v.labels, h.tags)...)}
}

func (h *handler) Timer(name string) client.MetricsTimer {
	v := h.vecs.get("timer", name, h.tags)
	if v == nil || v.histogram == nil {
		return nopMetric{}
	}
	return timer{v.histogram.WithLabelValues(values(v.labels, h.tags)...)}
}

func (vs *vecs) get(kind, name string, tags map[string]string) *vec {
	name = sanitize(name)
	key := kind + ":" + name
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if v, ok := vs.m[key]; ok {
		return v
	}
	labels := make([]string, 0, len(tags))
	for k := range tags {
		labels = append(labels, sanitize(k))
	}
	sort.Strings(labels)
	v := &vec{labels: labels}
	var c prometheus.Collector
	switch kind {
	case "counter":
		v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name + "_total", Help: "Temporal SDK counter " + name}, labels)
		c = v.counter
	case "gauge":
		v.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Temporal SDK gauge " + name}, labels)
		c = v.gauge
	default:
		v.histogram = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name + "_seconds", Help: "Temporal SDK timer " + name,
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, labels)
		c = v.histogram
	}
	if err := vs.reg.Register(c); err != nil {
		// A clash with a metric registered elsewhere: drop this one rather than fail the SDK.
		vs.m[key] = nil
		return nil
	}
	vs.m[key] = v
	return v
}

func values(labels []string, tags map[string]string) []string {
	out := make([]string, len(labels))
	byName := make(map[string]string, len(tags))
	for k, v := range tags {
		byName[sanitize(k)] = v
	}
	for i, l := range labels {
		out[i] = byName[l]
	}
	return out
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

type counter struct{ c prometheus.Counter }

func (c counter) Inc(n int64) { c.c.Add(float64(n)) }

type gauge struct{ g prometheus.Gauge }

func (g gauge) Update(v float64) { g.g.Set(v) }

type timer struct{ h prometheus.Observer }

func (t timer) Record(d time.Duration) { t.h.Observe(d.Seconds()) }

type nopMetric struct{}

func (nopMetric) Inc(int64)            {}
func (nopMetric) Update(float64)       {}
func (nopMetric) Record(time.Duration) {}
