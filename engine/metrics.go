package engine

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics creates Prometheus collectors on the engine's own registry,
// labelled with pipeline, component and kind. Collectors of the same name
// are shared between components: each gets its own labelled child. Safe for
// concurrent use.
type Metrics struct {
	set       *metricSet
	pipeline  string
	component string
	kind      string
}

type metricSet struct {
	reg  *prometheus.Registry
	mu   sync.Mutex
	vecs map[string]prometheus.Collector
}

var metricLabels = []string{"pipeline", "component", "kind"}

// NewMetrics returns the Metrics of a pipeline, registering collectors on
// reg; a nil reg makes a fresh registry.
func NewMetrics(reg *prometheus.Registry, pipeline string) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return &Metrics{set: &metricSet{reg: reg, vecs: map[string]prometheus.Collector{}}, pipeline: pipeline}
}

// WithPipeline returns Metrics on the same registry for another pipeline,
// so that several pipelines in one process share collectors.
func (m *Metrics) WithPipeline(name string) *Metrics {
	return &Metrics{set: m.set, pipeline: name}
}

// Registry returns the Prometheus registry the collectors are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.set.reg }

// For returns Metrics whose collectors are labelled with component and
// kind.
func (m *Metrics) For(component string, kind Kind) *Metrics {
	return &Metrics{set: m.set, pipeline: m.pipeline, component: component, kind: string(kind)}
}

func (m *Metrics) labels() []string {
	return []string{m.pipeline, m.component, m.kind}
}

func vec[V prometheus.Collector](m *Metrics, name string, mk func() V) V {
	m.set.mu.Lock()
	defer m.set.mu.Unlock()
	if c, ok := m.set.vecs[name]; ok {
		if v, ok := c.(V); ok {
			return v
		}
		panic("engine: metric " + name + " registered twice with different types")
	}
	v := mk()
	m.set.reg.MustRegister(v)
	m.set.vecs[name] = v
	return v
}

// Counter returns the counter name (sluice_<thing>_total) for this
// component.
func (m *Metrics) Counter(name, help string) prometheus.Counter {
	return vec(m, name, func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, metricLabels)
	}).WithLabelValues(m.labels()...)
}

// Gauge returns the gauge name for this component.
func (m *Metrics) Gauge(name, help string) prometheus.Gauge {
	return vec(m, name, func() *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, metricLabels)
	}).WithLabelValues(m.labels()...)
}

// Histogram returns the histogram name for this component. buckets applies
// when the histogram is first created; nil means the Prometheus defaults.
// The histogram is also a native (sparse) histogram with buckets about 10%
// wide, which a scraper asking for the protobuf format receives and from
// which quantiles can be read far more precisely than from buckets.
func (m *Metrics) Histogram(name, help string, buckets []float64) prometheus.Observer {
	return vec(m, name, func() *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: name, Help: help, Buckets: buckets,
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  160,
			NativeHistogramMinResetDuration: time.Hour,
		}, metricLabels)
	}).WithLabelValues(m.labels()...)
}
