package notify

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the dispatcher's Prometheus metrics: attempts by destination type and result
// (delivered, retry, failed), and how long events waited in the outbox before delivery.
type Metrics struct {
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them on reg (nil: not registered). A
// collector already registered (a second dispatcher in the process) is shared.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jitaccess_notification_attempts_total",
			Help: "Notification delivery attempts by destination type and result (delivered, retry, failed).",
		}, []string{"type", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jitaccess_notification_delivery_delay_seconds",
			Help:    "Time from an event entering the outbox to its delivery.",
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 15, 60, 300, 1800, 7200},
		}, []string{"type"}),
	}
	if reg != nil {
		m.attempts = register(reg, m.attempts)
		m.latency = register(reg, m.latency)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
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

func (m *Metrics) attempt(typ, result string, waited time.Duration) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(typ, result).Inc()
	if result == "delivered" {
		m.latency.WithLabelValues(typ).Observe(waited.Seconds())
	}
}

// Attempts is the attempts counter (tests).
func (m *Metrics) Attempts() *prometheus.CounterVec { return m.attempts }
