package reports

import (
	"image/color"
	"math"
	"slices"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/protocol"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// seriesStyle is how one protocol's series look in every figure: a colour, a
// dash pattern and a point shape, so that series drawn over one another stay
// distinguishable even where they coincide.
type seriesStyle struct {
	color  color.Color
	dashes []vg.Length
	glyph  draw.GlyphDrawer
}

// palette is Tableau 10: the built-in protocols take the first six colours.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

var dashPatterns = [][]vg.Length{
	nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}, {vg.Points(10), vg.Points(3)},
}

var glyphs = []draw.GlyphDrawer{
	draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{},
}

// builtinOrder fixes the styles of the built-in protocols (so a mutant added to
// the registry changes no committed figure); any other protocol takes the next
// style by its place among the registered protocols, so it looks the same in
// every figure.
var builtinOrder = []string{protocol.AlignedName, protocol.UnalignedName, protocol.HybridName, protocol.AtLeastOnceName, protocol.UncoordinatedName, protocol.CICName}

func styleIndex(protocol string) int {
	if i := slices.Index(builtinOrder, protocol); i >= 0 {
		return i
	}
	n := len(builtinOrder)
	for _, name := range checkpoint.Names() {
		if slices.Contains(builtinOrder, name) {
			continue
		}
		if name == protocol {
			return n
		}
		n++
	}
	return n // not registered ("none": the baseline without checkpoints)
}

func styleOf(protocol string) seriesStyle {
	i := styleIndex(protocol)
	return seriesStyle{color: palette[i%len(palette)], dashes: dashPatterns[i%len(dashPatterns)], glyph: glyphs[i%len(glyphs)]}
}

// colorOf is a protocol's colour.
func colorOf(protocol string) color.Color { return styleOf(protocol).color }

// xySeries is one line of a figure: its legend label, the protocol whose style
// it takes, and its points.
type xySeries struct {
	label, protocol string
	xys             plotter.XYs
}

// addSeriesLines draws each series as a line with points in its protocol's
// style. Where series coincide they all stay visible: each is drawn over the
// ones before it, thinner and with smaller points, in its own dash pattern and
// point shape; a series identical to an earlier one names it in the legend.
func addSeriesLines(p *plot.Plot, ss []xySeries) error {
	for i, s := range ss {
		st := styleOf(s.protocol)
		under := 0.0 // 1 for the first series drawn, 0 for the last
		if len(ss) > 1 {
			under = float64(len(ss)-1-i) / float64(len(ss)-1)
		}
		line, points, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return err
		}
		line.Color, points.Color = st.color, st.color
		line.Width = vg.Points(1.2 + 1.8*under)
		line.Dashes = st.dashes
		points.Shape = st.glyph
		points.Radius = vg.Points(2.5 + 2*under)
		p.Add(line, points)
		label := s.label
		for j := 0; j < i; j++ {
			if identical(s.xys, ss[j].xys) {
				label += " (= " + ss[j].label + ")"
				break
			}
		}
		addLegend(p, label, line, points)
	}
	return nil
}

// identical reports whether two series have the same points, to a part in 10⁹.
func identical(a, b plotter.XYs) bool {
	if len(a) != len(b) {
		return false
	}
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) }
	for i := range a {
		if !near(a[i].X, b[i].X) || !near(a[i].Y, b[i].Y) {
			return false
		}
	}
	return true
}
