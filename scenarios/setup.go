package scenarios

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
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

// pathError is a problem with one node of a scenario, named by its path
// ("job.operators[1].parallelism"); Parse turns the path into a line and column.
type pathError struct {
	path string
	key  bool // the key itself is wrong (an unknown configuration key)
	msg  string
	err  error // the error it wraps, if any
}

func (e *pathError) Unwrap() error { return e.err }

func (e *pathError) Error() string {
	if e.path == "" {
		return e.msg
	}
	// a message that starts with the key it is about names it once
	tail := lastElem(e.path)
	if k, ok := strings.CutPrefix(e.path, "config."); ok {
		tail = k
	}
	if rest, ok := strings.CutPrefix(e.msg, tail); ok && (rest == "" || rest[0] == ':' || rest[0] == ' ') {
		return e.path + rest
	}
	return e.path + ": " + e.msg
}

func perr(path, format string, args ...any) *pathError {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...)}
}

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

var operatorTypes = []string{"map", "filter", "flat-map", "sum", "count", "min", "max", "window", "join", "window-join", "co-group", "union", "sink"}

// twoInputType reports whether operators of type t take exactly two inputs.
func twoInputType(t string) bool { return t == "join" || t == "window-join" || t == "co-group" }

func keyedType(t string) bool {
	switch t {
	case "sum", "count", "min", "max", "window", "join", "window-join", "co-group":
		return true
	}
	return false
}

// operatorFields lists the fields each operator type takes besides name, type,
// input(s), parallelism and cost.
var operatorFields = map[string][]string{
	"map":      {"partitioning"},
	"filter":   {"partitioning", "modulo"},
	"flat-map": {"partitioning", "fanout"},
	"sum":      {"key-by"},
	"count":    {"key-by"},
	"min":      {"key-by"},
	"max":      {"key-by"},
	"window":   {"key-by", "window", "size", "slide", "allowed-lateness", "aggregate"},
	"join":     {"key-by", "lower", "upper"},
	// window joins and coGroups: Flink's a.join(b) / a.coGroup(b) .window(...)
	"window-join": {"key-by", "window", "size", "slide", "allowed-lateness"},
	"co-group":    {"key-by", "window", "size", "slide", "allowed-lateness", "aggregate"},
	"union":       {"partitioning"},
	"sink":        {"partitioning", "sink"},
}

// faultFields lists the fields each fault kind takes besides at, when and kind.
var faultFields = map[faults.Kind][]string{
	faults.CrashTask:         {"task"},
	faults.CrashWorker:       {"worker", "task", "restart-after"},
	faults.CrashCoordinator:  {"restart-after"},
	faults.Partition:         {"between", "for"},
	faults.LatencySpike:      {"between", "for", "extra"},
	faults.Straggler:         {"task", "factor", "for"},
	faults.StorageOutage:     {"for"},
	faults.StorageSlow:       {"factor", "for"},
	faults.DiskErrors:        {"worker", "probability", "for"},
	faults.SinkCommitFailure: {"count"},
	faults.FIFOViolation:     {"task", "for"},
	faults.CrashStore:        {"for"},
}

// checkFields reports the first non-zero field of struct v whose yaml name is
// not in allowed.
func checkFields(path string, v any, allowed []string, what string) error {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
		if rv.Field(i).IsZero() || slices.Contains(allowed, name) {
			continue
		}
		return &pathError{path: path + "." + name, key: true, msg: fmt.Sprintf("%s does not take %s", what, name)}
	}
	return nil
}

// checkName accepts names that make readable task names: letters, digits, '-',
// '_' and '.', starting with a letter or digit.
func checkName(path, name, what string) error {
	if name == "" {
		return perr(path, "%s needs a name", what)
	}
	if len(name) > maxNameLen {
		return perr(path, "%s name is longer than %d characters", what, maxNameLen)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_' || r == '.')
		if !ok {
			return perr(path, "%s name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", what, name)
		}
	}
	return nil
}

