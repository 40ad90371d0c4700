package scenarios

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/protocol"
)

// ReferenceProtocol is the protocol every fault-free reference runs under. The
// reference is what the job must produce, whichever protocol is under test: a
// fault-free run's keyed state, output multiset and verifying counts depend on
// the job, not on how it checkpoints (the premise of the exactly-once oracles,
// which compare a faulty run's, timed differently, with it). Only the number of
// records committed out of order varies with timing, and only whether it is zero
// decides a verdict: a property of the topology. So one reference serves every
// protocol of a job, and a protocol that breaks even a fault-free run is caught
// instead of being compared with itself.
const ReferenceProtocol = protocol.AlignedName

// ReferenceCache keeps fault-free reference runs so that the runs of one job
// under several protocols (a suite, a sweep), or of one case under many fault
// schedules (shrinking), compute it once. It is safe for concurrent use; two
// runs that need the same reference at once compute it once, the second waits.
// It holds at most a fixed number of references, dropping the oldest first.
type ReferenceCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*refEntry
	order   []string // keys, oldest first
}

type refEntry struct {
	once sync.Once
	obs  *Observation
	err  error
}

// NewReferenceCache returns a cache of at most max references (a reference holds
// its job's final keyed state).
func NewReferenceCache(max int) *ReferenceCache {
	return &ReferenceCache{max: max, entries: map[string]*refEntry{}}
}

// referenceKey names everything a reference run depends on: what the setup's
// NewJob builds (Setup.JobKey), the engine configuration but its protocol (the
// reference runs under ReferenceProtocol), the seed and the time limit. Faults,
// rescaling and the expected outcome only concern the run with faults. ok is
// false for a setup whose job has no key (built by hand) or that restores from a
// checkpoint: those are never cached.
func referenceKey(setup *Setup, seed uint64) (key string, ok bool) {
	if setup.JobKey == "" || setup.Config.RestoreFrom != nil {
		return "", false
	}
	cfg := setup.Config
	cfg.Protocol = nil
	// every field of engine.Config is a value (a field holding a pointer or a
	// func would print its address: a miss, never a wrong hit)
	return fmt.Sprintf("%s\x00%#v\x00%d\x00%d", setup.JobKey, cfg, seed, setup.Limit), true
}

// referenceObservation is what the oracles compare with.
var referenceObservation = observe{state: true, outputs: true}

// reference returns the fault-free reference of a setup, from cache when given
// one.
func reference(setup *Setup, seed uint64, cache *ReferenceCache) (*Observation, error) {
	key, ok := referenceKey(setup, seed)
	if cache == nil || !ok {
		return runReference(setup, seed, referenceObservation)
	}
	e := cache.entry(key)
	e.once.Do(func() {
		e.obs, e.err = runReference(setup, seed, referenceObservation)
		if e.obs != nil {
			e.obs.Runtime = nil // the oracles need the observation, not the world
		}
	})
	return e.obs, e.err
}

func (c *ReferenceCache) entry(key string) *refEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		return e
	}
	e := &refEntry{}
	c.entries[key] = e
	c.order = append(c.order, key)
	if len(c.order) > c.max {
		delete(c.entries, c.order[0]) // a run still computing it keeps its entry
		c.order = c.order[1:]
	}
	return e
}

// runReference runs the reference: the setup without faults, under
// ReferenceProtocol, collecting what obs asks for.
func runReference(setup *Setup, seed uint64, obs observe) (*Observation, error) {
	r := *setup
	r.Protocol, r.Config.Protocol = ReferenceProtocol, nil
	return execute(&r, seed, false, nil, obs)
}

// scenarioJobKey identifies the job a scenario's setup builds for a protocol of
// the given guarantee (which picks the default sink kind): the scenario's job,
// cluster, configuration, rescaling and actions (whose restores' parallelism
// decides which edges may be forward ones), whole.
func scenarioJobKey(s *Scenario, guarantee checkpoint.Guarantee) string {
	b, err := json.Marshal(struct {
		Job       JobSpec
		Cluster   ClusterSpec
		Config    map[string]string
		Rescale   map[string]int
		Actions   []ActionSpec
		Guarantee checkpoint.Guarantee
	}{s.Job, s.Cluster, s.Config, s.Rescale, s.Actions, guarantee})
	if err != nil {
		return "" // not cached
	}
	return "scenario\x00" + string(b)
}
