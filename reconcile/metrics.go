package reconcile

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the reconciler finds and does. A nil *Metrics counts nothing.
type Metrics struct {
	findings *prometheus.CounterVec
	repairs  *prometheus.CounterVec
	sweeps   *prometheus.CounterVec
	duration prometheus.Histogram
}

// NewMetrics registers the reconciler's metrics on reg (an already registered collector of
// the same name is reused, so two registrations in one process share it).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitaccess_reconcile_findings_total",
			Help: "Drift the reconciler found, by kind (drift.*)."}, []string{"kind"}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitaccess_reconcile_repairs_total",
			Help: "Repairs the reconciler attempted, by kind and result (ok, error)."}, []string{"kind", "result"}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jitaccess_reconcile_sweeps_total",
			Help: "Application sweeps, by result (ok, error)."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jitaccess_reconcile_sweep_duration_seconds",
			Help: "Duration of one application's sweep.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}),
	}
	m.findings = register(reg, m.findings)
	m.repairs = register(reg, m.repairs)
	m.sweeps = register(reg, m.sweeps)
	m.duration = register(reg, m.duration)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

func (m *Metrics) finding(f Finding) {
	if m == nil {
		return
	}
	m.findings.WithLabelValues(f.Kind).Inc()
	if f.DryRun || f.Done == doneRecorded {
		return
	}
	result := "ok"
	if f.Error != "" {
		result = "error"
	}
	m.repairs.WithLabelValues(f.Kind, result).Inc()
}

func (m *Metrics) sweep(err error, took time.Duration) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.sweeps.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}
