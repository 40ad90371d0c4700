package scenarios

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ckptsim/ckptsim/sim"
)

// splitNumber splits "32 kb" into its number and its unit (spaces between them
// are optional). Exponents are not numbers here: "1e999999999" must not make
// big.Rat build a huge integer.
func splitNumber(s string) (num, unit string) {
	in := strings.TrimSpace(s)
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.' || in[i] == '-' || in[i] == '+') {
		i++
	}
	return in[:i], strings.TrimSpace(in[i:])
}

// parseRat reads a non-negative decimal number exactly.
func parseRat(what, s, num string) (*big.Rat, error) {
	if num == "" {
		return nil, fmt.Errorf("%s %q has no number", what, s)
	}
	v, ok := new(big.Rat).SetString(num)
	if !ok || strings.ContainsAny(num, "/") {
		return nil, fmt.Errorf("%s %q: bad number %q", what, s, num)
	}
	if v.Sign() < 0 {
		return nil, fmt.Errorf("%s %q is negative", what, s)
	}
	return v, nil
}

// ratInt64 rounds v to the nearest integer (half up) and checks it fits.
func ratInt64(what, s string, v *big.Rat) (int64, error) {
	n, rem := new(big.Int).QuoRem(v.Num(), v.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(v.Denom()) >= 0 {
		n.Add(n, big.NewInt(1))
	}
	if !n.IsInt64() {
		return 0, fmt.Errorf("%s %q is too large", what, s)
	}
	return n.Int64(), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1, "byte": 1, "bytes": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "kibibyte": 1 << 10, "kibibytes": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "mebibyte": 1 << 20, "mebibytes": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "gibibyte": 1 << 30, "gibibytes": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40, "tebibyte": 1 << 40, "tebibytes": 1 << 40,
}

// ParseSize reads a memory size as Flink writes them ("64 B", "32 kb", "1 MiB"):
// a number, optional spaces and a unit. As in Flink's MemorySize, units are
// case-insensitive and binary (kb = KiB = 1024 bytes); a bare number is bytes.
func ParseSize(s string) (int64, error) {
	num, unit := splitNumber(s)
	v, err := parseRat("size", s, num)
	if err != nil {
		return 0, err
	}
	mul, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, kb, mb, gb, KiB, MiB, GiB)", s, unit)
	}
	return ratInt64("size", s, v.Mul(v, new(big.Rat).SetInt64(mul)))
}

// ParseRate reads a record rate: "2000/s", "50/100 ms", "120/min" or a bare number
// (per second). It returns records per second; "unlimited" is 0.
func ParseRate(s string) (float64, error) {
	in := strings.TrimSpace(s)
	if strings.EqualFold(in, "unlimited") {
		return 0, nil
	}
	count, per, hasPer := strings.Cut(in, "/")
	num, unit := splitNumber(count)
	if unit != "" {
		return 0, fmt.Errorf("rate %q: write records per time, like 2000/s", s)
	}
	v, err := parseRat("rate", s, num)
	if err != nil {
		return 0, err
	}
	period := sim.Second
	if hasPer {
		per = strings.TrimSpace(per)
		if n, _ := splitNumber(per); n == "" {
			per = "1 " + per
		}
		d, err := sim.ParseDuration(per)
		if err != nil {
			return 0, fmt.Errorf("rate %q: %v", s, err)
		}
		if d <= 0 {
			return 0, fmt.Errorf("rate %q: the period must be positive", s)
		}
		period = d
	}
	v.Mul(v, new(big.Rat).SetFrac64(int64(sim.Second), int64(period)))
	f, _ := v.Float64()
	if f > 1e12 {
		return 0, fmt.Errorf("rate %q is too large", s)
	}
	return f, nil
}

// bandwidthUnit returns bytes per unit of a bandwidth unit written before "/s"
// (or of a *bps unit), or false.
func bandwidthUnit(unit string) (*big.Rat, bool) {
	l := strings.ToLower(unit)
	dec := func(p string) (int64, bool) {
		switch p {
		case "":
			return 1, true
		case "k":
			return 1e3, true
		case "m":
			return 1e6, true
		case "g":
			return 1e9, true
		case "t":
			return 1e12, true
		}
		return 0, false
	}
	bits := func(m int64) *big.Rat { return new(big.Rat).SetFrac64(m, 8) }
	for _, suf := range []string{"bits", "bit", "bps"} {
		if p, ok := strings.CutSuffix(l, suf); ok {
			if m, ok := dec(p); ok {
				return bits(m), true
			}
			return nil, false
		}
	}
	if p, ok := strings.CutSuffix(l, "ib"); ok && p != "" {
		if m, ok := sizeUnits[p+"ib"]; ok {
			return new(big.Rat).SetInt64(m), true
		}
		return nil, false
	}
	switch l {
	case "", "byte", "bytes":
		return new(big.Rat).SetInt64(1), true
	}
	// B, KB, MB, GB, TB (decimal, as throughput is usually written); a lowercase b
	// is ambiguous (bits or bytes) and refused.
	if strings.HasSuffix(unit, "B") {
		if m, ok := dec(strings.TrimSuffix(l, "b")); ok {
			return new(big.Rat).SetInt64(m), true
		}
	}
	return nil, false
}

// ParseBandwidth reads a throughput: "1 Gbit/s", "200 MB/s", "100 Mbps",
// "64 MiB/s". Bits and byte units with SI prefixes are decimal, KiB/MiB/GiB are
// binary; a bare number per second is bytes. It returns bytes per second;
// "unlimited" is 0.
func ParseBandwidth(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if strings.EqualFold(in, "unlimited") {
		return 0, nil
	}
	amount, per, hasPer := strings.Cut(in, "/")
	num, unit := splitNumber(amount)
	if hasPer {
		if p := strings.ToLower(strings.TrimSpace(per)); p != "s" && p != "sec" && p != "second" {
			return 0, fmt.Errorf("bandwidth %q: write it per second, like 200 MB/s", s)
		}
	} else if !strings.HasSuffix(strings.ToLower(unit), "bps") {
		return 0, fmt.Errorf("bandwidth %q: write it per second, like 1 Gbit/s or 200 MB/s", s)
	}
	v, err := parseRat("bandwidth", s, num)
	if err != nil {
		return 0, err
	}
	mul, ok := bandwidthUnit(unit)
	if !ok {
		return 0, fmt.Errorf("bandwidth %q: unknown unit %q (use bit, Mbit, Gbit, B, KB, MB, GB, KiB, MiB, GiB per second)", s, unit)
	}
	n, err := ratInt64("bandwidth", s, v.Mul(v, mul))
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, fmt.Errorf("bandwidth %q must be positive (write unlimited for no limit)", s)
	}
	return n, nil
}

// parseSignedDuration is sim.ParseDuration that also accepts a leading minus
// (interval join bounds).
func parseSignedDuration(s string) (sim.Duration, error) {
	in := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(in, "-"); ok {
		d, err := sim.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %v", s, err)
		}
		return -d, nil
	}
	return sim.ParseDuration(in)
}
