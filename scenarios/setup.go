package scenarios

import (
	"errors"
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// DefaultLimit is the simulated time limit of a scenario without a duration.
const DefaultLimit = 2 * sim.Minute

// MaxDuration bounds the simulated time of a run: a day of a busy job is hours of
// wall time already, and a typo of a few orders of magnitude should be an error,
// not a run that never ends.
const MaxDuration = 24 * sim.Hour

// Bounds that keep a scenario runnable.
const (
	maxMaxParallelism = 1 << 15 // Flink's upper bound of key groups
	maxSplits         = 1 << 16
	maxWorkers        = 1 << 10
	maxSlots          = 1 << 10
	maxFanout         = 1 << 10
	maxNameLen        = 100
)

// Bounds of a job's size, named in the errors that refuse more: the memory of a
// run grows with its subtasks and, above all, with its network channels (an
// all-to-all exchange between p and q subtasks has p × q of them, each with its
// buffers and credit).
const (
	// MaxParallelism is the most subtasks of one source or operator.
	MaxParallelism = 1024
	// MaxChannels is the most network channels of a job.
	MaxChannels = 1 << 18
)

// Setup resolves the scenario into what a run needs: durations, sizes, rates and
// bandwidths interpreted, the job graph, the engine configuration from Flink's
// keys, the protocol (protocolOverride, when not empty, wins over the one the
// configuration selects and must be a registered protocol name), the fault
// schedule, the time limit and the expected outcome. Impossible values are
// errors naming the offending field.
func (s *Scenario) Setup(protocolOverride string) (st *Setup, err error) {
	return s.resolve(protocolOverride, nil)
}

// SetupWith resolves the scenario as Setup does, to run under protocol p: a value
// that need not be registered (a user's own protocol).
func (s *Scenario) SetupWith(p checkpoint.Protocol) (*Setup, error) {
	return s.resolve(p.Name(), p)
}

func (s *Scenario) resolve(name string, p checkpoint.Protocol) (st *Setup, err error) {
	defer func() {
		if r := recover(); r != nil {
			st, err = nil, fmt.Errorf("scenario %q: cannot resolve (internal error: %v)", s.Name, r)
		}
	}()
	st, err = s.setup(name, p, nil)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", s.Name, err)
	}
	return st, nil
}

// setup resolves the scenario; override, when not empty, names the protocol, and
// impl, when set, is that protocol's value (else override is looked up).
func (s *Scenario) setup(override string, impl checkpoint.Protocol, fs *fileState) (*Setup, error) {
	if err := checkName("name", s.Name, "the scenario"); err != nil {
		return nil, err
	}
	limit := DefaultLimit
	if s.Duration != "" {
		d, err := parseDur(s.Duration, true)
		if err != nil {
			return nil, perr("duration", "duration: %v", err)
		}
		if d > MaxDuration {
			return nil, perr("duration", "duration must be at most %v of simulated time, got %q", MaxDuration, s.Duration)
		}
		limit = d
	}
	expect := s.Expect.Outcome
	switch expect {
	case "":
		expect = OutcomePass
	case OutcomePass, OutcomeJobFails, OutcomeDetected:
	default:
		return nil, perr("expect.outcome", "unknown outcome %q (pass, job-fails or detected)", expect)
	}
	conf, err := resolveConfig(s.Config)
	if err != nil {
		return nil, err
	}
	conf.finish()
	protoName := conf.protocolName()
	if override != "" {
		protoName = override
	}
	proto := impl
	if proto == nil {
		if proto, err = checkpoint.Lookup(protoName); err != nil {
			return nil, perr("", "%v", err)
		}
	}
	conf.cfg.Protocol = proto
	jp, err := s.planJob(conf, fs, proto.Guarantee())
	if err != nil {
		return nil, err
	}
	cfg := conf.cfg
	acts, err := s.resolveActions(jp, cfg, fs)
	if err != nil {
		return nil, err
	}
	if err := s.resolveCluster(&cfg, jp, fs); err != nil {
		return nil, err
	}
	sched, err := s.resolveFaults(jp, cfg.Workers, fs)
	if err != nil {
		return nil, err
	}
	// The engine's own checks, as a last line: they name operators, so they are
	// placed at the job.
	if err := jp.build().Validate(); err != nil {
		return nil, perr("job", "%v", err)
	}
	if err := engine.CheckFeedback(jp.build(), proto); err != nil {
		e := perr("job", "%v", err)
		e.err = checkpoint.ErrNoFeedback
		return nil, e
	}
	if len(jp.rescale) > 0 && checkpoint.FamilyOf(proto) != checkpoint.Coordinated {
		e := perr("rescale", "protocol %s: %v", protoName, checkpoint.ErrLocalRescale)
		e.err = checkpoint.ErrLocalRescale
		return nil, e
	}
	if len(jp.rescale) > 0 {
		j := jp.build()
		for _, v := range j.Vertices {
			if p, ok := jp.rescale[v.Name]; ok {
				v.Parallelism = p
			}
		}
		if err := j.Validate(); err != nil {
			return nil, perr("rescale", "after rescaling: %v", err)
		}
	}
	bounded := true
	for _, v := range jp.vertices {
		if v.source != nil && v.source.Records == 0 {
			bounded = false
		}
	}
	var rescale map[string]int
	if len(jp.rescale) > 0 {
		rescale = make(map[string]int, len(jp.rescale))
		for k, v := range jp.rescale {
			rescale[k] = v
		}
	}
	return &Setup{
		Name:     s.Name,
		Seed:     s.Seed,
		NewJob:   jp.build,
		Config:   cfg,
		Protocol: protoName,
		Faults:   sched,
		Limit:    limit,
		Expect:   expect,
		Rescale:  rescale,
		Bounded:  bounded,
		Actions:  acts,
		JobKey:   scenarioJobKey(s, proto.Guarantee()),
	}, nil
}

// AppliesTo reports whether a scenario can run under a protocol at all: not when
// the protocol refuses what the scenario does (a rescale on restore or savepoint
// actions under a local protocol: checkpoint.ErrLocalRescale,
// engine.ErrLocalSavepoint; a cyclic job under a protocol that does not support
// feedback edges: checkpoint.ErrNoFeedback). Other setup errors are the scenario's own and
// still report when it runs.
func AppliesTo(s *Scenario, protocol string) bool {
	_, err := s.Setup(protocol)
	return !errors.Is(err, checkpoint.ErrLocalRescale) && !errors.Is(err, engine.ErrLocalSavepoint) && !errors.Is(err, checkpoint.ErrNoFeedback)
}

// strs is a list of typed names (fault kinds, phases, action kinds) as strings,
// for messages that list what is allowed.
func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
