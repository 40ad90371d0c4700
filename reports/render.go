package reports

import (
	"bytes"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// figureWidth is the width of every figure (768 px in the PNG).
const figureWidth = 8 * vg.Inch

// figureDPI is the resolution of the PNGs.
const figureDPI = 96

// legendMaxWidth bounds the legend column; longer entries wrap.
const legendMaxWidth = figureWidth * 3 / 10

// newPlot starts a figure panel with the house style: axes that always carry a
// few readable labels, and a grid.
func newPlot() *plot.Plot {
	p := plot.New()
	p.X.Tick.Marker = linearTicks{}
	p.Y.Tick.Marker = linearTicks{}
	p.Title.Padding = vg.Points(6)
	p.Legend.Top, p.Legend.Left = true, true
	return p
}

// setLog puts an axis on a log scale with logTicks.
func setLog(a *plot.Axis) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{}
}

// saveFigure renders panels stacked top to bottom, their data areas aligned,
// each panelHeight tall, as NAME.png and NAME.svg (atomically). Each panel's
// legend is drawn in a column to the right of its data, never over it; titles,
// axis labels and legend entries too long for their room wrap onto more lines.
// The y labels are drawn here, centred on the data: gonum places a y label's
// box at the arithmetic middle of the range, which on a log axis is near the
// top, and shrinks the data area to make room for it.
func saveFigure(panels []*plot.Plot, panelHeight vg.Length, dir, name string) error {
	height := panelHeight * vg.Length(len(panels))
	legends := make([]plot.Legend, len(panels))
	ylabels := make([]string, len(panels))
	legendW, labelW := vg.Length(0), vg.Length(0)
	for i, p := range panels {
		legends[i] = p.Legend
		legendW = max(legendW, legendWidth(&legends[i]))
		p.Legend = plot.NewLegend() // drawn beside the data instead
		fitLabels(p, figureWidth, panelHeight)
		ylabels[i] = p.Y.Label.Text
		if ylabels[i] != "" {
			labelW = max(labelW, p.Y.Label.TextStyle.Height(ylabels[i])+p.Y.Label.Padding+2*vg.Millimeter)
		}
		p.Y.Label.Text = ""
	}
	gap := vg.Length(0)
	if legendW > 0 {
		gap = 4 * vg.Millimeter
	}
	pad := 2 * vg.Millimeter
	for _, format := range []string{"png", "svg"} {
		var c interface {
			vg.CanvasSizer
			io.WriterTo
		}
		switch format {
		case "png":
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figureWidth, height), vgimg.UseDPI(figureDPI))}
		default:
			c = vgsvg.New(figureWidth, height)
		}
		dc := draw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		left := draw.Crop(dc, pad+labelW, -(legendW + gap), 0, 0)
		grid := make([][]*plot.Plot, len(panels))
		for i, p := range panels {
			grid[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: pad, PadY: pad, PadTop: pad, PadBottom: pad, PadLeft: 0, PadRight: pad}
		canvases := plot.Align(grid, tiles, left)
		for i, p := range panels {
			p.Draw(canvases[i][0])
			data := p.DataCanvas(canvases[i][0])
			if ylabels[i] != "" {
				sty := p.Y.Label.TextStyle
				sty.Rotation += math.Pi / 2
				sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
				dc.FillText(sty, vg.Point{X: dc.Min.X + pad, Y: (data.Min.Y + data.Max.Y) / 2}, ylabels[i])
			}
			if legendW > 0 {
				strip := data
				strip.Min.X, strip.Max.X = left.Max.X+gap, dc.Max.X-pad
				legends[i].Top, legends[i].Left = true, true
				legends[i].Draw(strip)
			}
		}
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return err
		}
		if err := WriteFileAtomic(filepath.Join(dir, name+"."+format), b.Bytes()); err != nil {
			return err
		}
	}
	for i, p := range panels { // the plots are the caller's: give them back whole
		p.Legend, p.Y.Label.Text = legends[i], ylabels[i]
	}
	return nil
}

func legendWidth(l *plot.Legend) vg.Length {
	r := l.Rectangle(draw.Canvas{})
	if r.Max.X == r.Min.X {
		return 0
	}
	return r.Max.X - r.Min.X + l.TextStyle.Width(" ") + vg.Millimeter
}

// addLegend adds a legend entry with its text wrapped to fit the legend column.
func addLegend(p *plot.Plot, label string, thumbs ...plot.Thumbnailer) {
	p.Legend.Add(wrapText(p.Legend.TextStyle, label, legendMaxWidth-p.Legend.ThumbnailWidth), thumbs...)
}

// fitLabels wraps a panel's title and y label onto two or more lines where they
// would not fit: the title in the figure's width, the y label in the panel's
// height less the title and the x axis.
func fitLabels(p *plot.Plot, width, height vg.Length) {
	p.Title.Text = wrapText(p.Title.TextStyle, p.Title.Text, width-10*vg.Millimeter)
	room := height - 16*vg.Millimeter
	if p.Title.Text != "" {
		room -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y
	}
	if p.X.Label.Text != "" {
		room -= p.X.Label.TextStyle.Rectangle(p.X.Label.Text).Size().Y
	}
	p.Y.Label.Text = wrapText(p.Y.Label.TextStyle, p.Y.Label.Text, room)
	p.X.Label.Text = wrapText(p.X.Label.TextStyle, p.X.Label.Text, width*3/4)
}

// wrapText breaks s at spaces into as few lines as make every line at most w
// wide in style sty (a single word longer than w stays whole).
func wrapText(sty text.Style, s string, w vg.Length) string {
	if s == "" || sty.Width(s) <= w {
		return s
	}
	words := strings.Fields(s)
	for lines := 2; lines <= len(words); lines++ {
		out := balance(words, lines)
		fits := true
		for _, l := range strings.Split(out, "\n") {
			fits = fits && sty.Width(l) <= w
		}
		if fits {
			return out
		}
	}
	return strings.Join(words, "\n")
}

// balance splits words into n lines of about equal length in characters.
func balance(words []string, n int) string {
	total := 0
	for _, w := range words {
		total += len(w) + 1
	}
	target := int(math.Ceil(float64(total) / float64(n)))
	var b strings.Builder
	line := 0
	for i, w := range words {
		if i > 0 {
			if line+len(w) > target && strings.Count(b.String(), "\n") < n-1 {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
