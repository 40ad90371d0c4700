// Package sim is the deterministic simulation kernel of ckptsim: virtual time, an
// event queue, seeded random streams, nodes that crash and restart, a network with
// Flink-style credit-based flow control, crashable disks, a remote checkpoint store
// and a running trace hash. Everything a run does is a function of its root seed.
package sim

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Time is a point in virtual time, in nanoseconds since the start of a run.
type Time int64

// Duration is a span of virtual time in nanoseconds.
type Duration int64

// Common durations.
const (
	Nanosecond  Duration = 1
	Microsecond          = 1000 * Nanosecond
	Millisecond          = 1000 * Microsecond
	Second               = 1000 * Millisecond
	Minute               = 60 * Second
	Hour                 = 60 * Minute
)

// Never is a time later than any event of a run.
const Never Time = 1<<63 - 1

// Add returns t+d.
func (t Time) Add(d Duration) Time { return t + Time(d) }

// Sub returns the duration t-u.
func (t Time) Sub(u Time) Duration { return Duration(t - u) }

// Seconds returns t as floating-point seconds since the start of the run.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// String formats t as a duration since the start of the run.
func (t Time) String() string { return Duration(t).String() }

// Seconds returns d as floating-point seconds.
func (d Duration) Seconds() float64 { return float64(d) / float64(Second) }

// Milliseconds returns d as floating-point milliseconds.
func (d Duration) Milliseconds() float64 { return float64(d) / float64(Millisecond) }

// String formats d the way Flink writes durations, in the largest unit that divides
// it exactly: "2 s", "1500 ms", "40 us", "7 ns".
func (d Duration) String() string {
	if d == 0 {
		return "0 ms"
	}
	units := []struct {
		name string
		size Duration
	}{{"h", Hour}, {"min", Minute}, {"s", Second}, {"ms", Millisecond}, {"us", Microsecond}}
	for _, u := range units {
		if d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + " " + u.name
		}
	}
	for _, u := range units[2:] {
		if d >= u.size || d <= -u.size {
			return decimal(d, u.size) + " " + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + " ns"
}

// Short formats d for reading, not for parsing back: in the largest unit it
// reaches, rounded to at most three decimals ("1.504 s" where String writes
// "1.503807975 s", "21.003 s" for 21002520 us, "250 ms", "1.5 min").
func (d Duration) Short() string {
	mag := d
	if mag < 0 {
		mag = -mag
	}
	for _, u := range []struct {
		name string
		size Duration
	}{{"h", Hour}, {"min", Minute}, {"s", Second}, {"ms", Millisecond}, {"us", Microsecond}} {
		if mag >= u.size {
			v := strconv.FormatFloat(float64(d)/float64(u.size), 'f', 3, 64)
			v = strings.TrimRight(strings.TrimRight(v, "0"), ".")
			return v + " " + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + " ns"
}

// Short formats t for reading (see Duration.Short).
func (t Time) Short() string { return Duration(t).Short() }

// decimal writes d/size exactly (size is a power of ten), so that every duration
// parses back to itself; float64 would drop nanoseconds of durations beyond 2^53 ns.
func decimal(d, size Duration) string {
	sign, mag := "", uint64(d)
	if d < 0 {
		sign, mag = "-", -mag
	}
	frac := strconv.FormatUint(mag%uint64(size), 10)
	frac = strings.Repeat("0", len(strconv.FormatUint(uint64(size), 10))-1-len(frac)) + frac
	frac = strings.TrimRight(frac, "0")
	if frac != "" {
		frac = "." + frac
	}
	return sign + strconv.FormatUint(mag/uint64(size), 10) + frac
}

var durationUnits = map[string]Duration{
	"ns": Nanosecond, "nano": Nanosecond, "nanos": Nanosecond, "nanosecond": Nanosecond, "nanoseconds": Nanosecond,
	"us": Microsecond, "µs": Microsecond, "micro": Microsecond, "micros": Microsecond, "microsecond": Microsecond, "microseconds": Microsecond,
	"ms": Millisecond, "milli": Millisecond, "millis": Millisecond, "millisecond": Millisecond, "milliseconds": Millisecond,
	"s": Second, "sec": Second, "secs": Second, "second": Second, "seconds": Second,
	"m": Minute, "min": Minute, "mins": Minute, "minute": Minute, "minutes": Minute,
	"h": Hour, "hour": Hour, "hours": Hour,
	"d": 24 * Hour, "day": 24 * Hour, "days": 24 * Hour,
}

// ParseDuration reads a duration as Flink writes them: a number, optional spaces and a
// unit ("10 s", "500 ms", "1 min", "1.5s", "200us"). A bare number means milliseconds,
// as in Flink. Negative durations are rejected.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.' || in[i] == '-' || in[i] == '+') {
		i++
	}
	num, unit := in[:i], strings.ToLower(strings.TrimSpace(in[i:]))
	if num == "" {
		return 0, fmt.Errorf("duration %q has no number", s)
	}
	// Exact decimal arithmetic: float64 loses nanoseconds beyond 2^53 and overflows
	// int64 near 2^63.
	v, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("duration %q: bad number %q", s, num)
	}
	if v.Sign() < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	mul := Millisecond
	if unit != "" {
		u, ok := durationUnits[unit]
		if !ok {
			return 0, fmt.Errorf("duration %q: unknown unit %q (use ns, us, ms, s, min, h)", s, unit)
		}
		mul = u
	}
	v.Mul(v, new(big.Rat).SetInt64(int64(mul)))
	n, rem := new(big.Int).QuoRem(v.Num(), v.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(v.Denom()) >= 0 { // round half up to whole nanoseconds
		n.Add(n, big.NewInt(1))
	}
	if !n.IsInt64() {
		return 0, fmt.Errorf("duration %q is too large", s)
	}
	return Duration(n.Int64()), nil
}
