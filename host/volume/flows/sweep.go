package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
)

// Recast is the action Recover reports for a `creating` volume that no flow held: its queued
// cast died with the process, so it is cast to the scheduler again.
const Recast = "recast"

// inflight counts the queued and running jobs of each volume.
type inflight struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *inflight) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = make(map[string]int)
	}
	f.n[id]++
}

// claim adds id unless it is there already, and reports whether it did.
func (f *inflight) claim(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[id] > 0 {
		return false
	}
	if f.n == nil {
		f.n = make(map[string]int)
	}
	f.n[id]++
	return true
}

func (f *inflight) done(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[id]--; f.n[id] <= 0 {
		delete(f.n, id)
	}
}

func (f *inflight) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[id] > 0
}

// track runs submit for the volume's job, counting the job in flight until it ends.
func (s *Service) track(id string, submit func(Job) error, job Job) error {
	s.busy.add(id)
	err := submit(func(ctx context.Context) {
		defer s.busy.done(id)
		job(ctx)
	})
	if err != nil {
		s.busy.done(id)
	}
	return err
}

// sweep casts again every `creating` volume that neither the journal nor the queues hold: the
// process died after one flow ended and before the next one's first journal entry, while its
// cast was only in memory (Cinder leaves these `creating` until an operator acts). No driver
// call was made for them, so their claims are released and scheduling starts over; a cast
// that is refused ends the volume in `error`. It runs only for a single host (Config.Owner
// empty): with several hosts, another host's volumes in flight would look orphaned.
func (s *Service) sweep(ctx context.Context, strays []string) []flow.Recovery {
	var out []flow.Recovery
	for _, id := range strays {
		err := s.store.ReleaseClaims(ctx, id)
		if err == nil {
			err = s.castSchedule(id, retry{}, s.sched.TrySubmit)
		}
		if err != nil {
			err = s.failVolume(ctx, id, "", "the create was lost in a restart and could not be cast again: "+err.Error())
		}
		out = append(out, flow.Recovery{ID: id, Flow: "volume_create_scheduler", Action: Recast, Err: err})
	}
	return out
}

// strays lists the `creating` volumes that neither the journal nor the queues hold. It runs
// before recovery queues anything, so that a recovered flow finishing meanwhile cannot be taken
// for a stray.
func (s *Service) strays(ctx context.Context) ([]string, error) {
	if s.cfg.Owner != "" {
		return nil, nil
	}
	vols, err := s.store.ListVolumes(ctx, store.AllProjects(),
		store.VolumeFilter{Status: volume.StatusCreating}, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list creating volumes: %w", err)
	}
	held, err := s.journaled(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vols {
		if !s.busy.has(v.ID) && !held[v.ID] {
			out = append(out, v.ID)
		}
	}
	return out, nil
}

// journaled returns the volumes that flows still in the journal hold, such as a flow whose
// revert failed again: recovery retries those, the sweep leaves them alone.
func (s *Service) journaled(ctx context.Context) (map[string]bool, error) {
	entries, err := s.engine.Journal.Unfinished(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the flow journal: %w", err)
	}
	held := make(map[string]bool, len(entries))
	for _, e := range entries {
		var st struct{ VolumeID string }
		if json.Unmarshal(e.State, &st) == nil && st.VolumeID != "" {
			held[st.VolumeID] = true
		}
	}
	return held, nil
}
