package reports

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/ckptsim/ckptsim/checkpoint"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// mixesFamilies reports whether the rows compare protocols of more than one
// family (coordinated, uncoordinated, communication-induced): only then do the
// costs that differ by family (logs, piggybacks, replay) need a figure.
func mixesFamilies(rows []SweepRow) bool {
	seen := map[checkpoint.Family]bool{}
	for _, r := range rows {
		if p, err := checkpoint.Lookup(r.Protocol); err == nil {
			seen[checkpoint.FamilyOf(p)] = true
		}
	}
	return len(seen) > 1
}

// costsFigure draws, for a sweep across protocol families, the costs defined
// alike for every protocol (scenarios.Costs): the protocol's messages and
// piggybacks in bytes, the bytes written to the checkpoint store (state,
// in-flight data and message logs), the p99 latency to the sink's commit and
// the records re-read from the sources or replayed (in-flight data, logs) after
// the failure.
func costsFigure(path string, rows []SweepRow, ss []series) (bool, error) {
	if !mixesFamilies(rows) {
		return false, nil
	}
	kib := func(v int64) float64 { return float64(v) / 1024 }
	panels := []struct {
		title, ylabel string
		logY          bool
		y             func(SweepRow) float64
	}{
		{fmt.Sprintf("Costs against %s — %s", rows[0].Param, rows[0].Scenario),
			"protocol messages + piggybacks (KiB, log)", true, func(r SweepRow) float64 { return kib(r.ProtocolBytes) }},
		{"", "written to the checkpoint store (KiB, log)", true, func(r SweepRow) float64 { return kib(r.WrittenBytes) }},
		{"", "latency to the sink's commit, p99 (ms)", false, func(r SweepRow) float64 { return r.LatencyP99MS }},
		{"", "records re-read or replayed after the failure", false, func(r SweepRow) float64 {
			if r.Restarts == 0 {
				return math.NaN()
			}
			return float64(r.Replayed + r.Reprocessed)
		}},
	}
	var ps []*plot.Plot
	for _, pn := range panels {
		p := sweepPlot(pn.title, rows, pn.ylabel, pn.logY)
		if _, err := addSeries(p, ss, pn.y, pn.logY); err != nil {
			return false, err
		}
		if !pn.logY {
			p.Y.Min = 0
		}
		ps = append(ps, p)
	}
	return true, saveFigure(ps, 2.4*vg.Inch, filepath.Dir(path), filepath.Base(path))
}
