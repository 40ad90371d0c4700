package scenarios

import (
	"fmt"
	"github.com/ckptsim/ckptsim/protocol"
	"strings"
)

// baselineKey disables checkpointing for a sweep's baseline runs.
const baselineKey = "execution.checkpointing.interval"

// Param is one swept key with the values it takes, in order.
type Param struct {
	Key    string
	Values []string
}

// ParseParam reads "KEY=V1,V2,...".
func ParseParam(s string) (Param, error) {
	key, vals, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return Param{}, fmt.Errorf("%q: expected KEY=V1,V2 (comma-separated values)", s)
	}
	var p Param
	p.Key = key
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return Param{}, fmt.Errorf("%q: empty value", s)
		}
		p.Values = append(p.Values, v)
	}
	return p, nil
}

// Sweep is a grid of runs of one scenario: every combination of the swept values,
// under every protocol, for every seed. Set fixes values for every point first.
type Sweep struct {
	// Name names the sweep's outputs (figures and tables).
	Name     string
	Scenario *Scenario
	// Set are fixed overrides ("KEY=VALUE"), applied in order before the swept ones.
	Set       []Param
	Params    []Param
	Protocols []string
	// Seeds is the number of seeds per point, from the scenario's seed up.
	Seeds int
	// Baseline adds, for every point and seed, a run with checkpointing disabled:
	// the throughput a checkpoint protocol's overhead is measured against.
	Baseline bool
}

// SweepPoint is one run of a sweep.
type SweepPoint struct {
	// Values are the swept values of this point, one per Param.
	Values   []string
	Protocol string // empty for a baseline run
	Seed     uint64
	Setup    *Setup
	// Model is the analytical model of the point (zero when it has none).
	Model Model
	// Overrides are every value the point sets on the scenario, in order.
	Overrides []Param
}

// Replay is the command that reproduces the point's run exactly (hash, when not
// empty, is the trace hash it must reproduce).
func (p *SweepPoint) Replay(scenario, hash string) string {
	cmd := ReplayCommand(scenario, p.Setup.Protocol, p.Seed, hash)
	for _, o := range p.Overrides {
		cmd += " " + o.Flag("--set")
	}
	return cmd
}

// Flag is the parameter as a simrun flag, "--set KEY=V1,V2", quoted for a shell.
func (p Param) Flag(name string) string {
	return name + " " + ShellWord(p.Key+"="+strings.Join(p.Values, ","))
}

// ShellWord quotes s for a POSIX shell when it needs it.
func ShellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Baseline reports whether the point is a run without checkpoints.
func (p *SweepPoint) Baseline() bool { return p.Protocol == "" }

// DefaultMaxRuns bounds the runs of one sweep unless the caller allows more
// (simrun sweep --max-runs): a grid or a seed count typed one order of magnitude
// too large is an error at once, not hours of runs or an exhausted memory.
const DefaultMaxRuns = 100_000

// Runs is the number of runs of the sweep: grid points × protocols (plus the
// baseline) × seeds. More than max runs is an error that names the factors and
// the bound.
func (s *Sweep) Runs(max int) (int, error) {
	if len(s.Params) == 0 {
		return 0, fmt.Errorf("sweep %s: no --param to sweep", s.Name)
	}
	if len(s.Protocols) == 0 {
		return 0, fmt.Errorf("sweep %s: no protocol", s.Name)
	}
	if s.Seeds < 1 {
		return 0, fmt.Errorf("sweep %s: seeds must be at least 1, got %d", s.Name, s.Seeds)
	}
	factors := []int{}
	var what []string
	for _, p := range s.Params {
		factors = append(factors, len(p.Values))
		what = append(what, fmt.Sprintf("%d values of %s", len(p.Values), p.Key))
	}
	factors = append(factors, s.protocolCount(), s.Seeds)
	what = append(what, fmt.Sprintf("%d protocols", s.protocolCount()), fmt.Sprintf("%d seeds", s.Seeds))
	n := 1.0 // a float: the product of huge factors must not wrap around
	for _, f := range factors {
		n *= float64(f)
	}
	if n > float64(max) {
		return 0, fmt.Errorf("sweep %s has %.0f runs (%s), more than the limit of %d runs; sweep fewer values or seeds, or raise the limit (--max-runs)",
			s.Name, n, strings.Join(what, " × "), max)
	}
	return int(n), nil
}

