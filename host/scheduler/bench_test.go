package scheduler

import (
	"fmt"
	"testing"
)

// benchPools builds n pools over n/4 backends: a mix of thin and thick, 90 % in az1, 90 % with
// room for the request, each with two typed attributes, so that most pools pass every default
// filter and the weigher and the sort see nearly all of them.
func benchPools(n int) []Pool {
	pools := make([]Pool, n)
	for i := range pools {
		zone := "az1"
		if i%10 == 9 {
			zone = "az2"
		}
		free := int64(100+i%900) * GiB
		if i%10 == 5 {
			free = GiB
		}
		pools[i] = Pool{
			Backend: fmt.Sprintf("backend-%d", i/4), Name: fmt.Sprintf("pool-%d", i%4), Zone: zone,
			Age: 30e9, TotalBytes: 1024 * GiB, FreeBytes: free, AllocatedBytes: 1024*GiB - free,
			Volumes: int64(i % 50), Thin: i%2 == 0, Thick: true, ReservedPercent: 5,
			Features: FeatureSnapshots | FeatureClone | FeatureMultiattach, VolumeBackendName: "lvm",
			VendorName: "Open Source", DriverVersion: "1.0.0", Protocols: []string{"iscsi"},
			Attributes: map[string]Attribute{
				"latency": FloatAttr(float64(1+i%4), "ms"),
				"tier":    StringAttr("gold"),
			},
		}
	}
	return pools
}

func benchRequest() Request {
	return Request{Size: 100 * GiB, Zone: "az1", ExtraSpecs: map[string]string{
		"volume_backend_name":  "lvm",
		"storage_protocol":     "<in> iSCSI",
		"multiattach":          "<is> True",
		"capabilities:latency": "<= 5 ms",
		"capabilities:tier":    "<or> gold <or> silver",
		"provisioning:type":    "thin",
	}, Attempted: []PoolRef{{Backend: "backend-0", Pool: "pool-0"}}}
}

func benchmarkPick(b *testing.B, n int) {
	pools, req := benchPools(n), benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		d, err := Pick(Config{}, pools, req)
		if err != nil || len(d.Pools) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkPick_1000 is one decision over 1,000 pools with the default filters and weighers.
func BenchmarkPick_1000(b *testing.B) { benchmarkPick(b, 1000) }

// BenchmarkPick_10000 is one decision over 10,000 pools.
func BenchmarkPick_10000(b *testing.B) { benchmarkPick(b, 10000) }

// BenchmarkPick_10000_everything enables every filter and weigher: each pool has a filter and
// a goodness function (one per backend, compiled once per decision), and the request a query
// hint and affinity hints.
func BenchmarkPick_10000_everything(b *testing.B) {
	pools, req := benchPools(10000), benchRequest()
	for i := range pools {
		pools[i].FilterFunction = "stats.free_capacity_gb > volume.size and capabilities.latency <= 5"
		pools[i].GoodnessFunction = fmt.Sprintf("%d - stats.allocated_capacity_gb / 20", 50+i/4%50)
	}
	req.Hints = Hints{DifferentBackend: []string{"backend-1"}, SameBackend: nil,
		Query: `["and", [">=", "$free_capacity_gb", 100], ["=", "$capabilities.tier", "gold"]]`}
	cfg := Config{
		Filters: []string{filterZone, filterCapacity, filterCapabilities, filterAttempted,
			filterDifferent, filterSame, filterJSON, filterDriver},
		Weighers: []Weigher{{Name: weigherCapacity}, {Name: weigherAllocated}, {Name: weigherVolumes},
			{Name: weigherGoodness}, {Name: weigherChance}},
		TopK: 3,
	}
	b.ReportAllocs()
	for b.Loop() {
		d, err := Pick(cfg, pools, req)
		if err != nil || len(d.Pools) == 0 {
			b.Fatal(err)
		}
	}
}
