package fake

// KitConfig is a configuration, as the host would send it, that lets the conformance kit
// (sdk/drivertest) exercise every clause: pool "fast" is small, thick and thin, bounded, and
// offers every feature with snapshots that keep their volume; pool "indep" is thin with
// snapshots that outlive their volume. Creates take 25 ms, so that the cancellation clause
// cancels one mid-call. Extra entries are merged in, e.g. {"bugs": […]}.
func KitConfig(stateDir string, extra map[string]any) map[string]any {
	cfg := map[string]any{
		"state_dir": stateDir,
		"api_key":   "s3cret",
		"latency":   map[string]string{"create_volume": "25ms"},
		"pool": []map[string]any{
			{"name": "fast", "total": "20GiB", "thick": true, "thin": true, "granularity": "4MiB",
				"min_volume": "8MiB", "max_volume": "64GiB", "features": map[string]any{
					"snapshots": true, "create_from_snapshot": true, "clone": true, "extend": true}},
			{"name": "indep", "total": "1TiB", "thin": true, "features": map[string]any{
				"snapshots": true, "create_from_snapshot": true, "independent_snapshots": true}},
		},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}
