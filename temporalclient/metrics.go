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
	// resolved holds this handler's series: the SDK asks a long-lived tagged handler for the
	// same few metrics on every task and request (a handler holds a handful).
	mu       sync.Mutex
	resolved []resolved
}

type resolved struct {
	kind   byte // 'c', 'g' or 't'
	name   string
	metric any // counter, gauge, timer or nopMetric
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
	return h.metric('c', name).(client.MetricsCounter)
}

func (h *handler) Gauge(name string) client.MetricsGauge {
	return h.metric('g', name).(client.MetricsGauge)
}

func (h *handler) Timer(name string) client.MetricsTimer {
	return h.metric('t', name).(client.MetricsTimer)
}

func (h *handler) metric(kind byte, name string) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.resolved {
		if r.kind == kind && r.name == name {
			return r.metric
		}
	}
	var m any = nopMetric{}
	if v := h.vecs.get(kind, name, h.tags); v != nil {
		lv := values(v.labels, h.tags)
		switch {
		case v.counter != nil:
			m = counter{v.counter.WithLabelValues(lv...)}
		case v.gauge != nil:
			m = gauge{v.gauge.WithLabelValues(lv...)}
		case v.histogram != nil:
			m = timer{v.histogram.WithLabelValues(lv...)}
		}
	}
	h.resolved = append(h.resolved, resolved{kind, name, m})
	return m
}

func (vs *vecs) get(kind byte, name string, tags map[string]string) *vec {
	name = sanitize(name)
	key := string(kind) + ":" + name
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
	case 'c':
		v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name + "_total", Help: "Temporal SDK counter " + name}, labels)
		c = v.counter
	case 'g':
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

// values orders tags by labels; a tag the SDK spelled with characters Prometheus refuses
// matches its sanitized label.
func values(labels []string, tags map[string]string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		if v, ok := tags[l]; ok {
			out[i] = v
			continue
		}
		for k, v := range tags {
			if sanitize(k) == l {
				out[i] = v
				break
			}
		}
	}
	return out
}

// sanitize maps what Prometheus refuses in a name to '_' (the SDK's names need no change,
// and then nothing is allocated).
func sanitize(s string) string {
	if strings.IndexFunc(s, invalid) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if invalid(r) {
			return '_'
		}
		return r
	}, s)
}

func invalid(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
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
