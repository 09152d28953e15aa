package osd

import (
	"fmt"
	"maps"
	"math"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/api"
)

// Labels the adapter stamps on every openstorage volume it creates, and the ProviderData key
// that carries the openstorage ID.
const (
	// LabelVolumeID marks a volume the adapter created; its value is the Kiln volume ID, which
	// is also the locator name.
	LabelVolumeID = "kiln/volume-id"
	// LabelSnapshotID marks a snapshot the adapter created; its value is the Kiln snapshot ID.
	LabelSnapshotID = "kiln/snapshot-id"
	// ProviderDataID is the ProviderData key holding the openstorage volume or snapshot ID.
	ProviderDataID = "osd_id"

	labelPool           = "kiln/pool"
	labelThin           = "kiln/thin"
	labelSourceVolume   = "kiln/source-volume-id"
	labelSourceSnapshot = "kiln/source-snapshot-id"
)

// VolumeStats mirrors openstorage's api.Stats field for field: /proc/diskstats-style counters
// of one volume, cumulative or over IntervalMs.
type VolumeStats struct {
	Reads      uint64 `json:"reads"`       // reads completed
	ReadMs     uint64 `json:"read_ms"`     // time spent reading, in ms
	ReadBytes  uint64 `json:"read_bytes"`  // bytes read
	Writes     uint64 `json:"writes"`      // writes completed
	WriteMs    uint64 `json:"write_ms"`    // time spent writing, in ms
	WriteBytes uint64 `json:"write_bytes"` // bytes written
	IoProgress uint64 `json:"io_progress"` // I/Os in flight
	IoMs       uint64 `json:"io_ms"`       // time spent doing I/O, in ms
	BytesUsed  uint64 `json:"bytes_used"`  // bytes used by the volume
	IntervalMs uint64 `json:"interval_ms"` // the interval the counters cover, in ms
}

// FromStats converts openstorage stats; nil gives zero stats.
func FromStats(s *api.Stats) VolumeStats {
	if s == nil {
		return VolumeStats{}
	}
	return VolumeStats{
		Reads: s.Reads, ReadMs: s.ReadMs, ReadBytes: s.ReadBytes,
		Writes: s.Writes, WriteMs: s.WriteMs, WriteBytes: s.WriteBytes,
		IoProgress: s.IoProgress, IoMs: s.IoMs, BytesUsed: s.BytesUsed, IntervalMs: s.IntervalMs,
	}
}

// ToLocator returns the locator of the volume req asks for: named by the Kiln ID and labelled
// with req.Labels plus the adapter's own labels (LabelVolumeID, the pool and the requested
// provisioning), which override any of req.Labels with the same keys.
func ToLocator(req sdk.CreateVolumeRequest) *api.VolumeLocator {
	labels := maps.Clone(req.Labels)
	if labels == nil {
		labels = make(map[string]string)
	}
	labels[LabelVolumeID] = req.ID
	if req.Pool != "" {
		labels[labelPool] = req.Pool
	}
	if req.Thin != nil {
		labels[labelThin] = fmt.Sprint(*req.Thin)
	}
	return &api.VolumeLocator{Name: req.ID, VolumeLabels: labels}
}

// toSize converts a Kiln size to openstorage's unsigned bytes.
func toSize(field string, n int64) (uint64, error) {
	if n < 0 {
		return 0, sdk.ErrorInvalid(field, fmt.Sprintf("must not be negative, got %d", n))
	}
	return uint64(n), nil
}

// fromSize converts an openstorage size to Kiln's signed bytes.
func fromSize(op string, n uint64) (int64, error) {
	if n > math.MaxInt64 {
		return 0, internal(op, fmt.Sprintf("size %d bytes does not fit in int64", n))
	}
	return int64(n), nil
}

// Parameters (volume-type extra specs) the adapter understands.
const (
	paramCos       = "osd:cos"        // none, low, medium or high
	paramIoProfile = "osd:io_profile" // sequential, random, db or db_remote
)

// toSpec builds the spec of a new volume of size bytes. Unknown parameters are invalid.
func toSpec(size uint64, params map[string]string) (*api.VolumeSpec, error) {
	spec := &api.VolumeSpec{Size: size}
	for k, v := range params {
		var err error
		switch k {
		case paramCos:
			spec.Cos, err = api.CosTypeSimpleValueOf(v)
		case paramIoProfile:
			spec.IoProfile, err = api.IoProfileSimpleValueOf(v)
		default:
			return nil, sdk.ErrorInvalid("params."+k, "unknown parameter; this driver takes "+
				paramCos+" and "+paramIoProfile)
		}
		if err != nil {
			return nil, sdk.ErrorInvalid("params."+k, err.Error())
		}
	}
	return spec, nil
}
