package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

// ConfigKey documents one configuration key a scenario accepts.
type ConfigKey struct {
	Name    string
	Default string
	Doc     string
	// Alias names the key this one is another name for (Flink's deprecated or
	// alternative spellings); empty for a primary key.
	Alias string
}

// confState collects the configuration while its keys are read.
type confState struct {
	cfg            engine.Config
	intervalSet    bool
	atLeastOnce    bool
	unaligned      bool
	restartType    string
	attempts       int
	attemptsSet    bool
	watermark      sim.Duration
	segmentSize    int
	segmentSizeSet bool
}

// MinCheckpointInterval is the shortest checkpoint interval, Flink's (its
// CheckpointCoordinatorConfiguration refuses anything shorter): below it a run
// spends its time triggering checkpoints.
const MinCheckpointInterval = 10 * sim.Millisecond

type configKey struct {
	def, doc string
	set      func(c *confState, v string) error
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", v)
}

func parseInt(v string, min, max int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("want a whole number, got %q", v)
	}
	if n < min || n > max {
		if max == math.MaxInt32 {
			return 0, fmt.Errorf("must be at least %d, got %d", min, n)
		}
		return 0, fmt.Errorf("must be within [%d, %d], got %d", min, max, n)
	}
	return n, nil
}

func parseFloat(v string, min, max float64) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a number, got %q", v)
	}
	if f < min || f > max {
		if math.IsInf(max, 1) {
			return 0, fmt.Errorf("must be at least %v, got %v", min, f)
		}
		return 0, fmt.Errorf("must be within [%v, %v], got %v", min, max, f)
	}
	return f, nil
}

// parseDur reads a duration; positive requires it to be more than 0.
func parseDur(v string, positive bool) (sim.Duration, error) {
	d, err := sim.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if positive && d <= 0 {
		return 0, fmt.Errorf("must be positive, got %q", v)
	}
	return d, nil
}

// orTiny maps an explicit 0 to 1 ns where the engine reads 0 as "the default".
func orTiny(d sim.Duration) sim.Duration {
	if d == 0 {
		return sim.Nanosecond
	}
	return d
}

func durKey(def, doc string, positive bool, f func(c *confState, d sim.Duration)) configKey {
	return configKey{def: def, doc: doc, set: func(c *confState, v string) error {
		d, err := parseDur(v, positive)
		if err != nil {
			return err
		}
		f(c, d)
		return nil
	}}
}

func boolKey(def, doc string, f func(c *confState, b bool)) configKey {
	return configKey{def: def, doc: doc, set: func(c *confState, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		f(c, b)
		return nil
	}}
}

func intKey(def, doc string, min, max int, f func(c *confState, n int)) configKey {
	return configKey{def: def, doc: doc, set: func(c *confState, v string) error {
		n, err := parseInt(v, min, max)
		if err != nil {
			return err
		}
		f(c, n)
		return nil
	}}
}

func sizeKey(def, doc string, min, max int64, f func(c *confState, n int64)) configKey {
	return configKey{def: def, doc: doc, set: func(c *confState, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		if n < min || n > max {
			return fmt.Errorf("must be within [%d, %d] bytes, got %d", min, max, n)
		}
		f(c, n)
		return nil
	}}
}