// protocolCount is the number of runs per grid point and seed.
func (s *Sweep) protocolCount() int {
	if s.Baseline {
		return len(s.Protocols) + 1
	}
	return len(s.Protocols)
}

// Check resolves every grid point under every protocol once (the seeds of a point
// share its setup), so that an impossible value is reported, naming the key and
// value, before anything runs. Runs must have accepted the sweep's size.
func (s *Sweep) Check() error {
	for i, n := 0, s.gridSize(); i < n; i++ {
		vals := s.gridPoint(i)
		sc, err := s.point(vals)
		if err != nil {
			return err
		}
		for p := range s.protocolCount() {
			if _, err := resolvePoint(sc, s.protocol(p), vals, s.describe(vals)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Point resolves run i of the sweep, 0 <= i < Runs: runs are in grid order (the
// first param slowest), then by protocol (the baseline first), then by seed. A
// sweep resolves its points one at a time, as they run, so its memory does not
// grow with its size.
func (s *Sweep) Point(i int) (SweepPoint, error) {
	seed := i % s.Seeds
	i /= s.Seeds
	proto := s.protocol(i % s.protocolCount())
	vals := s.gridPoint(i / s.protocolCount())
	sc, err := s.point(vals)
	if err != nil {
		return SweepPoint{}, err
	}
	pt, err := resolvePoint(sc, proto, vals, s.describe(vals))
	if err != nil {
		return SweepPoint{}, err
	}
	pt.Overrides = append([]Param(nil), s.Set...)
	for k, p := range s.Params {
		pt.Overrides = append(pt.Overrides, Param{p.Key, []string{vals[k]}})
	}
	if proto == "" {
		pt.Overrides = append(pt.Overrides, Param{baselineKey, []string{"0 s"}})
	}
	pt.Seed = sc.Seed + uint64(seed)
	if pt.Seed == 0 {
		pt.Seed = 1
	}
	return pt, nil
}

// Points resolves every run of a sweep of at most DefaultMaxRuns runs, in order
// (for tests and small sweeps; large ones resolve Point by point).
func (s *Sweep) Points() ([]SweepPoint, error) {
	n, err := s.Runs(DefaultMaxRuns)
	if err != nil {
		return nil, err
	}
	out := make([]SweepPoint, n)
	for i := range out {
		if out[i], err = s.Point(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// protocol is the i-th protocol of a grid point: "" for the baseline, first.
func (s *Sweep) protocol(i int) string {
	if s.Baseline {
		if i == 0 {
			return ""
		}
		i--
	}
	return s.Protocols[i]
}

// gridSize is the number of grid points.
func (s *Sweep) gridSize() int {
	n := 1
	for _, p := range s.Params {
		n *= len(p.Values)
	}
	return n
}

// gridPoint is the values of grid point i, the first param slowest.
func (s *Sweep) gridPoint(i int) []string {
	vals := make([]string, len(s.Params))
	for k := len(s.Params) - 1; k >= 0; k-- {
		n := len(s.Params[k].Values)
		vals[k] = s.Params[k].Values[i%n]
		i /= n
	}
	return vals
}

// point is the scenario with the fixed and the swept values applied.
func (s *Sweep) point(vals []string) (*Scenario, error) {
	sc := s.Scenario.Clone()
	for _, p := range s.Set {
		for _, v := range p.Values {
			if err := sc.Override(p.Key, v); err != nil {
				return nil, fmt.Errorf("--set %s=%s: %w", p.Key, v, err)
			}
		}
	}
	for i, p := range s.Params {
		if err := sc.Override(p.Key, vals[i]); err != nil {
			return nil, fmt.Errorf("--param %s=%s: %w", p.Key, vals[i], err)
		}
	}
	return sc, nil
}

func (s *Sweep) describe(vals []string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = s.Params[i].Key + "=" + v
	}
	return strings.Join(parts, " ")
}

// resolvePoint sets up one protocol (or the checkpoint-free baseline) at one point.
func resolvePoint(sc *Scenario, proto string, vals []string, what string) (SweepPoint, error) {
	if proto == "" {
		sc = sc.Clone()
		if err := sc.Override(baselineKey, "0 s"); err != nil {
			return SweepPoint{}, err
		}
	}
	setup, err := sc.Setup(proto)
	if err != nil {
		return SweepPoint{}, fmt.Errorf("%s, protocol %s: %w", what, orNone(proto), err)
	}
	pt := SweepPoint{Values: vals, Protocol: proto, Setup: setup}
	if m, err := setup.AlignedModel(); err == nil {
		pt.Model = m
	}
	return pt, nil
}

func orNone(p string) string {
	if p == "" {
		return "none (baseline)"
	}
	return p
}

// Command is the simrun command line that runs the sweep.
func (s *Sweep) Command() string {
	args := []string{"simrun", "sweep", s.Scenario.Name}
	for _, p := range s.Set {
		args = append(args, p.Flag("--set"))
	}
	for _, p := range s.Params {
		args = append(args, p.Flag("--param"))
	}
	args = append(args, "--protocols", strings.Join(s.Protocols, ","))
	if s.Seeds > 1 {
		args = append(args, "--seeds", fmt.Sprint(s.Seeds))
	}
	if s.Baseline {
		args = append(args, "--baseline")
	}
	return strings.Join(args, " ") + " --name " + s.Name
}

// CheckmateSweep names the built-in sweep that reproduces CheckMate's comparison
// of the three protocol families against key skew (docs/checkmate.md).
const CheckmateSweep = "checkmate"

// BuiltinSweeps are the sweeps behind the report's figures 3 to 7 (simrun suite
// --out runs them): checkpoint duration against backpressure, checkpoint size
// against in-flight buffers, recovery against the checkpoint interval,
// throughput overhead against the checkpoint interval, and CheckMate's
// comparison of coordinated, uncoordinated and communication-induced
// checkpointing against the hot-key ratio.
func BuiltinSweeps() ([]*Sweep, error) {
	type def struct {
		name, scenario string
		set            []Param
		param          Param
		protocols      []string
		baseline       bool
	}
	three := []string{protocol.AlignedName, protocol.UnalignedName, protocol.HybridName}
	unbounded := func(source, d string) []Param {
		return []Param{{source + ".records", []string{"0"}}, {"duration", []string{d}}}
	}
	defs := []def{
		{"backpressure", "flink-checkpointing-benchmark-1ms", unbounded("source", "30 s"),
			Param{"sink.cost", []string{"100 us", "300 us", "1 ms", "3 ms", "10 ms"}}, three, false},
		{"inflight-buffers", "flink-checkpointing-benchmark-1ms", unbounded("source", "12 s"),
			Param{"taskmanager.network.memory.floating-buffers-per-gate", []string{"0", "8", "24", "56", "120"}}, three, false},
		{"recovery-interval", "worker-crash", nil,
			Param{"execution.checkpointing.interval", []string{"200 ms", "500 ms", "1 s", "2 s", "4 s"}}, three, false},
		{"checkpoint-overhead", "checkpoint-overhead", unbounded("events", "8 s"),
			Param{"execution.checkpointing.interval", []string{"100 ms", "200 ms", "500 ms", "1 s", "2 s"}}, three, true},
		{CheckmateSweep, "checkmate", nil, Param{"bids.hot-key-ratio", []string{"0", "0.3", "0.5", "0.7", "0.9"}},
			[]string{protocol.AlignedName, protocol.UnalignedName, protocol.UncoordinatedName, protocol.CICName}, false},
	}
	var out []*Sweep
	for _, d := range defs {
		sc, err := Lookup(d.scenario)
		if err != nil {
			return nil, err
		}
		out = append(out, &Sweep{Name: d.name, Scenario: sc, Set: d.set, Params: []Param{d.param},
			Protocols: d.protocols, Seeds: 1, Baseline: d.baseline})
	}
	return out, nil
}
