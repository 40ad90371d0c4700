package reports

import (
	"image/color"
	"io"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// savePanels renders plots stacked top to bottom, their data areas aligned, each
// panelHeight inches tall, as NAME.png and NAME.svg, each written atomically.
func savePanels(plots []*plot.Plot, panelHeight float64, dir, name string) error {
	width := 8 * vg.Inch
	height := vg.Length(panelHeight*float64(len(plots))) * vg.Inch
	for _, format := range []string{"png", "svg"} {
		var c interface {
			vg.CanvasSizer
			io.WriterTo
		}
		switch format {
		case "png":
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))}
		default:
			c = vgsvg.New(width, height)
		}
		dc := draw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		grid := make([][]*plot.Plot, len(plots))
		for i, p := range plots {
			grid[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: vg.Millimeter,
			PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
		canvases := plot.Align(grid, tiles, dc)
		for i, p := range plots {
			p.Draw(canvases[i][0])
		}
		if err := writeRendered(filepath.Join(dir, name+"."+format), c); err != nil {
			return err
		}
	}
	return nil
}

// shade adds translucent rectangles spanning [x0, x1] × [y0, y1] to p.
func shade(p *plot.Plot, x0, x1, y0, y1 float64, c color.Color) (*plotter.Polygon, error) {
	poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	if err != nil {
		return nil, err
	}
	r, g, b, _ := c.RGBA()
	poly.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x50}
	poly.LineStyle.Width = 0
	p.Add(poly)
	return poly, nil
}

// faultColors gives each fault kind one colour in every figure.
var faultColors = map[string]color.Color{
	"crash-task":          color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"crash-worker":        color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	"crash-coordinator":   color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	"partition":           color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	"latency-spike":       color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	"straggler":           color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	"storage-outage":      color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
	"storage-slow":        color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"disk-errors":         color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	"sink-commit-failure": color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"fifo-violation":      color.RGBA{R: 0x00, G: 0x00, B: 0x00, A: 0xff},
}

func faultColor(kind string) color.Color {
	if c, ok := faultColors[kind]; ok {
		return c
	}
	return color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
