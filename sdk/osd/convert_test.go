package osd_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/osd"
	"github.com/libopenstorage/openstorage/api"
)

func TestFromStats(t *testing.T) {
	tests := []struct {
		name string
		in   *api.Stats
		want osd.VolumeStats
	}{
		{"nil", nil, osd.VolumeStats{}},
		{"every field",
			&api.Stats{Reads: 1, ReadMs: 2, ReadBytes: 3, Writes: 4, WriteMs: 5, WriteBytes: 6,
				IoProgress: 7, IoMs: 8, BytesUsed: 9, IntervalMs: 10},
			osd.VolumeStats{Reads: 1, ReadMs: 2, ReadBytes: 3, Writes: 4, WriteMs: 5, WriteBytes: 6,
				IoProgress: 7, IoMs: 8, BytesUsed: 9, IntervalMs: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, osd.FromStats(tt.in)); diff != "" {
				t.Errorf("FromStats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToLocator(t *testing.T) {
	thin := true
	tests := []struct {
		name string
		req  sdk.CreateVolumeRequest
		want *api.VolumeLocator
	}{
		{"bare", sdk.CreateVolumeRequest{ID: "v1"},
			&api.VolumeLocator{Name: "v1", VolumeLabels: map[string]string{osd.LabelVolumeID: "v1"}}},
		{"pool, provisioning and labels",
			sdk.CreateVolumeRequest{ID: "v1", Name: "db", Pool: "ssd", Thin: &thin,
				Labels: map[string]string{"project": "p", osd.LabelVolumeID: "spoofed"}},
			&api.VolumeLocator{Name: "v1", VolumeLabels: map[string]string{
				osd.LabelVolumeID: "v1", "kiln/pool": "ssd", "kiln/thin": "true", "project": "p"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, osd.ToLocator(tt.req)); diff != "" {
				t.Errorf("ToLocator (-want +got):\n%s", diff)
			}
		})
	}
	labels := map[string]string{"project": "p"}
	osd.ToLocator(sdk.CreateVolumeRequest{ID: "v1", Labels: labels})
	if len(labels) != 1 {
		t.Errorf("ToLocator modified the request's labels: %v", labels)
	}
}
