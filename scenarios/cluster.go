package scenarios

import (
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
)

// resolveCluster resolves the cluster section into cfg: workers and slots (enough
// for the largest parallelism before or after a rescale), the network and the
// checkpoint storage.
func (s *Scenario) resolveCluster(cfg *engine.Config, jp *jobPlan, fs *fileState) error {
	c := s.Cluster
	if err := positiveInt(fs, "cluster.workers", "workers", int64(c.Workers)); err != nil {
		return err
	}
	if err := positiveInt(fs, "cluster.slots-per-worker", "slots-per-worker", int64(c.SlotsPerWorker)); err != nil {
		return err
	}
	if c.Workers > maxWorkers {
		return perr("cluster.workers", "workers must be at most %d, got %d", maxWorkers, c.Workers)
	}
	if c.SlotsPerWorker > maxSlots {
		return perr("cluster.slots-per-worker", "slots-per-worker must be at most %d, got %d", maxSlots, c.SlotsPerWorker)
	}
	slots := 4
	if c.SlotsPerWorker > 0 {
		slots = c.SlotsPerWorker
	}
	need := 1
	for _, v := range jp.vertices {
		need = max(need, jp.effPar(v))
	}
	workers := (need + slots - 1) / slots
	if c.Workers > 0 {
		workers = c.Workers
		if workers*slots < need {
			return perr("cluster.workers", "parallelism %d needs %d slots; the cluster has %d workers × %d slots", need, need, workers, slots)
		}
	}
	if workers > maxWorkers {
		return perr("cluster", "parallelism %d needs more than %d workers of %d slots", need, maxWorkers, slots)
	}
	cfg.Workers, cfg.SlotsPerWorker = workers, slots
	if n := c.Network; n != nil {
		if n.Latency != "" {
			d, err := parseDur(n.Latency, false)
			if err != nil {
				return perr("cluster.network.latency", "latency: %v", err)
			}
			cfg.Net.Remote.Latency = d
		}
		if n.Jitter != "" {
			d, err := parseDur(n.Jitter, false)
			if err != nil {
				return perr("cluster.network.jitter", "jitter: %v", err)
			}
			cfg.Net.Remote.Jitter = d
		}
		if n.Bandwidth != "" {
			b, err := ParseBandwidth(n.Bandwidth)
			if err != nil {
				return perr("cluster.network.bandwidth", "%v", err)
			}
			cfg.Net.Remote.Bandwidth = b
		}
	}
	if st := c.CheckpointStorage; st != nil {
		if st.Latency != "" {
			d, err := parseDur(st.Latency, false)
			if err != nil {
				return perr("cluster.checkpoint-storage.latency", "latency: %v", err)
			}
			cfg.Store.Latency = d
		}
		if st.Bandwidth != "" {
			b, err := ParseBandwidth(st.Bandwidth)
			if err != nil {
				return perr("cluster.checkpoint-storage.bandwidth", "%v", err)
			}
			cfg.Store.Bandwidth = b
		}
	}
	return nil
}

// checkTask checks a task reference "name[i]": a source or operator and one of
// its subtasks.
func (jp *jobPlan) checkTask(path, ref string) error {
	name, idx, ok := strings.Cut(ref, "[")
	n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
	if !ok || !strings.HasSuffix(idx, "]") || err != nil || n < 0 {
		return perr(path, "task %q: write an operator name and a subtask, like %q", ref, "totals[1]")
	}
	v, found := jp.byName[name]
	if !found {
		known := make([]string, 0, len(jp.vertices))
		for _, x := range jp.vertices {
			known = append(known, x.name)
		}
		return perr(path, "task %q: no source or operator named %q%s", ref, name, didYouMean(name, known))
	}
	if p := jp.effPar(v); n >= p {
		return perr(path, "task %q: %q has %d subtasks (0 to %d)", ref, name, p, p-1)
	}
	return nil
}

// checkNode checks a node name: "worker-N" or "jobmanager".
func checkNode(path, name string, workers int) error {
	if name == "jobmanager" {
		return nil
	}
	if rest, ok := strings.CutPrefix(name, "worker-"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 0 && strconv.Itoa(n) == rest {
			if n >= workers {
				return perr(path, "node %q: the cluster has workers 0 to %d", name, workers-1)
			}
			return nil
		}
	}
	return perr(path, "unknown node %q (worker-0 ... worker-%d, or jobmanager)", name, workers-1)
}