// configKeys are the keys a scenario's config accepts: Flink's names and units,
// plus a few ckptsim.* keys for what only the simulation has.
var configKeys = map[string]configKey{
	"execution.checkpointing.interval": {def: "1 s", doc: "time between checkpoint triggers, at least 10 ms as in Flink; 0 disables checkpointing (unlike Flink, checkpointing is on by default)",
		set: func(c *confState, v string) error {
			d, err := parseDur(v, false)
			if err != nil {
				return err
			}
			if d != 0 && d < MinCheckpointInterval {
				return fmt.Errorf("must be 0 (checkpointing off) or at least %v, as in Flink, got %q", MinCheckpointInterval, v)
			}
			c.cfg.Checkpoint.Interval, c.intervalSet = d, true
			return nil
		}},
	"execution.checkpointing.mode": {def: "EXACTLY_ONCE", doc: "EXACTLY_ONCE or AT_LEAST_ONCE (-> atleastonce)", set: func(c *confState, v string) error {
		switch strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(v)), "-", "_") {
		case "EXACTLY_ONCE":
			c.atLeastOnce = false
		case "AT_LEAST_ONCE":
			c.atLeastOnce = true
		default:
			return fmt.Errorf("want EXACTLY_ONCE or AT_LEAST_ONCE, got %q", v)
		}
		return nil
	}},
	"execution.checkpointing.unaligned.enabled": boolKey("false", "unaligned checkpoints (-> unaligned, or hybrid with an aligned-checkpoint-timeout > 0)",
		func(c *confState, b bool) { c.unaligned = b }),
	"execution.checkpointing.aligned-checkpoint-timeout": durKey("0 s", "how long a checkpoint stays aligned before it turns unaligned (hybrid); 0: unaligned at once", false,
		func(c *confState, d sim.Duration) { c.cfg.Checkpoint.AlignedTimeout = d }),
	"execution.checkpointing.timeout": durKey("10 min", "a checkpoint not complete after this long fails", true,
		func(c *confState, d sim.Duration) { c.cfg.Checkpoint.Timeout = d }),
	"execution.checkpointing.min-pause": durKey("0 s", "least time between the end of a checkpoint and the next trigger", false,
		func(c *confState, d sim.Duration) { c.cfg.Checkpoint.MinPause = d }),
	"execution.checkpointing.max-concurrent-checkpoints": intKey("1", "checkpoints in flight at once", 1, 1000,
		func(c *confState, n int) { c.cfg.Checkpoint.MaxConcurrent = n }),
	"execution.checkpointing.tolerable-failed-checkpoints": intKey("0", "consecutive failed checkpoints tolerated before the job fails over", 0, math.MaxInt32,
		func(c *confState, n int) { c.cfg.Checkpoint.TolerableFailures = n }),
	"execution.checkpointing.checkpoints-after-tasks-finish": boolKey("true", "checkpoints go on once some tasks finished (FLIP-147); false: an end of partition during a pending checkpoint aborts it, and no checkpoint is triggered while only some tasks finished",
		func(c *confState, b bool) { c.cfg.Checkpoint.NoCheckpointsAfterTasksFinish = !b }),
	"execution.checkpointing.externalized-checkpoint-retention": {def: "NO_EXTERNALIZED_CHECKPOINTS",
		doc: "which checkpoint outlives the job for a restore action from: checkpoint: RETAIN_ON_CANCELLATION (after a cancel or a failure), DELETE_ON_CANCELLATION (after a failure only) or NO_EXTERNALIZED_CHECKPOINTS",
		set: func(c *confState, v string) error {
			switch r := engine.Retention(strings.ToUpper(strings.TrimSpace(v))); r {
			case engine.RetainOnCancellation, engine.DeleteOnCancellation, engine.NoExternalizedCheckpoints:
				c.cfg.Checkpoint.Retention = r
				return nil
			}
			return fmt.Errorf("want RETAIN_ON_CANCELLATION, DELETE_ON_CANCELLATION or NO_EXTERNALIZED_CHECKPOINTS, got %q", v)
		}},
	"execution.checkpointing.incremental": boolKey("false", "incremental checkpoints (pebble backend)",
		func(c *confState, b bool) { c.cfg.Checkpoint.Incremental = b }),
	"execution.buffer-timeout": durKey("100 ms", "a partially filled network buffer is sent after this long; 0 flushes after every record", false,
		func(c *confState, d sim.Duration) {
			if d == 0 {
				d = -1
			}
			c.cfg.BufferTimeout = d
		}),
	"state.backend.type": {def: "heap", doc: "heap (Flink's hashmap) or pebble (Flink's rocksdb)", set: func(c *confState, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "heap", "hashmap":
			c.cfg.StateBackend = "heap"
		case "pebble", "rocksdb":
			c.cfg.StateBackend = "pebble"
		default:
			return fmt.Errorf("want heap (hashmap) or pebble (rocksdb), got %q", v)
		}
		return nil
	}},
	"restart-strategy.type": {def: "fixed-delay", doc: "none, fixed-delay or exponential-delay", set: func(c *confState, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "none", "off", "disable":
			c.restartType = "none"
		case "fixed-delay", "fixeddelay":
			c.restartType = "fixed-delay"
		case "exponential-delay", "exponentialdelay":
			c.restartType = "exponential-delay"
		case "failure-rate", "failurerate":
			return fmt.Errorf("the failure-rate restart strategy is not modelled (use none, fixed-delay or exponential-delay)")
		default:
			return fmt.Errorf("want none, fixed-delay or exponential-delay, got %q", v)
		}
		return nil
	}},
	"jobmanager.execution.failover-strategy": {def: "region", doc: "region (restart the pipelined region of a failed task) or full (restart the whole job)", set: func(c *confState, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "region":
			c.cfg.Restart.Failover = "region"
		case "full":
			c.cfg.Restart.Failover = "full"
		default:
			return fmt.Errorf("want region or full, got %q", v)
		}
		return nil
	}},
	"restart-strategy.fixed-delay.attempts": intKey("10", "restarts before the job fails for good (fixed-delay)", 0, math.MaxInt32,
		func(c *confState, n int) { c.attempts, c.attemptsSet = n, true }),
	"restart-strategy.fixed-delay.delay": durKey("1 s", "pause before a restart (fixed-delay)", false,
		func(c *confState, d sim.Duration) { c.cfg.Restart.Delay = orTiny(d) }),
	"restart-strategy.exponential-delay.initial-backoff": durKey("1 s", "first pause before a restart (exponential-delay)", false,
		func(c *confState, d sim.Duration) { c.cfg.Restart.InitialBackoff = orTiny(d) }),
	"restart-strategy.exponential-delay.max-backoff": durKey("1 min", "longest pause before a restart (exponential-delay)", false,
		func(c *confState, d sim.Duration) { c.cfg.Restart.MaxBackoff = orTiny(d) }),
	"restart-strategy.exponential-delay.backoff-multiplier": {def: "2", doc: "growth of the pause per restart (exponential-delay)", set: func(c *confState, v string) error {
		f, err := parseFloat(v, 1, math.Inf(1))
		c.cfg.Restart.Multiplier = f
		return err
	}},
	"restart-strategy.exponential-delay.jitter-factor": {def: "0.1", doc: "random share added to or taken from each pause, within [0, 1]", set: func(c *confState, v string) error {
		f, err := parseFloat(v, 0, 1)
		c.cfg.Restart.Jitter = f
		return err
	}},
	"taskmanager.network.memory.buffers-per-channel": intKey("2", "exclusive network buffers per input channel", 1, 1<<16,
		func(c *confState, n int) { c.cfg.Net.ExclusivePerChannel = n }),
	"taskmanager.network.memory.floating-buffers-per-gate": intKey("8", "floating network buffers per input gate", 0, 1<<16,
		func(c *confState, n int) {
			if n == 0 {
				n = -1
			}
			c.cfg.Net.FloatingPerGate = n
		}),
	"taskmanager.memory.segment-size": sizeKey("32 kb", "network buffer size", 64, 1<<30,
		func(c *confState, n int64) { c.segmentSize, c.segmentSizeSet = int(n), true }),
	"taskmanager.network.memory.buffer-debloat.enabled": boolKey("false", "buffer debloating (FLIP-183)",
		func(c *confState, b bool) { c.cfg.Net.Debloat.Enabled = b }),
	"taskmanager.network.memory.buffer-debloat.target": durKey("1 s", "in-flight data per gate, as time to consume it", true,
		func(c *confState, d sim.Duration) { c.cfg.Net.Debloat.Target = d }),
	"taskmanager.network.memory.buffer-debloat.period": durKey("200 ms", "how often the buffer size is recomputed", true,
		func(c *confState, d sim.Duration) { c.cfg.Net.Debloat.Period = d }),
	"taskmanager.network.memory.buffer-debloat.samples": intKey("20", "throughput samples averaged", 1, 1<<16,
		func(c *confState, n int) { c.cfg.Net.Debloat.Samples = n }),
	"taskmanager.network.memory.buffer-debloat.threshold-percentages": intKey("25", "relative change of the buffer size below which it is not announced", 0, 100,
		func(c *confState, n int) {
			c.cfg.Net.Debloat.Threshold = float64(n) / 100
			if n == 0 {
				c.cfg.Net.Debloat.Threshold = 1e-9
			}
		}),
	"taskmanager.memory.min-segment-size": sizeKey("256 b", "smallest buffer size debloating chooses", 1, 1<<30,
		func(c *confState, n int64) { c.cfg.Net.Debloat.MinSize = int(n) }),
	"heartbeat.timeout": durKey("1 s", "how long the job manager takes to notice a dead worker (Flink's default is 50 s; ckptsim's is short)", true,
		func(c *confState, d sim.Duration) { c.cfg.HeartbeatTimeout = d }),
	"pipeline.auto-watermark-interval": durKey("200 ms", "how often sources emit watermarks", true,
		func(c *confState, d sim.Duration) { c.watermark = d }),
	"ckptsim.task.quantum": durKey("100 us", "simulated CPU time a task spends between two looks at its mailbox", true,
		func(c *confState, d sim.Duration) { c.cfg.Quantum = d }),
	"ckptsim.sink.commit-retry-delay": durKey("100 ms", "pause before a failed sink commit is retried", true,
		func(c *confState, d sim.Duration) { c.cfg.CommitRetry = d }),
}

