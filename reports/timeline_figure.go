package reports

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TimelineFigure draws figure 1 for one run: sink throughput and p99 latency over
// simulated time, and every checkpoint as a span from trigger to completion
// (green) or failure (red); fault windows are shaded in every panel, one colour
// per fault kind, named in the legend. It writes NAME.png and NAME.svg, and the
// data as NAME.csv/json (buckets), NAME-checkpoints.csv/json and
// NAME-faults.csv/json, into dir.
func TimelineFigure(dir, name, title string, rows []TimelineRow, cps []CheckpointRow, fw []FaultWindow) error {
	if len(rows) == 0 {
		return fmt.Errorf("figure %s: no timeline to draw", name)
	}
	endS := timelineEnd(rows, cps, fw)
	thr, lat, cp := newPlot(), newPlot(), newPlot()
	thr.Title.Text = title
	thr.Y.Label.Text = "sink throughput (records/s)"
	lat.Y.Label.Text = "p99 latency, committed (ms)"
	var tp, lp plotter.XYs
	maxT, maxL := 1.0, 1.0
	for _, r := range rows {
		mid := (r.StartMS + r.EndMS) / 2000
		tp = append(tp, plotter.XY{X: mid, Y: r.ThroughputRPS})
		maxT = math.Max(maxT, r.ThroughputRPS)
		if r.Committed > 0 {
			lp = append(lp, plotter.XY{X: mid, Y: r.LatencyP99MS})
			maxL = math.Max(maxL, r.LatencyP99MS)
		}
	}
	cp.X.Label.Text = "simulated time (s)"
	cp.Y.Label.Text = "checkpoint id"
	cp.Y.Tick.Marker = integerTicks{}
	for _, p := range []*plot.Plot{thr, lat, cp} {
		p.X.Min, p.X.Max = 0, endS*1.02
		p.Add(plotter.NewGrid())
	}
	maxID := 1.0
	for _, c := range cps {
		maxID = math.Max(maxID, float64(c.ID))
	}
	// fault windows first, so the data draws on top
	seen := map[string]bool{}
	for _, f := range fw {
		x0, x1 := f.StartMS/1000, f.EndMS/1000
		if x1-x0 < endS/300 { // an instant: a thin band
			x1 = x0 + endS/300
		}
		for i, p := range []*plot.Plot{thr, lat, cp} {
			ymax := []float64{maxT * 1.05, maxL * 1.05, maxID + 1}[i]
			poly, err := shade(p, x0, x1, 0, ymax, faultColor(f.Kind))
			if err != nil {
				return err
			}
			if i == 0 && !seen[f.Kind] {
				seen[f.Kind] = true
				addLegend(thr, f.Kind, poly)
			}
		}
	}
	if err := addLine(thr, tp, palette[0]); err != nil {
		return err
	}
	if len(lp) > 0 {
		if err := addLine(lat, lp, color.RGBA{R: 0x9e, G: 0x4a, B: 0x00, A: 0xff}); err != nil {
			return err
		}
	}
	thr.Y.Min, lat.Y.Min = 0, 0
	thr.Y.Max, lat.Y.Max = maxT*1.05, maxL*1.05
	if err := checkpointSpans(cp, cps, endS); err != nil {
		return err
	}
	cp.Y.Min, cp.Y.Max = 0, maxID+1
	if err := saveFigure([]*plot.Plot{thr, lat, cp}, 2.1*vg.Inch, dir, name); err != nil {
		return err
	}
	var t Tables
	if err := t.writeOne(dir, name, rows); err != nil {
		return err
	}
	if err := t.writeOne(dir, name+"-checkpoints", nonNil(cps)); err != nil {
		return err
	}
	return t.writeOne(dir, name+"-faults", nonNil(fw))
}

// timelineEnd is where a timeline's time axis ends, in seconds: at the last
// bucket, checkpoint or fault window, whichever ends last.
func timelineEnd(rows []TimelineRow, cps []CheckpointRow, fw []FaultWindow) float64 {
	end := rows[len(rows)-1].EndMS
	for _, c := range cps {
		end = math.Max(end, c.TriggerMS+math.Max(c.DurationMS, 0))
	}
	for _, f := range fw {
		end = math.Max(end, f.EndMS)
	}
	return end / 1000
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// addLine draws a line, with its points marked when they are few (a single
// bucket of committed output is a dot, not nothing).
func addLine(p *plot.Plot, xys plotter.XYs, c color.Color) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	p.Add(l)
	if len(xys) < 40 {
		pts, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		pts.Shape, pts.Color, pts.Radius = draw.CircleGlyph{}, c, vg.Points(2)
		p.Add(pts)
	}
	return nil
}

// checkpointSpans draws each checkpoint as a horizontal bar at the height of its
// id, from its trigger to its end (to endS while still pending), at least 1/150
// of the axis long; a checkpoint that failed or was aborted is red with a cross
// where it ended, so that one failing at once is still plain to see.
func checkpointSpans(p *plot.Plot, cps []CheckpointRow, endS float64) error {
	done := color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	failed := color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	var legendDone, legendFailed bool
	minW := endS / 150
	for _, c := range cps {
		x0 := c.TriggerMS / 1000
		x1 := x0 + math.Max(c.DurationMS, 0)/1000
		if c.Status == "IN_PROGRESS" {
			x1 = endS
		}
		x1 = math.Max(x1, x0+minW)
		y := float64(c.ID)
		l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
		if err != nil {
			return err
		}
		l.Width = vg.Points(5)
		l.Color = done
		if c.Status == "COMPLETED" {
			p.Add(l)
			if !legendDone {
				legendDone = true
				addLegend(p, "completed", l)
			}
			continue
		}
		l.Color = failed
		end, err := plotter.NewScatter(plotter.XYs{{X: x0 + math.Max(c.DurationMS, 0)/1000, Y: y}})
		if err != nil {
			return err
		}
		end.Shape, end.Color, end.Radius = draw.CrossGlyph{}, failed, vg.Points(5)
		p.Add(l, end)
		if !legendFailed {
			legendFailed = true
			addLegend(p, "failed or aborted (× where it ended)", l, end)
		}
	}
	return nil
}

// integerTicks labels whole numbers only (checkpoint ids).
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (linearTicks{}).Ticks(min, max) {
		if t.Label != "" && t.Value != math.Trunc(t.Value) {
			t.Label = ""
		}
		out = append(out, t)
	}
	return out
}

// FigureName is the file name (without extension) of a figure about a scenario,
// or about one protocol's run of it when protocol is not empty.
func FigureName(scenario, protocol, figure string) string {
	parts := []string{scenario}
	if protocol != "" {
		parts = append(parts, protocol)
	}
	parts = append(parts, figure)
	return strings.NewReplacer("/", "-", string(filepath.Separator), "-").Replace(strings.Join(parts, "--"))
}