// vertexPlan is one resolved source or operator.
type vertexPlan struct {
	name    string
	path    string
	source  *engine.SourceSpec
	typ     string
	inputs  []string
	bySplit bool
	parts   []engine.Partitioning
	par     int
	cost    sim.Duration
	sink    engine.SinkSpec
	window  engine.WindowSpec
	join    engine.JoinSpec
	wjoin   engine.WindowJoinSpec
	modulo  int64
	fanout  int
}

// jobPlan is a resolved job: enough to build a fresh engine.Job at any time.
type jobPlan struct {
	name     string
	maxPar   int
	vertices []*vertexPlan
	byName   map[string]*vertexPlan
	rescale  map[string]int // by vertex name, including generated key-by-split maps
	peak     map[string]int // the largest parallelism a restore action sets, by vertex name
}

// splitMapName names the chained map that keys input i of v by split.
func splitMapName(v *vertexPlan, i int) string {
	if len(v.inputs) == 1 {
		return v.name + "-by-split"
	}
	return v.name + "-by-split-" + strconv.Itoa(i+1)
}

func keyBySplit(r *engine.Record) {
	if r.Split >= 0 {
		r.Key = uint64(r.Split)
	}
}

// build creates a fresh job graph.
func (jp *jobPlan) build() *engine.Job {
	j := engine.NewJob(jp.name)
	j.MaxParallelism = jp.maxPar
	streams := map[string]*engine.Stream{}
	for _, v := range jp.vertices {
		if v.source != nil {
			streams[v.name] = j.Source(v.name, *v.source).Parallelism(v.par)
			continue
		}
		ins := make([]*engine.Stream, len(v.inputs))
		for i, in := range v.inputs {
			st := streams[in]
			if v.bySplit {
				st = st.Map(splitMapName(v, i), keyBySplit)
			}
			switch v.parts[i] {
			case engine.Forward:
				st = st.Forward()
			case engine.Rebalance:
				st = st.Rebalance()
			case engine.Broadcast:
				st = st.Broadcast()
			}
			ins[i] = st
		}
		var out *engine.Stream
		switch v.typ {
		case "map":
			out = ins[0].Map(v.name, nil)
		case "filter":
			m := v.modulo
			out = ins[0].Filter(v.name, func(r *engine.Record) bool { return r.Value%m != 0 })
		case "flat-map":
			n := v.fanout
			out = ins[0].FlatMap(v.name, func(r engine.Record, emit func(engine.Record)) {
				emit(r)
				r.Split = -1 // the copies are derived records
				for i := 1; i < n; i++ {
					emit(r)
				}
			})
		case "sum":
			out = ins[0].KeyBy().Sum(v.name)
		case "count":
			out = ins[0].KeyBy().Count(v.name)
		case "min", "max":
			out = ins[0].KeyBy().Sum(v.name)
			out.Vertex().Aggregate = engine.AggregateSpec{Name: v.typ}
		case "window":
			out = ins[0].KeyBy().Window(v.name, v.window)
		case "join":
			out = ins[0].KeyBy().Join(v.name, ins[1].KeyBy(), v.join)
		case "window-join":
			out = ins[0].KeyBy().WindowJoin(v.name, ins[1].KeyBy(), v.wjoin)
		case "co-group":
			out = ins[0].KeyBy().CoGroup(v.name, ins[1].KeyBy(), v.wjoin)
		case "union":
			out = ins[0].Union(v.name, ins[1:]...)
		case "sink":
			out = ins[0].Sink(v.name, v.sink)
		}
		out.Parallelism(v.par)
		if v.cost > 0 {
			out.Cost(v.cost)
		}
		streams[v.name] = out
	}
	return j
}