// configAliases are other spellings Flink accepts for a key.
var configAliases = map[string]string{
	"execution.checkpointing.unaligned":         "execution.checkpointing.unaligned.enabled",
	"execution.checkpointing.alignment-timeout": "execution.checkpointing.aligned-checkpoint-timeout",
	"state.backend":                     "state.backend.type",
	"state.backend.incremental":         "execution.checkpointing.incremental",
	"restart-strategy":                  "restart-strategy.type",
	"execution.buffer-timeout.interval": "execution.buffer-timeout",
	"ckptsim.heartbeat.timeout":         "heartbeat.timeout",
	"execution.checkpointing.checkpoints-after-tasks-finish.enabled": "execution.checkpointing.checkpoints-after-tasks-finish",
	"execution.checkpointing.externalized-checkpoint.retention":      "execution.checkpointing.externalized-checkpoint-retention",
}

// notModelled are Flink keys ckptsim knows but does not model.
var notModelled = []string{
	"execution.checkpointing.num-retained", "state.checkpoints.num-retained",
	"restart-strategy.failure-rate.", "restart-strategy.exponential-delay.reset-backoff-threshold",
	"restart-strategy.exponential-delay.attempts-before-reset-backoff",
	"execution.checkpointing.force-unaligned",
	"execution.checkpointing.unaligned.max-subtasks-per-channel-state-file",
	"execution.checkpointing.unaligned.interruptible-timers.enabled",
	"state.backend.changelog.",
}

