package reports

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// Axes of the figures. gonum's LogTicks labels powers of ten only, so an axis
// spanning less than a decade had no label at all; its DefaultTicks print every
// label with the precision of the finest one ("2500.00"). These markers always
// give a few readable labels.

// logTicks marks a log axis: powers of ten when the range holds at least three,
// otherwise 1-2-5 steps, otherwise every digit, otherwise (a range under a
// factor of about two) evenly spaced ticks; unlabelled minor ticks at every digit.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min || math.IsInf(max, 0) {
		return linearTicks{}.Ticks(min, max)
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	inRange := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	steps := func(mantissas []float64) []float64 {
		var vs []float64
		for e := lo; e <= hi; e++ {
			for _, m := range mantissas {
				if v := m * math.Pow10(e); inRange(v) {
					vs = append(vs, v)
				}
			}
		}
		return vs
	}
	var labelled []float64
	for _, ms := range [][]float64{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		if labelled = steps(ms); len(labelled) >= 3 {
			break
		}
	}
	if len(labelled) < 2 {
		return linearTicks{}.Ticks(min, max)
	}
	if every := (len(labelled) + 7) / 8; every > 1 { // at most about 8 labels
		var thin []float64
		for i, v := range labelled {
			if i%every == 0 {
				thin = append(thin, v)
			}
		}
		labelled = thin
	}
	var ticks []plot.Tick
	isLabelled := map[float64]bool{}
	for _, v := range labelled {
		isLabelled[v] = true
		ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
	}
	if hi-lo <= 6 {
		for _, v := range steps([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			if !isLabelled[v] {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// linearTicks labels 3 to 7 round values (steps of 1, 2, 2.5 or 5 times a
// power of ten) with unlabelled minor ticks between them.
type linearTicks struct{}

func (linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return []plot.Tick{{Value: min, Label: tickLabel(min)}}
	}
	span := max - min
	mag := math.Pow10(int(math.Floor(math.Log10(span / 5))))
	step, minors := mag, 5
	for _, m := range []struct {
		step   float64
		minors int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}, {10, 5}} {
		step, minors = m.step*mag, m.minors
		if span/step <= 6.5 {
			break
		}
	}
	var ticks []plot.Tick
	first := math.Ceil(min/step-1e-9) * step
	for k := 0; ; k++ {
		v := first + float64(k)*step
		if v > max+1e-9*span {
			break
		}
		if math.Abs(v) < 1e-12*span {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
	}
	minor := step / float64(minors)
	for v := math.Ceil(min/minor-1e-9) * minor; v <= max+1e-9*span; v += minor {
		if r := math.Mod(math.Abs(v-first), step); r > 1e-6*step && step-r > 1e-6*step {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// tickLabel writes an axis value briefly: at most four significant digits, no
// trailing zeros, k and M for thousands and millions from 10 000 on.
func tickLabel(v float64) string {
	if v == 0 || math.Abs(v) < 1e-9 {
		return "0"
	}
	suffix := ""
	switch a := math.Abs(v); {
	case a >= 1e7:
		v, suffix = v/1e6, "M"
	case a >= 1e4:
		v, suffix = v/1e3, "k"
	}
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if strings.ContainsAny(s, "e") { // tiny values: plain decimals read better
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s + suffix
}

// log1pScale is a logarithmic axis that includes zero: log(1+x). It spreads
// values from 0 to tens of thousands over one axis, so a few large outliers do
// not flatten a box plot of mostly small values.
type log1pScale struct{}

func (log1pScale) Normalize(min, max, x float64) float64 {
	lo, hi := math.Log1p(math.Max(min, 0)), math.Log1p(math.Max(max, 0))
	if hi <= lo {
		return 0.5
	}
	return (math.Log1p(math.Max(x, 0)) - lo) / (hi - lo)
}

// log1pTicks marks a log1pScale axis: 0, then the steps logTicks would choose
// from 1 up; evenly spaced ticks when everything is below 3.
type log1pTicks struct{}

func (log1pTicks) Ticks(min, max float64) []plot.Tick {
	if max < 3 {
		return linearTicks{}.Ticks(min, max)
	}
	ticks := []plot.Tick{{Value: 0, Label: "0"}}
	if min > 0 {
		ticks = nil
	}
	return append(ticks, logTicks{}.Ticks(math.Max(min, 1), max)...)
}