// effPar is the largest parallelism a vertex runs at (before or after rescale).
func (jp *jobPlan) effPar(v *vertexPlan) int {
	p := v.par
	if r, ok := jp.rescale[v.name]; ok && r > p {
		p = r
	}
	if r, ok := jp.peak[v.name]; ok && r > p {
		p = r
	}
	return p
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

// positiveInt checks an integer field where 0 means "the default" in Go but is
// impossible when written in a file.
func positiveInt(fs *fileState, path, what string, n int64) error {
	if n < 0 || n == 0 && fs.explicitZero(path) {
		return perr(path, "%s must be at least 1, got %d", what, n)
	}
	return nil
}

func (s *Scenario) planJob(conf *confState, fs *fileState, guarantee checkpoint.Guarantee) (*jobPlan, error) {
	jp := &jobPlan{name: s.Name, maxPar: state.DefaultMaxParallelism, byName: map[string]*vertexPlan{}, rescale: map[string]int{}}
	if err := positiveInt(fs, "job.max-parallelism", "max-parallelism", int64(s.Job.MaxParallelism)); err != nil {
		return nil, err
	}
	if s.Job.MaxParallelism > maxMaxParallelism {
		return nil, perr("job.max-parallelism", "max-parallelism must be at most %d, got %d", maxMaxParallelism, s.Job.MaxParallelism)
	}
	if s.Job.MaxParallelism > 0 {
		jp.maxPar = s.Job.MaxParallelism
	}
	if len(s.Job.Sources) == 0 {
		return nil, perr("job.sources", "a job needs at least one source")
	}
	segment := conf.cfg.Net.SegmentSize
	if segment == 0 {
		segment = sim.DefaultSegmentSize
	}
	parOK := func(path, what string, p int) error {
		if p > MaxParallelism {
			return perr(path, "%s must be at most %d, got %d", what, MaxParallelism, p)
		}
		if p > jp.maxPar {
			return perr(path, "%s %d exceeds max-parallelism %d", what, p, jp.maxPar)
		}
		return nil
	}
	for i, src := range s.Job.Sources {
		path := fmt.Sprintf("job.sources[%d]", i)
		if err := checkName(path+".name", src.Name, "a source"); err != nil {
			return nil, err
		}
		if _, dup := jp.byName[src.Name]; dup {
			return nil, perr(path+".name", "duplicate name %q", src.Name)
		}
		spec := engine.SourceSpec{Splits: 1, Records: src.Records, Seed: src.Seed, WatermarkInterval: conf.watermark}
		if err := positiveInt(fs, path+".splits", "splits", int64(src.Splits)); err != nil {
			return nil, err
		}
		if src.Splits > maxSplits {
			return nil, perr(path+".splits", "splits must be at most %d, got %d", maxSplits, src.Splits)
		}
		if src.Splits > 0 {
			spec.Splits = src.Splits
		}
		par := spec.Splits
		if err := positiveInt(fs, path+".parallelism", "parallelism", int64(src.Parallelism)); err != nil {
			return nil, err
		}
		if src.Parallelism > 0 {
			par = src.Parallelism
		}
		if err := parOK(path+".parallelism", "parallelism", par); err != nil {
			return nil, err
		}
		if src.Rate != "" {
			r, err := ParseRate(src.Rate)
			if err != nil {
				return nil, perr(path+".rate", "%v", err)
			}
			if r <= 0 && !strings.EqualFold(strings.TrimSpace(src.Rate), "unlimited") {
				return nil, perr(path+".rate", "rate %q must be positive (leave it out, or write unlimited, for as fast as possible)", src.Rate)
			}
			spec.Rate = r
		}
		if src.Records < 0 || src.Records == 0 && fs.explicitZero(path+".records") {
			return nil, perr(path+".records", "records must be at least 1, got %d (leave it out for an unbounded source)", src.Records)
		}
		if src.Keys != nil {
			k := src.Keys
			kp := path + ".keys"
			switch k.Distribution {
			case "", "uniform":
				spec.Keys.Dist = engine.Uniform
			case "zipf":
				spec.Keys.Dist = engine.Zipf
			case "hot":
				spec.Keys.Dist = engine.Hot
			default:
				return nil, perr(kp+".distribution", "unknown key distribution %q (uniform, zipf or hot)", k.Distribution)
			}
			if err := positiveInt(fs, kp+".count", "key count", int64(k.Count)); err != nil {
				return nil, err
			}
			if k.Count > 1<<24 {
				return nil, perr(kp+".count", "key count must be at most %d, got %d", 1<<24, k.Count)
			}
			spec.Keys.Count = k.Count
			if k.Exponent != 0 {
				if spec.Keys.Dist != engine.Zipf {
					return nil, &pathError{path: kp + ".exponent", key: true, msg: "exponent applies to zipf keys only"}
				}
				if !(k.Exponent > 0) || math.IsInf(k.Exponent, 0) || k.Exponent > 100 {
					return nil, perr(kp+".exponent", "zipf exponent must be within (0, 100], got %v", k.Exponent)
				}
				spec.Keys.Exponent = k.Exponent
			}
			if k.Ratio != 0 {
				if spec.Keys.Dist != engine.Hot {
					return nil, &pathError{path: kp + ".ratio", key: true, msg: "ratio applies to hot keys only"}
				}
				if !(k.Ratio > 0 && k.Ratio <= 1) {
					return nil, perr(kp+".ratio", "hot key ratio must be within (0, 1], got %v", k.Ratio)
				}
				spec.Keys.HotRatio = k.Ratio
			}
		}
		if src.Disorder != "" {
			d, err := parseDur(src.Disorder, false)
			if err != nil {
				return nil, perr(path+".disorder", "disorder: %v", err)
			}
			spec.Disorder = d
		}
		if src.RecordSize != "" {
			n, err := ParseSize(src.RecordSize)
			if err != nil {
				return nil, perr(path+".record-size", "%v", err)
			}
			if n < 1 || n > int64(segment) {
				return nil, perr(path+".record-size", "record size must be within [1 B, the segment size %d B], got %d B", segment, n)
			}
			spec.RecordSize = int32(n)
		} else if segment < 64 {
			return nil, perr(path, "the default record size of 64 B exceeds the segment size %d B", segment)
		}
		v := &vertexPlan{name: src.Name, path: path, source: &spec, par: par}
		jp.vertices = append(jp.vertices, v)
		jp.byName[v.name] = v
	}
	// Rescaled parallelism decides default partitioning (forward only when the
	// parallelism matches before and after a rescale); it is checked below.
	phases := s.parallelismPhases()
	opNames := map[string]bool{}
	for _, op := range s.Job.Operators {
		opNames[op.Name] = true
	}
	generated := map[string]string{} // generated vertex name -> the operator it serves
	for i, op := range s.Job.Operators {
		path := fmt.Sprintf("job.operators[%d]", i)
		if err := checkName(path+".name", op.Name, "an operator"); err != nil {
			return nil, err
		}
		if _, dup := jp.byName[op.Name]; dup {
			return nil, perr(path+".name", "duplicate name %q", op.Name)
		}
		if by, dup := generated[op.Name]; dup {
			return nil, perr(path+".name", "name %q is taken by the key-by-split map of %q", op.Name, by)
		}
		what := fmt.Sprintf("operator %q", op.Name)
		if !slices.Contains(operatorTypes, op.Type) {
			if op.Type == "" {
				return nil, perr(path, "%s needs a type (%s)", what, strings.Join(operatorTypes, ", "))
			}
			return nil, perr(path+".type", "%s: unknown type %q (%s)%s", what, op.Type, strings.Join(operatorTypes, ", "), didYouMean(op.Type, operatorTypes))
		}
		allowed := append([]string{"name", "type", "input", "inputs", "parallelism", "cost"}, operatorFields[op.Type]...)
		if err := checkFields(path, op, allowed, fmt.Sprintf("%s (%s)", what, op.Type)); err != nil {
			return nil, err
		}
		v := &vertexPlan{name: op.Name, path: path, typ: op.Type}
		// Inputs.
		inPaths := []string{}
		switch {
		case op.Input != "" && len(op.Inputs) > 0:
			return nil, perr(path+".inputs", "%s: write input or inputs, not both", what)
		case op.Input != "":
			v.inputs = []string{op.Input}
			inPaths = []string{path + ".input"}
		default:
			v.inputs = op.Inputs
			for j := range op.Inputs {
				inPaths = append(inPaths, fmt.Sprintf("%s.inputs[%d]", path, j))
			}
		}
		switch {
		case twoInputType(op.Type) && len(v.inputs) != 2:
			return nil, perr(path, "%s: a %s takes two inputs (inputs: [left, right]), got %d", what, op.Type, len(v.inputs))
		case op.Type == "union" && len(v.inputs) == 0:
			return nil, perr(path, "%s needs inputs", what)
		case !twoInputType(op.Type) && op.Type != "union" && len(v.inputs) != 1:
			if len(v.inputs) == 0 {
				return nil, perr(path, "%s needs an input", what)
			}
			return nil, perr(path+".inputs", "%s (%s) takes one input, got %d", what, op.Type, len(v.inputs))
		}
		var ins []*vertexPlan
		for j, in := range v.inputs {
			iv, ok := jp.byName[in]
			switch {
			case ok && slices.Contains(v.inputs[:j], in):
				return nil, perr(inPaths[j], "%s: input %q is listed twice", what, in)
			case ok:
				ins = append(ins, iv)
			case in == op.Name:
				return nil, perr(inPaths[j], "%s reads its own output", what)
			case opNames[in]:
				return nil, perr(inPaths[j], "%s: input %q is declared after it; list operators in dataflow order", what, in)
			default:
				known := slices.Collect(func(yield func(string) bool) {
					for _, x := range jp.vertices {
						if !yield(x.name) {
							return
						}
					}
				})
				return nil, perr(inPaths[j], "%s: unknown input %q%s", what, in, didYouMean(in, known))
			}
		}
		// Parallelism and cost.
		if err := positiveInt(fs, path+".parallelism", "parallelism", int64(op.Parallelism)); err != nil {
			return nil, err
		}
		v.par = ins[0].par
		if op.Parallelism > 0 {
			v.par = op.Parallelism
		}
		if err := parOK(path+".parallelism", what+": parallelism", v.par); err != nil {
			return nil, err
		}
		if op.Cost != "" {
			d, err := parseDur(op.Cost, false)
			if err != nil {
				return nil, perr(path+".cost", "%s: cost: %v", what, err)
			}
			v.cost = d
		}
		// Partitioning.
		if keyedType(op.Type) {
			switch op.KeyBy {
			case "", "key":
			case "split":
				v.bySplit = true
				for j := range v.inputs {
					g := splitMapName(v, j)
					if opNames[g] || jp.byName[g] != nil {
						return nil, perr(path+".key-by", "%s: the key-by-split map would be named %q, which is taken", what, g)
					}
					generated[g] = op.Name
				}
			default:
				return nil, perr(path+".key-by", "%s: key-by must be key or split, got %q", what, op.KeyBy)
			}
			v.parts = make([]engine.Partitioning, len(ins))
			for j := range v.parts {
				v.parts[j] = engine.Hash
			}
		} else {
			v.parts = make([]engine.Partitioning, len(ins))
			for j, in := range ins {
				switch op.Partitioning {
				case "":
					if samePhases(phases, in.name, in.par, v.name, v.par) {
						v.parts[j] = engine.Forward
					} else {
						v.parts[j] = engine.Rebalance
					}
				case "forward":
					if in.par != v.par {
						return nil, perr(path+".partitioning", "%s: a forward edge needs equal parallelism, but %q has %d and %q %d; use rebalance",
							what, in.name, in.par, op.Name, v.par)
					}
					v.parts[j] = engine.Forward
				case "rebalance":
					v.parts[j] = engine.Rebalance
				case "broadcast":
					v.parts[j] = engine.Broadcast
				case "key-by":
					return nil, perr(path+".partitioning", "%s: key-by partitioning needs a keyed operator (sum, count, min, max, window, join, window-join, co-group)", what)
				default:
					return nil, perr(path+".partitioning", "%s: unknown partitioning %q (forward, rebalance or broadcast)", what, op.Partitioning)
				}
			}
		}
		// Type-specific fields.
		switch op.Type {
		case "filter":
			if err := positiveInt(fs, path+".modulo", "modulo", int64(op.Modulo)); err != nil {
				return nil, err
			}
			v.modulo = 2
			if op.Modulo > 0 {
				v.modulo = int64(op.Modulo)
			}
		case "flat-map":
			if err := positiveInt(fs, path+".fanout", "fanout", int64(op.Fanout)); err != nil {
				return nil, err
			}
			if op.Fanout > maxFanout {
				return nil, perr(path+".fanout", "fanout must be at most %d, got %d", maxFanout, op.Fanout)
			}
			v.fanout = 2
			if op.Fanout > 0 {
				v.fanout = op.Fanout
			}
		case "sink":
			switch op.Sink {
			case "":
				if guarantee == checkpoint.AtLeastOnce {
					v.sink.Kind = engine.SinkCollect
				} else {
					v.sink.Kind = engine.SinkTwoPhaseCommit
				}
			case "two-phase-commit":
				v.sink.Kind = engine.SinkTwoPhaseCommit
			case "at-least-once":
				v.sink.Kind = engine.SinkCollect
			default:
				return nil, perr(path+".sink", "%s: unknown sink %q (two-phase-commit or at-least-once)", what, op.Sink)
			}
		case "window":
			w, err := resolveWindow(path, what, op)
			if err != nil {
				return nil, err
			}
			v.window = w
		case "window-join", "co-group":
			w, err := resolveWindow(path, what, op)
			if err != nil {
				return nil, err
			}
			v.wjoin = engine.WindowJoinSpec{Size: w.Size, Slide: w.Slide, AllowedLateness: w.AllowedLateness,
				CoGroup: op.Type == "co-group", Aggregate: w.Aggregate}
		case "join":
			for _, b := range []struct {
				field, val string
				dst        *sim.Duration
			}{{"lower", op.Lower, &v.join.Lower}, {"upper", op.Upper, &v.join.Upper}} {
				if b.val == "" {
					continue
				}
				d, err := parseSignedDuration(b.val)
				if err != nil {
					return nil, perr(path+"."+b.field, "%s: %s: %v", what, b.field, err)
				}
				*b.dst = d
			}
			if v.join.Lower > v.join.Upper {
				return nil, perr(path+".lower", "%s: lower bound %v is above upper bound %v", what, v.join.Lower, v.join.Upper)
			}
		}
		jp.vertices = append(jp.vertices, v)
		jp.byName[v.name] = v
	}
	// Rescale.
	for _, name := range sortedKeys(s.Rescale) {
		p := s.Rescale[name]
		path := "rescale." + name
		v, ok := jp.byName[name]
		if !ok {
			known := make([]string, 0, len(jp.vertices))
			for _, x := range jp.vertices {
				known = append(known, x.name)
			}
			return nil, &pathError{path: path, key: true, msg: fmt.Sprintf("rescale: unknown operator %q%s", name, didYouMean(name, known))}
		}
		if p < 1 || p > min(jp.maxPar, MaxParallelism) {
			return nil, perr(path, "rescale: parallelism of %q must be within [1, %d], got %d", name, min(jp.maxPar, MaxParallelism), p)
		}
		jp.rescale[name] = p
		_ = v
	}
	for _, v := range jp.vertices {
		if !v.bySplit {
			continue
		}
		for j, in := range v.inputs {
			if p, ok := jp.rescale[in]; ok {
				jp.rescale[splitMapName(v, j)] = p
			}
		}
	}
	if err := jp.checkChannels(); err != nil {
		return nil, err
	}
	return jp, nil
}

// checkChannels refuses a job with more than MaxChannels network channels (at the
// larger of each vertex's parallelism before and after a rescale), naming the
// largest exchange.
func (jp *jobPlan) checkChannels() error {
	total, largest, what, path := 0, 0, "", "job"
	for _, v := range jp.vertices {
		for i, in := range v.inputs {
			up, down := jp.effPar(jp.byName[in]), jp.effPar(v)
			n := down
			if v.parts[i] != engine.Forward {
				n = up * down
			}
			total += n
			if n > largest {
				largest, what, path = n, fmt.Sprintf("%s → %s: %d × %d", in, v.name, up, down), v.path
			}
		}
	}
	if total > MaxChannels {
		return perr(path, "the job has %d network channels (the largest exchange %s), more than the %d a run can hold; lower the parallelism",
			total, what, MaxChannels)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func resolveWindow(path, what string, op OperatorSpec) (engine.WindowSpec, error) {
	var w engine.WindowSpec
	if op.Size == "" {
		return w, perr(path, "%s: a window needs a size", what)
	}
	d, err := parseDur(op.Size, true)
	if err != nil {
		return w, perr(path+".size", "%s: size: %v", what, err)
	}
	w.Size = d
	if op.Slide != "" {
		d, err := parseDur(op.Slide, true)
		if err != nil {
			return w, perr(path+".slide", "%s: slide: %v", what, err)
		}
		if d > w.Size {
			return w, perr(path+".slide", "%s: slide %v is longer than the window size %v", what, d, w.Size)
		}
		w.Slide = d
	}
	switch op.Window {
	case "":
	case "tumbling":
		if w.Slide != 0 && w.Slide != w.Size {
			return w, perr(path+".slide", "%s: a tumbling window slides by its size; use window: sliding", what)
		}
	case "sliding":
		if op.Slide == "" {
			return w, perr(path+".window", "%s: a sliding window needs a slide", what)
		}
	default:
		return w, perr(path+".window", "%s: unknown window %q (tumbling or sliding)", what, op.Window)
	}
	if op.Lateness != "" {
		d, err := parseDur(op.Lateness, false)
		if err != nil {
			return w, perr(path+".allowed-lateness", "%s: allowed-lateness: %v", what, err)
		}
		w.AllowedLateness = d
	}
	switch op.Aggregate {
	case "", "count", "sum":
		w.Aggregate = op.Aggregate
	default:
		return w, perr(path+".aggregate", "%s: window aggregate must be count or sum, got %q", what, op.Aggregate)
	}
	return w, nil
}

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

func (s *Scenario) resolveFaults(jp *jobPlan, workers int, fs *fileState) (faults.Schedule, error) {
	var sched faults.Schedule
	kinds, phases := strs(faults.Kinds), strs(faults.AllPhases())
	for i, f := range s.Faults {
		path := fmt.Sprintf("faults[%d]", i)
		kind := faults.Kind(f.Kind)
		fields, known := faultFields[kind]
		if !known {
			if f.Kind == "" {
				return nil, perr(path, "a fault needs a kind (%s)", strings.Join(kinds, ", "))
			}
			return nil, perr(path+".kind", "unknown fault kind %q (%s)%s", f.Kind, strings.Join(kinds, ", "), didYouMean(f.Kind, kinds))
		}
		if err := checkFields(path, f, append([]string{"at", "when", "kind"}, fields...), "a "+f.Kind+" fault"); err != nil {
			return nil, err
		}
		spec := faults.Spec{Kind: kind}
		if f.At != "" && f.When != nil {
			return nil, perr(path+".when", "a fault happens at a time or when an event happens, not both")
		}
		if f.At != "" {
			d, err := parseDur(f.At, false)
			if err != nil {
				return nil, perr(path+".at", "at: %v", err)
			}
			spec.At = d
		}
		if w := f.When; w != nil {
			wp := path + ".when"
			if w.Phase == "" {
				return nil, perr(wp, "when needs a phase (%s)", strings.Join(phases, ", "))
			}
			if !slices.Contains(phases, w.Phase) {
				return nil, perr(wp+".phase", "unknown phase %q (%s)%s", w.Phase, strings.Join(phases, ", "), didYouMean(w.Phase, phases))
			}
			if w.Checkpoint < 0 {
				return nil, perr(wp+".checkpoint", "checkpoint must not be negative, got %d", w.Checkpoint)
			}
			if w.Savepoint < 0 {
				return nil, perr(wp+".savepoint", "savepoint must not be negative, got %d", w.Savepoint)
			}
			if w.Savepoint != 0 && w.Checkpoint != 0 {
				return nil, perr(wp+".savepoint", "when names a checkpoint or a savepoint, not both")
			}
			if w.Attempt < 0 {
				return nil, perr(wp+".attempt", "attempt must not be negative, got %d", w.Attempt)
			}
			if w.Task != "" {
				if err := jp.checkTask(wp+".task", w.Task); err != nil {
					return nil, err
				}
			}
			if w.Nth < 0 {
				return nil, perr(wp+".nth", "nth must not be negative, got %d", w.Nth)
			}
			spec.When = &faults.When{Checkpoint: w.Checkpoint, Savepoint: w.Savepoint, Phase: faults.Phase(w.Phase), Task: w.Task,
				Attempt: w.Attempt, Nth: w.Nth}
		}
		if f.Task != "" {
			if err := jp.checkTask(path+".task", f.Task); err != nil {
				return nil, err
			}
			spec.Task = f.Task
		}
		if f.Worker != "" {
			if !strings.HasPrefix(f.Worker, "worker-") {
				return nil, perr(path+".worker", "worker %q: write worker-N", f.Worker)
			}
			if err := checkNode(path+".worker", f.Worker, workers); err != nil {
				return nil, err
			}
			spec.Worker = f.Worker
		}
		if len(f.Between) > 0 {
			if len(f.Between) != 2 {
				return nil, perr(path+".between", "between names two nodes, got %d", len(f.Between))
			}
			for j, n := range f.Between {
				if err := checkNode(fmt.Sprintf("%s.between[%d]", path, j), n, workers); err != nil {
					return nil, err
				}
			}
			if f.Between[0] == f.Between[1] {
				return nil, perr(path+".between", "between names two different nodes, got %q twice", f.Between[0])
			}
			spec.Between = [2]string{f.Between[0], f.Between[1]}
		}
		for _, d := range []struct {
			field, val string
			dst        *sim.Duration
		}{{"for", f.For, &spec.For}, {"restart-after", f.RestartAfter, &spec.RestartAfter}, {"extra", f.Extra, &spec.Extra}} {
			if d.val == "" {
				continue
			}
			v, err := parseDur(d.val, true)
			if err != nil {
				return nil, perr(path+"."+d.field, "%s: %v", d.field, err)
			}
			*d.dst = v
		}
		if math.IsNaN(f.Factor) || math.IsInf(f.Factor, 0) || f.Factor != 0 && f.Factor < 1 || f.Factor > 1e6 {
			return nil, perr(path+".factor", "factor must be within [1, 1e6], got %v", f.Factor)
		}
		spec.Factor = f.Factor
		if f.Count < 0 || f.Count == 0 && fs.explicitZero(path+".count") {
			return nil, perr(path+".count", "count must be at least 1, got %d", f.Count)
		}
		spec.Count = f.Count
		if math.IsNaN(f.Probability) || f.Probability < 0 || f.Probability > 1 {
			return nil, perr(path+".probability", "probability must be within [0, 1], got %v", f.Probability)
		}
		spec.Probability = f.Probability
		switch {
		case kind == faults.CrashWorker && spec.Worker == "" && spec.Task == "" && (spec.When == nil || spec.When.Task == ""):
			return nil, perr(path, "crash-worker needs a worker, or a task (or when.task) whose worker crashes")
		case kind == faults.DiskErrors && spec.Worker == "":
			return nil, perr(path, "disk-errors needs a worker")
		}
		if err := spec.Validate(); err != nil {
			return nil, perr(path, "%v", err)
		}
		sched = append(sched, spec)
	}
	return sched, nil
}

// AppliesTo reports whether a scenario can run under a protocol at all: not when
// the protocol refuses what the scenario does (a rescale on restore or savepoint
// actions under a local protocol: checkpoint.ErrLocalRescale,
// engine.ErrLocalSavepoint). Other setup errors are the scenario's own and
// still report when it runs.
func AppliesTo(s *Scenario, protocol string) bool {
	_, err := s.Setup(protocol)
	return !errors.Is(err, checkpoint.ErrLocalRescale) && !errors.Is(err, engine.ErrLocalSavepoint)
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
