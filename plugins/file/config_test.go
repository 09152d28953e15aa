package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := sdk.DecodeConfig[Config]([]byte(`{"pool": [{"name": "a", "path": "/srv/kiln/a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Pools: []PoolConfig{{Name: "a", Path: "/srv/kiln/a", Thin: true, Thick: true,
		Reflink: true, Granularity: mib}}}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("decoded configuration (-want +got):\n%s", diff)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() PoolConfig {
		return PoolConfig{Name: "a", Path: "/srv/a", Thin: true, Thick: true, Granularity: mib}
	}
	with := func(edit func(*PoolConfig)) []PoolConfig {
		p := ok()
		edit(&p)
		return []PoolConfig{p}
	}
	tests := []struct {
		name  string
		pools []PoolConfig
		err   string // empty: valid
	}{
		{"valid", []PoolConfig{ok()}, ""},
		{"no pools", nil, "at least one pool"},
		{"no name", with(func(p *PoolConfig) { p.Name = "" }), "name: required"},
		{"relative path", with(func(p *PoolConfig) { p.Path = "srv/a" }), "absolute path"},
		{"root", with(func(p *PoolConfig) { p.Path = "/" }), "root directory"},
		{"nothing offered", with(func(p *PoolConfig) { p.Thin, p.Thick = false, false }), "neither thin nor thick"},
		{"min above max", with(func(p *PoolConfig) { p.MinVolume, p.MaxVolume = 2*mib, mib }), "exceeds max_volume"},
		{"negative granularity", with(func(p *PoolConfig) { p.Granularity = -1 }), "must not be negative"},
		{"negative oversubscription", with(func(p *PoolConfig) { p.MaxOversubscription = -1 }), "max_oversubscription"},
		{"duplicate name", []PoolConfig{ok(), {Name: "a", Path: "/srv/b", Thin: true}}, "duplicate pool"},
		{"same path", []PoolConfig{ok(), {Name: "b", Path: "/srv/a/", Thin: true}}, "overlaps"},
		{"nested path", []PoolConfig{ok(), {Name: "b", Path: "/srv/a/b", Thin: true}}, "overlaps"},
		{"sibling prefix", []PoolConfig{ok(), {Name: "b", Path: "/srv/ab", Thin: true}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Config{Pools: tt.pools}.Validate()
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("Validate: %v, want no error", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.err)
			}
		})
	}
}
