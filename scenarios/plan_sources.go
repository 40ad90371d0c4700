package scenarios

import (
	"fmt"
	"math"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
)

// planSource resolves source i of the job section: its splits, parallelism,
// rate, records, keys, disorder and record size (which must fit the network
// segment).
func (jp *jobPlan) planSource(conf *confState, fs *fileState, i int, src SourceSpec, segment int) (*vertexPlan, error) {
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
	if err := jp.parOK(path+".parallelism", "parallelism", par); err != nil {
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
		if err := resolveKeys(fs, path+".keys", src.Keys, &spec.Keys); err != nil {
			return nil, err
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
	return &vertexPlan{name: src.Name, path: path, source: &spec, par: par}, nil
}

// resolveKeys resolves a source's key distribution (at path kp) into keys.
func resolveKeys(fs *fileState, kp string, k *KeySpec, keys *engine.KeySpec) error {
	switch k.Distribution {
	case "", "uniform":
		keys.Dist = engine.Uniform
	case "zipf":
		keys.Dist = engine.Zipf
	case "hot":
		keys.Dist = engine.Hot
	default:
		return perr(kp+".distribution", "unknown key distribution %q (uniform, zipf or hot)", k.Distribution)
	}
	if err := positiveInt(fs, kp+".count", "key count", int64(k.Count)); err != nil {
		return err
	}
	if k.Count > 1<<24 {
		return perr(kp+".count", "key count must be at most %d, got %d", 1<<24, k.Count)
	}
	keys.Count = k.Count
	if k.Exponent != 0 {
		if keys.Dist != engine.Zipf {
			return &pathError{path: kp + ".exponent", key: true, msg: "exponent applies to zipf keys only"}
		}
		if !(k.Exponent > 0) || math.IsInf(k.Exponent, 0) || k.Exponent > 100 {
			return perr(kp+".exponent", "zipf exponent must be within (0, 100], got %v", k.Exponent)
		}
		keys.Exponent = k.Exponent
	}
	if k.Ratio != 0 {
		if keys.Dist != engine.Hot {
			return &pathError{path: kp + ".ratio", key: true, msg: "ratio applies to hot keys only"}
		}
		if !(k.Ratio > 0 && k.Ratio <= 1) {
			return perr(kp+".ratio", "hot key ratio must be within (0, 1], got %v", k.Ratio)
		}
		keys.HotRatio = k.Ratio
	}
	return nil
}