// ConfigKeys lists the configuration keys a scenario accepts, sorted, aliases
// last after their key.
func ConfigKeys() []ConfigKey {
	var out []ConfigKey
	for name, k := range configKeys {
		out = append(out, ConfigKey{Name: name, Default: k.def, Doc: k.doc})
	}
	for alias, name := range configAliases {
		if name != "" {
			out = append(out, ConfigKey{Name: alias, Alias: name, Doc: "same as " + name})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		ka, kb := a.Name, b.Name
		if a.Alias != "" {
			ka = a.Alias + "\x00" + a.Name
		}
		if b.Alias != "" {
			kb = b.Alias + "\x00" + b.Name
		}
		return ka < kb
	})
	return out
}

// resolveConfig reads the configuration keys in sorted order.
func resolveConfig(conf map[string]string) (*confState, error) {
	c := &confState{}
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	primary := map[string]string{} // primary key -> the spelling used
	for _, k := range keys {
		path := "config." + k
		name := canonicalKey(k)
		ck, ok := configKeys[name]
		if !ok {
			for _, nm := range notModelled {
				if k == nm || strings.HasSuffix(nm, ".") && strings.HasPrefix(k, nm) {
					return nil, &pathError{path: path, key: true, msg: fmt.Sprintf("configuration key %q is not modelled by ckptsim", k)}
				}
			}
			known := make([]string, 0, len(configKeys))
			for n := range configKeys {
				known = append(known, n)
			}
			return nil, &pathError{path: path, key: true, msg: fmt.Sprintf("unknown configuration key %q%s", k, didYouMean(k, known))}
		}
		if prev, dup := primary[name]; dup {
			return nil, &pathError{path: path, key: true, msg: fmt.Sprintf("%q sets the same option as %q", k, prev)}
		}
		primary[name] = k
		if err := ck.set(c, conf[k]); err != nil {
			return nil, &pathError{path: path, msg: fmt.Sprintf("%s: %v", k, err)}
		}
	}
	return c, nil
}

// protocolName is the protocol the configuration selects, as in Flink.
func (c *confState) protocolName() string {
	switch {
	case c.atLeastOnce:
		return protocol.AtLeastOnceName
	case c.unaligned && c.cfg.Checkpoint.AlignedTimeout == 0:
		return protocol.UnalignedName
	case c.unaligned:
		return protocol.HybridName
	}
	return protocol.AlignedName
}

// finish applies the defaults that depend on several keys.
func (c *confState) finish() {
	if !c.intervalSet {
		c.cfg.Checkpoint.Interval = sim.Second
	}
	c.cfg.Restart.Strategy = c.restartType
	if c.restartType == "" {
		c.cfg.Restart.Strategy = "fixed-delay"
	}
	if c.attemptsSet {
		if c.attempts == 0 && c.cfg.Restart.Strategy == "fixed-delay" {
			c.cfg.Restart.Strategy = "none"
		}
		c.cfg.Restart.Attempts = c.attempts
	}
	if c.segmentSizeSet {
		c.cfg.Net.SegmentSize = c.segmentSize
	}
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// closeNames returns the names close to name (by edit distance, or containing it
// or contained in it), closest first.
func closeNames(name string, names []string) []string {
	type cand struct {
		n string
		d int
	}
	var cs []cand
	ln := strings.ToLower(name)
	if len(ln) > 200 {
		return nil
	}
	for _, n := range names {
		l := strings.ToLower(n)
		d := editDistance(ln, l)
		limit := max(2, len(n)/4)
		switch {
		case d <= limit:
		case len(ln) >= 3 && (strings.Contains(l, ln) || strings.Contains(ln, l)):
			d = limit + 1
		default:
			continue
		}
		cs = append(cs, cand{n, d})
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].n < cs[j].n
	})
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.n)
	}
	return out
}

func didYouMean(name string, names []string) string {
	c := closeNames(name, names)
	if len(c) == 0 {
		return ""
	}
	if len(c) > 3 {
		c = c[:3]
	}
	return fmt.Sprintf(" (did you mean %s?)", quoteList(c))
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, " or ")
}
