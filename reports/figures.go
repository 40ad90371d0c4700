package reports

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// CheckpointDurations draws figure 2: the end-to-end duration of every completed
// checkpoint of one scenario, one series per protocol, on a log scale. It writes
// NAME.png, NAME.svg and the data behind it as NAME.csv and NAME.json into dir.
func CheckpointDurations(dir, name, scenario string, rows []CheckpointRow) error {
	p := newPlot()
	p.Title.Text = fmt.Sprintf("Checkpoint duration — %s", scenario)
	p.X.Label.Text = "checkpoint trigger time (s)"
	p.Y.Label.Text = "end-to-end duration (ms, log scale)"
	setLog(&p.Y)
	p.Add(plotter.NewGrid())
	byProtocol := map[string]plotter.XYs{}
	var kept []CheckpointRow
	for _, r := range rows {
		if r.Scenario != scenario || r.Status != "COMPLETED" || r.DurationMS <= 0 {
			continue
		}
		byProtocol[r.Protocol] = append(byProtocol[r.Protocol], plotter.XY{X: r.TriggerMS / 1000, Y: r.DurationMS})
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return fmt.Errorf("figure %s: no completed checkpoint of %q to draw", name, scenario)
	}
	var ss []xySeries
	for _, pr := range sortedKeys(byProtocol) {
		ss = append(ss, xySeries{label: pr, protocol: pr, xys: byProtocol[pr]})
	}
	if err := addSeriesLines(p, ss); err != nil {
		return err
	}
	if err := save(p, dir, name); err != nil {
		return err
	}
	t := Tables{Checkpoints: kept}
	return t.writeOne(dir, name, kept)
}

// save renders a one-panel figure as NAME.png and NAME.svg, each written
// atomically, its legend beside the data.
func save(p *plot.Plot, dir, name string) error {
	return saveFigure([]*plot.Plot{p}, 4.5*vg.Inch, dir, name)
}

// writeOne writes the rows behind a figure as NAME.csv and NAME.json.
func (t *Tables) writeOne(dir, name string, rows any) error {
	js, err := jsonIndent(rows)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, name+".json"), js); err != nil {
		return err
	}
	c, err := toCSV(rows)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, name+".csv"), c)
}

// AlignmentAndStartDelay draws figure 7: box plots of the alignment duration and
// the start delay of every subtask checkpoint of one scenario, one box per
// protocol and measure, on a log scale that includes zero (a few slow subtasks
// would otherwise flatten every box). It writes NAME.png, NAME.svg and the rows
// as NAME.csv and NAME.json into dir.
func AlignmentAndStartDelay(dir, name, scenario string, rows []SubtaskRow) error {
	byProtocol := map[string][]SubtaskRow{}
	var kept []SubtaskRow
	for _, r := range rows {
		if r.Scenario == scenario {
			byProtocol[r.Protocol] = append(byProtocol[r.Protocol], r)
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("figure %s: no subtask checkpoint of %q to draw", name, scenario)
	}
	protocols := sortedKeys(byProtocol)
	p := newPlot()
	p.Title.Text = fmt.Sprintf("Alignment and start delay per subtask — %s", scenario)
	p.Y.Label.Text = "ms (log scale from 0)"
	p.Y.Scale, p.Y.Tick.Marker = log1pScale{}, log1pTicks{}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	var names []string
	w := vg.Points(18)
	for i, pr := range protocols {
		var align, delay plotter.Values
		for _, r := range byProtocol[pr] {
			align = append(align, r.AlignmentMS)
			delay = append(delay, r.StartDelayMS)
		}
		for k, vals := range []plotter.Values{align, delay} {
			box, err := plotter.NewBoxPlot(w, float64(2*i+k), vals)
			if err != nil {
				return err
			}
			box.FillColor = colorOf(pr)
			if k == 1 {
				box.FillColor = lighter(colorOf(pr))
			}
			p.Add(box)
		}
		names = append(names, pr+"\nalignment", pr+"\nstart delay")
	}
	p.NominalX(names...)
	if err := save(p, dir, name); err != nil {
		return err
	}
	var t Tables
	return t.writeOne(dir, name, kept)
}

// lighter mixes a colour halfway to white.
func lighter(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8 + 255) / 2) }
	return color.RGBA{R: mix(r), G: mix(g), B: mix(b), A: 0xff}
}
