package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "kiln"

// Buckets, in seconds: flow tasks run from a database write to a long driver copy; driver calls
// start at the ~0.2 ms plugin round trip; API requests answer in milliseconds.
var (
	taskBuckets  = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	rpcBuckets   = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5, 30, 120}
	apiBuckets   = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
	schedBuckets = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05}
)

// Metrics holds every family.
type Metrics struct {
	taskDuration   *prometheus.HistogramVec
	tasks          *prometheus.CounterVec
	flowDuration   *prometheus.HistogramVec
	flows          *prometheus.CounterVec
	recovered      *prometheus.CounterVec
	schedDuration  *prometheus.HistogramVec
	schedRejected  *prometheus.CounterVec
	poolBytes      map[string]*prometheus.GaugeVec
	backendUp      *prometheus.GaugeVec
	rpcDuration    *prometheus.HistogramVec
	driverRestarts *prometheus.CounterVec
	volumes        *prometheus.GaugeVec
	apiDuration    *prometheus.HistogramVec
}

// Pool capacity kinds, as SetPool takes them.
var poolKinds = []string{"total", "free", "provisioned", "allocated"}

// New builds every family and registers it on reg; it panics if one is already registered.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		taskDuration: histogram("flow", "task_duration_seconds", "Duration of flow task executes and reverts.", taskBuckets, "flow", "task", "outcome"),
		tasks:        counter("flow", "tasks_total", "Flow task executes and reverts by outcome (success, failure, reverted, revert-failed).", "flow", "task", "outcome"),
		flowDuration: histogram("flow", "duration_seconds", "Duration of whole flows.", taskBuckets, "flow", "outcome"),
		flows:        counter("flow", "runs_total", "Flows run to an end, by outcome (success, reverted, revert-failed).", "flow", "outcome"),
		recovered:    counter("flow", "recovered_total", "Unfinished flows finished by recovery at start-up, by action (resumed, reverted).", "flow", "action"),
		schedDuration: histogram("scheduler", "decision_duration_seconds", "Duration of scheduling decisions, by outcome (placed, no_valid_pool).",
			schedBuckets, "outcome"),
		schedRejected:  counter("scheduler", "rejections_total", "Pools rejected by each scheduler filter.", "filter"),
		poolBytes:      map[string]*prometheus.GaugeVec{},
		backendUp:      gauge("backend", "up", "Whether the backend's driver runs and answers (1) or not (0).", "backend"),
		rpcDuration:    histogram("driver", "rpc_duration_seconds", "Duration of calls to driver processes, by gRPC code.", rpcBuckets, "backend", "method", "code"),
		driverRestarts: counter("driver", "restarts_total", "Restarts of driver processes after they exited.", "backend"),
		volumes:        gauge("", "volumes", "Volumes by status.", "status"),
		apiDuration:    histogram("api", "request_duration_seconds", "Duration of API requests, by route pattern, method and status code.", apiBuckets, "route", "method", "code"),
	}
	for _, kind := range poolKinds {
		m.poolBytes[kind] = gauge("pool", kind+"_bytes", "Pool capacity from the backend's last report: "+kind+" bytes.", "backend", "pool")
	}
	for _, c := range m.collectors() {
		reg.MustRegister(c)
	}
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.taskDuration, m.tasks, m.flowDuration, m.flows, m.recovered,
		m.schedDuration, m.schedRejected, m.backendUp, m.rpcDuration, m.driverRestarts, m.volumes, m.apiDuration}
	for _, kind := range poolKinds {
		cs = append(cs, m.poolBytes[kind])
	}
	return cs
}

func histogram(subsystem, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Subsystem: subsystem,
		Name: name, Help: help, Buckets: buckets}, labels)
}

func counter(subsystem, name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem,
		Name: name, Help: help}, labels)
}

func gauge(subsystem, name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Subsystem: subsystem,
		Name: name, Help: help}, labels)
}

// SchedulerDecision records one decision and how long it took; outcome is "placed" or
// "no_valid_pool".
func (m *Metrics) SchedulerDecision(outcome string, took time.Duration) {
	m.schedDuration.WithLabelValues(outcome).Observe(took.Seconds())
}

// SchedulerRejected counts n pools that filter rejected.
func (m *Metrics) SchedulerRejected(filter string, n int) {
	m.schedRejected.WithLabelValues(filter).Add(float64(n))
}

// SetPool publishes a pool's capacity from its backend's report.
func (m *Metrics) SetPool(backend, pool string, total, free, provisioned, allocated int64) {
	for kind, v := range map[string]int64{"total": total, "free": free, "provisioned": provisioned, "allocated": allocated} {
		m.poolBytes[kind].WithLabelValues(backend, pool).Set(float64(v))
	}
}

// DeletePool removes a pool that its backend no longer reports.
func (m *Metrics) DeletePool(backend, pool string) {
	for _, kind := range poolKinds {
		m.poolBytes[kind].DeleteLabelValues(backend, pool)
	}
}

// SetBackendUp publishes whether a backend's driver runs and answers.
func (m *Metrics) SetBackendUp(backend string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.backendUp.WithLabelValues(backend).Set(v)
}

// DriverRestarted counts a restart of a backend's driver process.
func (m *Metrics) DriverRestarted(backend string) {
	m.driverRestarts.WithLabelValues(backend).Inc()
}

// SetVolumes publishes how many volumes have status.
func (m *Metrics) SetVolumes(status string, n int) {
	m.volumes.WithLabelValues(status).Set(float64(n))
}
