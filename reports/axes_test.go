package reports

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

func labels(ticks []plot.Tick, min, max float64) []string {
	var out []string
	for _, t := range ticks {
		if t.Label != "" && t.Value >= min*(1-1e-9) && t.Value <= max*(1+1e-9) {
			out = append(out, t.Label)
		}
	}
	return out
}

// TestLogTicks: a log axis carries at least two labels whatever its range, even
// one spanning less than a decade (gonum's LogTicks labels powers of ten only),
// and at most about eight.
func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     string // the labels, when it matters
	}{
		{100, 10000, "100 1000 10k"},
		{0.1, 10, "0.1 1 10"},
		{26, 103, "30 40 50 60 70 80 90 100"},
		{4.8, 62, "5 10 20 50"},
		{5, 6, ""},
		{1, 1.05, ""},
		{1e-3, 1e9, ""},
	} {
		got := labels(logTicks{}.Ticks(c.min, c.max), c.min, c.max)
		if len(got) < 2 || len(got) > 9 {
			t.Errorf("[%g, %g]: %d labels %q", c.min, c.max, len(got), got)
		}
		if c.want != "" && strings.Join(got, " ") != c.want {
			t.Errorf("[%g, %g]: labels %q, want %q", c.min, c.max, got, c.want)
		}
	}
}

// TestLinearTicks: round steps, labels without padding zeros.
func TestLinearTicks(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     string
	}{
		{0, 2650, "0 500 1000 1500 2000 2500"},
		{0, 8, "0 2 4 6 8"},
		{200, 4000, "1000 2000 3000 4000"},
		{0, 14387, "0 2500 5000 7500 10k 12.5k"},
		{0, 0.98, "0 0.2 0.4 0.6 0.8"},
	} {
		if got := strings.Join(labels(linearTicks{}.Ticks(c.min, c.max), c.min, c.max), " "); got != c.want {
			t.Errorf("[%g, %g]: labels %q, want %q", c.min, c.max, got, c.want)
		}
	}
}

// TestLog1p: zero is on the axis and labelled; outliers far above the boxes do
// not squeeze the values near zero into a line.
func TestLog1p(t *testing.T) {
	got := strings.Join(labels(log1pTicks{}.Ticks(0, 82), 0, 82), " ")
	if got != "0 1 2 5 10 20 50" {
		t.Errorf("labels %q", got)
	}
	s := log1pScale{}
	if s.Normalize(0, 82, 0) != 0 || math.Abs(s.Normalize(0, 82, 82)-1) > 1e-12 {
		t.Error("the range does not map onto [0, 1]")
	}
	if s.Normalize(0, 82, 5) < 0.35 { // 5 ms of 82: linear would put it at 0.06
		t.Errorf("5 of 82 is at %.2f of the axis", s.Normalize(0, 82, 5))
	}
}

func TestTickLabel(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 2500: "2500", 12500: "12.5k", 10000: "10k", 0.25: "0.25",
		1e7: "10M", 0.001: "0.001", 61.6: "61.6", -3: "-3"} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%g) = %q, want %q", v, got, want)
		}
	}
}

// TestWrapText: a label too long for its room breaks into lines that each fit;
// one that fits stays as it is.
func TestWrapText(t *testing.T) {
	sty := text.Style{Font: font.From(plot.DefaultFont, 12), Handler: plot.DefaultTextHandler}
	long := "end-to-end checkpoint duration, p50 (ms, log scale)"
	w := sty.Width(long) * 0.6
	got := wrapText(sty, long, w)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || strings.Join(lines, " ") != long {
		t.Fatalf("wrapped into %q", lines)
	}
	for _, l := range lines {
		if sty.Width(l) > w {
			t.Errorf("line %q is wider than %v", l, w)
		}
	}
	if wrapText(sty, "ms", vg.Inch) != "ms" {
		t.Error("a short label changed")
	}
}

// TestTimelineEnd: the time axis reaches a checkpoint that ends after the last
// bucket (the last checkpoint was clipped before).
func TestTimelineEnd(t *testing.T) {
	rows := []TimelineRow{{EndMS: 4000}, {StartMS: 4000, EndMS: 4500}}
	cps := []CheckpointRow{{TriggerMS: 4400, DurationMS: 300}, {TriggerMS: 4450, DurationMS: -1}}
	if got := timelineEnd(rows, cps, []FaultWindow{{EndMS: 4600}}); got != 4.7 {
		t.Errorf("axis ends at %v s, want 4.7", got)
	}
}
