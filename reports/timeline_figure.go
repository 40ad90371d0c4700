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
	endS := rows[len(rows)-1].EndMS / 1000
	thr, lat := plot.New(), plot.New()
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
	cp := plot.New()
	cp.X.Label.Text = "simulated time (s)"
	cp.Y.Label.Text = "checkpoint"
	for _, p := range []*plot.Plot{thr, lat, cp} {
		p.X.Min, p.X.Max = 0, endS
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
				thr.Legend.Add(f.Kind, poly)
			}
		}
	}
	if err := addLine(thr, tp, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}); err != nil {
		return err
	}
	if len(lp) > 0 {
		if err := addLine(lat, lp, color.RGBA{R: 0x9e, G: 0x4a, B: 0x00, A: 0xff}); err != nil {
			return err
		}
	}
	thr.Y.Min, lat.Y.Min = 0, 0
	if err := checkpointSpans(cp, cps, endS); err != nil {
		return err
	}
	cp.Y.Min, cp.Y.Max = 0, maxID+1
	thr.Legend.Top = true
	thr.Legend.Left = true
	if err := savePanels([]*plot.Plot{thr, lat, cp}, 2.1, dir, name); err != nil {
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

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func addLine(p *plot.Plot, xys plotter.XYs, c color.Color) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	p.Add(l)
	return nil
}

// checkpointSpans draws each checkpoint as a horizontal bar at the height of its
// id, from its trigger to its end (to endS while still pending).
func checkpointSpans(p *plot.Plot, cps []CheckpointRow, endS float64) error {
	done := color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	failed := color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	var legendDone, legendFailed bool
	for _, c := range cps {
		x0 := c.TriggerMS / 1000
		x1 := x0 + c.DurationMS/1000
		if c.Status == "IN_PROGRESS" || c.DurationMS <= 0 {
			x1 = math.Max(x1, math.Min(endS, x0+endS/300))
		}
		l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: float64(c.ID)}, {X: x1, Y: float64(c.ID)}})
		if err != nil {
			return err
		}
		l.Width = vg.Points(4)
		l.Color = done
		if c.Status != "COMPLETED" {
			l.Color = failed
		}
		p.Add(l)
		if c.Status == "COMPLETED" && !legendDone {
			legendDone = true
			p.Legend.Add("completed", l)
		} else if c.Status != "COMPLETED" && !legendFailed {
			legendFailed = true
			p.Legend.Add("failed or aborted", l)
		}
	}
	p.Legend.Top, p.Legend.Left = true, true
	return nil
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
