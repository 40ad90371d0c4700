package scenarios

import (
	"fmt"
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

// Points resolves every run of the sweep. Every point is resolved before any runs,
// so an impossible value is reported at once, naming the key and value.
func (s *Sweep) Points() ([]SweepPoint, error) {
	if len(s.Params) == 0 {
		return nil, fmt.Errorf("sweep %s: no --param to sweep", s.Name)
	}
	if len(s.Protocols) == 0 {
		return nil, fmt.Errorf("sweep %s: no protocol", s.Name)
	}
	if s.Seeds < 1 {
		return nil, fmt.Errorf("sweep %s: seeds must be at least 1, got %d", s.Name, s.Seeds)
	}
	var out []SweepPoint
	for _, vals := range grid(s.Params) {
		sc, err := s.point(vals)
		if err != nil {
			return nil, err
		}
		overrides := append([]Param(nil), s.Set...)
		for i, p := range s.Params {
			overrides = append(overrides, Param{p.Key, []string{vals[i]}})
		}
		protos := s.Protocols
		if s.Baseline {
			protos = append([]string{""}, protos...)
		}
		for _, proto := range protos {
			pt, err := resolvePoint(sc, proto, vals, s.describe(vals))
			if err != nil {
				return nil, err
			}
			pt.Overrides = overrides
			if proto == "" {
				pt.Overrides = append(pt.Overrides[:len(pt.Overrides):len(pt.Overrides)], Param{baselineKey, []string{"0 s"}})
			}
			for seed := 0; seed < s.Seeds; seed++ {
				p := pt
				p.Seed = sc.Seed + uint64(seed)
				if p.Seed == 0 {
					p.Seed = 1
				}
				out = append(out, p)
			}
		}
	}
	return out, nil
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

// grid lists every combination of the params' values, the first param slowest.
func grid(params []Param) [][]string {
	out := [][]string{nil}
	for _, p := range params {
		var next [][]string
		for _, prefix := range out {
			for _, v := range p.Values {
				next = append(next, append(append([]string(nil), prefix...), v))
			}
		}
		out = next
	}
	return out
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

// BuiltinSweeps are the sweeps behind the report's figures 3 to 6 (simrun suite
// --out runs them): checkpoint duration against backpressure, checkpoint size
// against in-flight buffers, recovery against the checkpoint interval, and
// throughput overhead against the checkpoint interval.
func BuiltinSweeps() ([]*Sweep, error) {
	type def struct {
		name, scenario string
		set            []Param
		param          Param
		protocols      []string
		baseline       bool
	}
	three := []string{"aligned", "unaligned", "hybrid"}
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
