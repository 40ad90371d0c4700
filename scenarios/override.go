package scenarios

import (
	"fmt"
	"strconv"
	"strings"
)

// Clone is a deep copy of the scenario: changing the copy never changes s.
func (s *Scenario) Clone() *Scenario {
	c := *s
	c.Job.Sources = append([]SourceSpec(nil), s.Job.Sources...)
	for i := range c.Job.Sources {
		if k := c.Job.Sources[i].Keys; k != nil {
			kc := *k
			c.Job.Sources[i].Keys = &kc
		}
	}
	c.Job.Operators = append([]OperatorSpec(nil), s.Job.Operators...)
	for i := range c.Job.Operators {
		c.Job.Operators[i].Inputs = append([]string(nil), s.Job.Operators[i].Inputs...)
	}
	if s.Cluster.Network != nil {
		n := *s.Cluster.Network
		c.Cluster.Network = &n
	}
	if s.Cluster.CheckpointStorage != nil {
		st := *s.Cluster.CheckpointStorage
		c.Cluster.CheckpointStorage = &st
	}
	c.Config = make(map[string]string, len(s.Config))
	for k, v := range s.Config {
		c.Config[k] = v
	}
	if s.Rescale != nil {
		c.Rescale = make(map[string]int, len(s.Rescale))
		for k, v := range s.Rescale {
			c.Rescale[k] = v
		}
	}
	c.Faults = append([]FaultSpec(nil), s.Faults...)
	for i := range c.Faults {
		if w := c.Faults[i].When; w != nil {
			wc := *w
			c.Faults[i].When = &wc
		}
		c.Faults[i].Between = append([]string(nil), s.Faults[i].Between...)
	}
	return &c
}

// OverrideKeys describes the keys Override accepts, for help texts.
const OverrideKeys = `a configuration key (any key a scenario file takes, e.g. execution.checkpointing.interval),
duration, seed, SOURCE.{rate,records,record-size,splits,parallelism,disorder,hot-key-ratio},
OPERATOR.{cost,parallelism,partitioning}, or faults.N.{at,for,restart-after,factor}`

// Override sets one value of the scenario by key: a configuration key, the run's
// duration or seed, a field of a named source or operator ("sink.cost",
// "source.records"), or a field of the N-th fault ("faults.0.at"). Values are
// written as in a scenario file; Setup checks them. An unknown key, name or field
// is an error naming it.
func (s *Scenario) Override(key, value string) error {
	if key == "" {
		return fmt.Errorf("empty key")
	}
	if isConfigKey(key) {
		if s.Config == nil {
			s.Config = map[string]string{}
		}
		for k := range s.Config { // one spelling per option: the override replaces an alias
			if k != key && canonicalKey(k) == canonicalKey(key) {
				delete(s.Config, k)
			}
		}
		s.Config[key] = value
		return nil
	}
	switch key {
	case "duration":
		s.Duration = value
		return nil
	case "seed":
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return fmt.Errorf("seed: %q is not a non-negative integer", value)
		}
		s.Seed = n
		return nil
	}
	name, field, ok := strings.Cut(key, ".")
	if !ok {
		return fmt.Errorf("unknown key %q: expected %s", key, OverrideKeys)
	}
	if name == "faults" {
		return s.overrideFault(field, value)
	}
	for i := range s.Job.Sources {
		if s.Job.Sources[i].Name == name {
			return overrideSource(&s.Job.Sources[i], field, value)
		}
	}
	for i := range s.Job.Operators {
		if s.Job.Operators[i].Name == name {
			return overrideOperator(&s.Job.Operators[i], field, value)
		}
	}
	return fmt.Errorf("unknown key %q: %q is neither a configuration key nor a source or operator of scenario %q (%s)%s",
		key, name, s.Name, strings.Join(s.vertexNames(), ", "), didYouMean(name, s.vertexNames()))
}

func (s *Scenario) vertexNames() []string {
	var names []string
	for _, src := range s.Job.Sources {
		names = append(names, src.Name)
	}
	for _, op := range s.Job.Operators {
		names = append(names, op.Name)
	}
	return names
}

func overrideSource(src *SourceSpec, field, value string) error {
	var err error
	switch field {
	case "rate":
		src.Rate = value
	case "records":
		src.Records, err = strconv.ParseInt(value, 10, 64)
	case "record-size":
		src.RecordSize = value
	case "splits":
		src.Splits, err = strconv.Atoi(value)
	case "parallelism":
		src.Parallelism, err = strconv.Atoi(value)
	case "disorder":
		src.Disorder = value
	case "hot-key-ratio":
		return overrideHotKeys(src, value)
	default:
		return fmt.Errorf("source %q has no field %q (rate, records, record-size, splits, parallelism, disorder, hot-key-ratio)", src.Name, field)
	}
	if err != nil {
		return fmt.Errorf("%s.%s: %q is not an integer", src.Name, field, value)
	}
	return nil
}

// overrideHotKeys gives the source's keys a hot key taking ratio of the records
// (the rest uniform over the other keys); 0 makes them uniform.
func overrideHotKeys(src *SourceSpec, value string) error {
	r, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || r < 0 || r >= 1 {
		return fmt.Errorf("%s.hot-key-ratio: %q is not a share in [0, 1)", src.Name, value)
	}
	k := KeySpec{}
	if src.Keys != nil {
		k.Count = src.Keys.Count
	}
	if r > 0 {
		k.Distribution, k.Ratio = "hot", r
	}
	src.Keys = &k
	return nil
}

func overrideOperator(op *OperatorSpec, field, value string) error {
	switch field {
	case "cost":
		op.Cost = value
	case "parallelism":
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%s.parallelism: %q is not an integer", op.Name, value)
		}
		op.Parallelism = n
	case "partitioning":
		op.Partitioning = value
	default:
		return fmt.Errorf("operator %q has no field %q (cost, parallelism, partitioning)", op.Name, field)
	}
	return nil
}

func (s *Scenario) overrideFault(field, value string) error {
	idx, f, ok := strings.Cut(field, ".")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil {
		return fmt.Errorf("faults.%s: expected faults.N.FIELD", field)
	}
	if i < 0 || i >= len(s.Faults) {
		return fmt.Errorf("faults.%d: scenario %q has %d faults", i, s.Name, len(s.Faults))
	}
	fs := &s.Faults[i]
	switch f {
	case "at":
		fs.At = value
	case "for":
		fs.For = value
	case "restart-after":
		fs.RestartAfter = value
	case "factor":
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("faults.%d.factor: %q is not a number", i, value)
		}
		fs.Factor = x
	default:
		return fmt.Errorf("faults.%d has no settable field %q (at, for, restart-after, factor)", i, f)
	}
	return nil
}

// isConfigKey reports whether key is a configuration key or one of its aliases.
func isConfigKey(key string) bool {
	_, ok := configKeys[canonicalKey(key)]
	return ok
}

// canonicalKey maps an alias to its key.
func canonicalKey(key string) string {
	if to, ok := configAliases[key]; ok && to != "" {
		return to
	}
	return key
}
