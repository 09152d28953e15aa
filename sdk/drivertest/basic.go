package drivertest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	fieldTypes  = regexp.MustCompile(`^(string|bool|int|float|duration|bytes|map\(string\)|block|list\((string|bool|int|float|duration|bytes|block)\))$`)
)

func configClauses(t *testing.T, k *kit) {
	k.clause(t, "C1/schema-well-formed", func(t *testing.T) {
		info := k.client.Info()
		if !namePattern.MatchString(info.Name) || info.Version == "" {
			t.Errorf("name %q / version %q: want a name matching %s and a version", info.Name, info.Version, namePattern)
		}
		seen := map[string]bool{}
		for _, f := range info.Schema {
			if seen[f.Name] || !fieldTypes.MatchString(f.Type) {
				t.Errorf("schema field %q: duplicate or unknown type %q", f.Name, f.Type)
			}
			seen[f.Name] = true
		}
	})
	k.clause(t, "C2/unknown-key-rejected", func(t *testing.T) {
		var obj map[string]any
		if err := json.Unmarshal(k.raw, &obj); err != nil {
			t.Fatalf("DriverConfig is not a JSON object: %v", err)
		}
		obj["drivertest_unknown_key"] = true
		raw, _ := json.Marshal(obj)
		_, err := k.client.Configure(ctx(t), sdk.ConfigureRequest{Backend: k.cfg.Backend, Config: raw})
		wantCode(t, err, sdk.InvalidArgument, "Configure with an unknown key")
		if !strings.Contains(err.Error(), "drivertest_unknown_key") {
			t.Errorf("the error %q does not name the unknown key", err)
		}
	})
	k.clause(t, "C3/secrets-redacted", func(t *testing.T) {
		resp, err := k.client.Configure(ctx(t), sdk.ConfigureRequest{Backend: k.cfg.Backend, Config: k.raw})
		if err != nil {
			t.Fatalf("Configure: %v", err)
		}
		var given, echoed any
		_ = json.Unmarshal(k.raw, &given)
		_ = json.Unmarshal(resp.Echo, &echoed)
		checked := 0
		for _, f := range k.client.Info().Schema {
			if !f.Secret {
				continue
			}
			path := strings.Split(f.Name, ".")
			in, out := valuesAt(given, path), valuesAt(echoed, path)
			for i, v := range in {
				if v == nil || v == "" {
					continue
				}
				checked++
				if i >= len(out) || out[i] != "<redacted>" {
					t.Errorf("secret %s is echoed, not redacted", f.Name)
				}
			}
		}
		if checked == 0 {
			t.Skip("the configuration sets no secret field")
		}
	})
}

// valuesAt collects the values at a dotted path in decoded JSON, walking into lists.
func valuesAt(v any, path []string) []any {
	switch v := v.(type) {
	case []any:
		var out []any
		for _, item := range v {
			out = append(out, valuesAt(item, path)...)
		}
		return out
	case map[string]any:
		if len(path) == 0 {
			return []any{v}
		}
		return valuesAt(v[path[0]], path[1:])
	case nil:
		return nil
	}
	if len(path) == 0 {
		return []any{v}
	}
	return nil
}

func capacityClauses(t *testing.T, k *kit) {
	k.clause(t, "P1/pools-well-formed", func(t *testing.T) {
		report, err := k.client.Capacity(ctx(t))
		if err != nil {
			t.Fatalf("Capacity: %v", err)
		}
		if len(report.Pools) == 0 || report.BootID == "" || report.Seq == 0 {
			t.Fatalf("report has %d pools, boot ID %q, seq %d", len(report.Pools), report.BootID, report.Seq)
		}
		for _, p := range report.Pools {
			if p.Features == nil || p.GranularityBytes <= 0 || (!p.Thin && !p.Thick) {
				t.Errorf("pool %s: features %v, granularity %d, thin %v thick %v", p.Name, p.Features, p.GranularityBytes, p.Thin, p.Thick)
			}
			if !p.CapacityUnknown && !p.CapacityInfinite && (p.FreeBytes > p.TotalBytes || p.TotalBytes <= 0) {
				t.Errorf("pool %s: free %d of total %d", p.Name, p.FreeBytes, p.TotalBytes)
			}
		}
	})
	k.clause(t, "P2/seq-increases", func(t *testing.T) {
		a, errA := k.client.Capacity(ctx(t))
		b, errB := k.client.Capacity(ctx(t))
		if errA != nil || errB != nil {
			t.Fatalf("Capacity: %v, %v", errA, errB)
		}
		if b.Seq <= a.Seq || a.BootID != b.BootID {
			t.Errorf("seq %d then %d, boot %q then %q", a.Seq, b.Seq, a.BootID, b.BootID)
		}
	})
}

