package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// protocolColors gives each protocol the same colour in every figure.
var protocolColors = map[string]color.Color{
	"aligned":     color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"unaligned":   color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"hybrid":      color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"atleastonce": color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

func colorOf(protocol string, i int) color.Color {
	if c, ok := protocolColors[protocol]; ok {
		return c
	}
	return plotter.DefaultLineStyle.Color
}

// CheckpointDurations draws figure 2: the end-to-end duration of every completed
// checkpoint of one scenario, one series per protocol, on a log scale. It writes
// NAME.png, NAME.svg and the data behind it as NAME.csv and NAME.json into dir.
func CheckpointDurations(dir, name, scenario string, rows []CheckpointRow) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Checkpoint duration — %s", scenario)
	p.X.Label.Text = "checkpoint trigger time (s)"
	p.Y.Label.Text = "end-to-end duration (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
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
	protocols := sortedKeys(byProtocol)
	for i, pr := range protocols {
		line, points, err := plotter.NewLinePoints(byProtocol[pr])
		if err != nil {
			return err
		}
		c := colorOf(pr, i)
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Radius = vg.Points(2.5)
		p.Add(line, points)
		p.Legend.Add(pr, line, points)
	}
	p.Legend.Top = true
	if err := save(p, dir, name); err != nil {
		return err
	}
	t := Tables{Checkpoints: kept}
	return t.writeOne(dir, name, kept)
}

// save renders a plot as NAME.png and NAME.svg, each written atomically.
func save(p *plot.Plot, dir, name string) error {
	for _, format := range []string{"png", "svg"} {
		w, err := p.WriterTo(8*vg.Inch, 4.5*vg.Inch, format)
		if err != nil {
			return err
		}
		if err := writeRendered(filepath.Join(dir, name+"."+format), w); err != nil {
			return err
		}
	}
	return nil
}

// writeRendered writes a rendered figure to a file, atomically.
func writeRendered(path string, w io.WriterTo) error {
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return err
	}
	return WriteFileAtomic(path, b.Bytes())
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
// protocol and measure. It writes NAME.png, NAME.svg and the rows as NAME.csv and
// NAME.json into dir.
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
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Alignment and start delay per subtask — %s", scenario)
	p.Y.Label.Text = "ms"
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
			box.FillColor = colorOf(pr, i)
			if k == 1 {
				box.FillColor = lighter(colorOf(pr, i))
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
