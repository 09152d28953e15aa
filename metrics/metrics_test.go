package metrics

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Metrics is the flow engine's observer.
var _ flow.Observer = (*Metrics)(nil)

const flowID = "0c6c5d8e-8c3f-4b7e-9a59-secret-id"

// populated returns a registry with every family holding at least one series.
func populated(t *testing.T) (*prometheus.Registry, *Metrics) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.FlowStarted("volume_create_api", flowID)
	m.TaskStarted("volume_create_api", flowID, "QuotaReserveTask", false)
	m.TaskEnded("volume_create_api", flowID, "QuotaReserveTask", "success", 3*time.Millisecond)
	m.TaskEnded("volume_create_api", flowID, "EntryCreateTask", "reverted", time.Millisecond)
	m.FlowEnded("volume_create_api", flowID, "reverted", 10*time.Millisecond)
	m.FlowRecovered("volume_create_manager", flowID, "resumed")
	m.SchedulerDecision("placed", 200*time.Microsecond)
	m.SchedulerRejected("CapacityFilter", 3)
	m.SetPool("lvm-ssd", "vg0", 100, 40, 60, 60)
	m.SetBackendUp("lvm-ssd", true)
	m.DriverRestarted("lvm-ssd")
	m.SetVolumes("available", 7)
	m.apiDuration.WithLabelValues("GET /v3/{project_id}/volumes", "GET", "200").Observe(0.001)
	m.rpcDuration.WithLabelValues("lvm-ssd", "CreateVolume", "OK").Observe(0.0002)
	return reg, m
}

func TestLint(t *testing.T) {
	reg, _ := populated(t)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 16 {
		t.Errorf("%d families gathered, want 16", len(families))
	}
	var text bytes.Buffer
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(text.String(), flowID) {
		t.Error("a flow ID became a label value")
	}
	promtool(t, text.Bytes())
}

// promtool runs `promtool check metrics` (Debian package prometheus) on the exposition.
func promtool(t *testing.T, exposition []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus; .ci/run installs it)")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestObserver_countsByOutcome(t *testing.T) {
	_, m := populated(t)
	if got := testutil.ToFloat64(m.tasks.WithLabelValues("volume_create_api", "EntryCreateTask", "reverted")); got != 1 {
		t.Errorf("reverted EntryCreateTask = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.flows.WithLabelValues("volume_create_api", "reverted")); got != 1 {
		t.Errorf("reverted flows = %v", got)
	}
	if got := testutil.ToFloat64(m.recovered.WithLabelValues("volume_create_manager", "resumed")); got != 1 {
		t.Errorf("recovered = %v", got)
	}
}

func TestPools(t *testing.T) {
	_, m := populated(t)
	if got := testutil.ToFloat64(m.poolBytes["free"].WithLabelValues("lvm-ssd", "vg0")); got != 40 {
		t.Errorf("free = %v", got)
	}
	m.DeletePool("lvm-ssd", "vg0")
	if n := testutil.CollectAndCount(m.poolBytes["total"]); n != 0 {
		t.Errorf("%d total series left after DeletePool", n)
	}
}

func TestAPI_routePattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v3/{project_id}/volumes/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	srv := httptest.NewServer(m.API(mux))
	defer srv.Close()
	for _, p := range []string{"/v3/p1/volumes/v1", "/v3/p2/volumes/v2", "/nowhere"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := `
		kiln_api_request_duration_seconds_count{code="404",method="GET",route="GET /v3/{project_id}/volumes/{id}"} 2
		kiln_api_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1
	`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(countHeader+want), "kiln_api_request_duration_seconds_count"); err != nil {
		t.Error(err)
	}
}

const countHeader = `
		# HELP kiln_api_request_duration_seconds Duration of API requests, by route pattern, method and status code.
		# TYPE kiln_api_request_duration_seconds histogram
`

func TestDriverInterceptor(t *testing.T) {
	m := New(prometheus.NewRegistry())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go gs.Serve(lis)
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(m.DriverInterceptor("fake")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := healthpb.NewHealthClient(conn)
	_, _ = c.Check(context.Background(), &healthpb.HealthCheckRequest{})
	_, _ = c.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "nope"})
	if got := testutil.CollectAndCount(m.rpcDuration, "kiln_driver_rpc_duration_seconds"); got != 2 {
		t.Fatalf("%d series, want 2", got)
	}
	for code, want := range map[string]int{"OK": 1, "NotFound": 1} {
		h := m.rpcDuration.WithLabelValues("fake", "Check", code).(prometheus.Histogram)
		if n := histogramCount(t, h); n != uint64(want) {
			t.Errorf("Check with code %s observed %d times, want %d", code, n, want)
		}
	}
}

func histogramCount(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	h.Collect(ch)
	pb := new(dto.Metric)
	if err := (<-ch).Write(pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleCount()
}