func idempotencyClauses(t *testing.T, k *kit) {
	k.clause(t, "I1/same-args-ok", func(t *testing.T) {
		req := k.request(k.size)
		first := k.create(t, req)
		if first.ID != req.ID || first.Pool != req.Pool || first.SizeBytes < req.SizeBytes {
			t.Fatalf("created %+v for %+v", first, req)
		}
		for range k.cfg.IdempotentCount - 1 {
			again, err := k.client.CreateVolume(ctx(t), req)
			if err != nil {
				t.Fatalf("repeated CreateVolume: %v", err)
			}
			if again.SizeBytes != first.SizeBytes || !sameMap(again.ProviderData, first.ProviderData) {
				t.Errorf("repeat returned %+v, first %+v", again, first)
			}
		}
	})
	k.clause(t, "I1/one-backend-object", func(t *testing.T) {
		k.needMeasurable(t)
		before := k.poolNow(t)
		req := k.request(k.size)
		if k.pool.Thick {
			req = thick(req)
		}
		for range k.cfg.IdempotentCount {
			k.create(t, req)
		}
		if n := k.countListed(t, req.ID); n == 0 {
			t.Errorf("volume %s is not listed", req.ID)
		}
		after := k.poolNow(t)
		if req.Thin != nil && measurable(before) {
			if used := before.FreeBytes - after.FreeBytes; used > k.size+k.slack {
				t.Errorf("%d identical creates used %d bytes of pool %s, one volume is %d", k.cfg.IdempotentCount, used, k.pool.Name, k.size)
			}
		}
		if grown := after.ProvisionedBytes - before.ProvisionedBytes; grown > k.size+k.slack {
			t.Errorf("%d identical creates provisioned %d bytes, one volume is %d", k.cfg.IdempotentCount, grown, k.size)
		}
	})
	k.clause(t, "I1/different-size-AlreadyExists", func(t *testing.T) {
		req := k.request(k.size)
		k.create(t, req)
		req.SizeBytes = k.size * 2
		_, err := k.client.CreateVolume(ctx(t), req)
		wantCode(t, err, sdk.AlreadyExists, "CreateVolume of an existing ID with another size")
	})
	k.clause(t, "I1/different-provisioning-AlreadyExists", func(t *testing.T) {
		k.need(t, k.pool.Thin && k.pool.Thick, "both thin and thick provisioning")
		req := thick(k.request(k.size))
		k.create(t, req)
		_, err := k.client.CreateVolume(ctx(t), thin(req))
		wantCode(t, err, sdk.AlreadyExists, "CreateVolume of an existing thick ID asking for thin")
	})
	k.clause(t, "I2/delete-missing-ok", func(t *testing.T) {
		if err := k.client.DeleteVolume(ctx(t), sdk.VolumeRef{ID: k.newID("volume"), Pool: k.pool.Name}); err != nil {
			t.Errorf("DeleteVolume of a missing volume: %v", err)
		}
	})
	k.clause(t, "I2/delete-twice-and-recreate", func(t *testing.T) {
		req := k.request(k.size)
		v := k.create(t, req)
		k.remove(t, v)
		k.remove(t, v)
		if n := k.countListed(t, v.ID); n > 0 {
			t.Errorf("deleted volume %s is still listed", v.ID)
		}
		k.create(t, req)
	})
	k.clause(t, "I9/listed-by-id", func(t *testing.T) {
		k.need(t, k.caps().List, "ListVolumes")
		v := k.create(t, k.request(k.size))
		got, ok := k.listed(t)[v.ID]
		if !ok || got.SizeBytes != v.SizeBytes || got.Pool != v.Pool {
			t.Errorf("ListVolumes has %+v (found %v), created %+v", got, ok, v)
		}
	})
}

// measurable tells whether a pool's free bytes mean anything.
func measurable(p sdk.Pool) bool { return !p.CapacityUnknown && !p.CapacityInfinite }

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func sizeClauses(t *testing.T, k *kit) {
	g := k.pool.GranularityBytes
	k.clause(t, "S1/rounded-to-granularity", func(t *testing.T) {
		k.need(t, g > 1, "a granularity above one byte")
		size := k.size + 1
		v := k.create(t, k.request(size))
		if v.SizeBytes < size || v.SizeBytes%g != 0 {
			t.Errorf("asked %d bytes in granules of %d, got %d", size, g, v.SizeBytes)
		}
	})
	k.clause(t, "S2/below-minimum-OutOfRange", func(t *testing.T) {
		k.need(t, k.pool.MinVolumeBytes > g, "a minimum volume size")
		_, err := k.client.CreateVolume(ctx(t), k.request(k.pool.MinVolumeBytes-g))
		wantCode(t, err, sdk.OutOfRange, "CreateVolume below the minimum")
	})
	k.clause(t, "S3/above-maximum-OutOfRange", func(t *testing.T) {
		k.need(t, k.pool.MaxVolumeBytes > 0, "a maximum volume size")
		_, err := k.client.CreateVolume(ctx(t), k.request(k.pool.MaxVolumeBytes+g))
		wantCode(t, err, sdk.OutOfRange, "CreateVolume above the maximum")
	})
	k.clause(t, "S4/zero-size-InvalidArgument", func(t *testing.T) {
		_, err := k.client.CreateVolume(ctx(t), k.request(0))
		wantCode(t, err, sdk.InvalidArgument, "CreateVolume of 0 bytes")
	})
	k.clause(t, "S5/unknown-pool-InvalidArgument", func(t *testing.T) {
		req := k.request(k.size)
		req.Pool = "drivertest-no-such-pool"
		_, err := k.client.CreateVolume(ctx(t), req)
		wantCode(t, err, sdk.InvalidArgument, "CreateVolume in an unknown pool")
	})
}
