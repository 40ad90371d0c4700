package reports

import (
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

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
