package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/scenarios"
)

// The report's tables are built from column lists: a new metric is one more
// column, and a column that is empty or zero in every row is left out, so a
// table shows only what its runs measured.

// column is one column of an HTML table over rows of type T.
type column[T any] struct {
	head string
	// text (plain, or a number) is the cell of one row.
	text func(T) string
	// left aligns text to the left (names); numbers go right.
	left bool
	// always keeps the column even when every cell is empty or zero.
	always bool
	// class gives a cell a CSS class (verdict colours), optional.
	class func(T) string
}

// htmlTable is a table ready for the page template.
type htmlTable struct {
	Head []htmlCell
	Rows [][]htmlCell
	// Same lists the columns folded out of the table because every row has the
	// same value (head and value), when the table was built with folding.
	Same []sameValue
}

// sameValue is a column every row agrees on: its head and the value.
type sameValue struct {
	Head, Value string
}

// htmlCell is one cell: its text, CSS class and link (both optional).
type htmlCell struct {
	Text, Class, Href string
}

// buildTable lays rows out under cols, dropping the columns whose every cell is
// empty or zero (unless always); link gives each row's first cell a link ("" none).
func buildTable[T any](cols []column[T], rows []T, link func(T) string) htmlTable {
	return layTable(cols, rows, link, false)
}

// buildFoldedTable is buildTable that also folds out the columns with one
// value in every row (unless always) into the table's Same list.
func buildFoldedTable[T any](cols []column[T], rows []T, link func(T) string) htmlTable {
	return layTable(cols, rows, link, len(rows) > 1)
}

func layTable[T any](cols []column[T], rows []T, link func(T) string, fold bool) htmlTable {
	var kept []column[T]
	var t htmlTable
	for _, c := range cols {
		switch {
		case c.always:
		case allEmpty(c, rows):
			continue
		case fold && constant(c, rows):
			t.Same = append(t.Same, sameValue{Head: c.head, Value: c.text(rows[0])})
			continue
		}
		kept = append(kept, c)
	}
	for _, c := range kept {
		t.Head = append(t.Head, htmlCell{Text: c.head, Class: alignClass(c.left)})
	}
	for _, r := range rows {
		var row []htmlCell
		for i, c := range kept {
			cell := htmlCell{Text: c.text(r), Class: alignClass(c.left)}
			if c.class != nil {
				cell.Class = strings.TrimSpace(cell.Class + " " + c.class(r))
			}
			if i == 0 && link != nil {
				cell.Href = link(r)
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func alignClass(left bool) string {
	if left {
		return "l"
	}
	return ""
}

func allEmpty[T any](c column[T], rows []T) bool {
	for _, r := range rows {
		if !isZero(c.text(r)) {
			return false
		}
	}
	return true
}

func constant[T any](c column[T], rows []T) bool {
	for _, r := range rows[1:] {
		if c.text(r) != c.text(rows[0]) {
			return false
		}
	}
	return true
}

// isZero is true for "", "-" and any way of writing the number 0 ("0", "0.0",
// "0/0").
func isZero(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return true
	}
	for _, part := range strings.Split(s, "/") {
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || v != 0 {
			return false
		}
	}
	return true
}

func ms(v float64) string    { return strconv.FormatFloat(v, 'f', 1, 64) }
func whole(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
func kib(v float64) string   { return strconv.FormatFloat(v/1024, 'f', 0, 64) }

// runColumns are the columns of a scenario's table of runs.
var runColumns = []column[*scenarios.Result]{
	{head: "protocol", left: true, always: true, text: func(r *scenarios.Result) string { return r.Protocol }},
	{head: "result", always: true, text: func(r *scenarios.Result) string { return verdictOf(r).Word },
		class: func(r *scenarios.Result) string { return "v-" + verdictOf(r).Class }},
	{head: "outcome", always: true, text: func(r *scenarios.Result) string { return r.Outcome }},
	{head: "checkpoints completed/triggered", always: true, text: func(r *scenarios.Result) string {
		return fmt.Sprintf("%d/%d", r.Checkpoints.Completed, r.Checkpoints.Triggered)
	}},
	{head: "failed checkpoints", text: func(r *scenarios.Result) string { return strconv.Itoa(r.Checkpoints.Failed) }},
	{head: "duration p50 ms", text: func(r *scenarios.Result) string { return ms(r.Checkpoints.DurationMS.P50) }},
	{head: "duration max ms", text: func(r *scenarios.Result) string { return ms(r.Checkpoints.DurationMS.Max) }},
	{head: "alignment p50 ms", text: func(r *scenarios.Result) string { return ms(r.Checkpoints.AlignmentMS.P50) }},
	{head: "start delay p50 ms", text: func(r *scenarios.Result) string { return ms(r.Checkpoints.StartDelayMS.P50) }},
	{head: "checkpoint size p50 KiB", text: func(r *scenarios.Result) string { return kib(r.Checkpoints.FullBytes.P50) }},
	{head: "persisted in-flight p50 KiB", text: func(r *scenarios.Result) string {
		return kib(r.Checkpoints.PersistedInflightBytes.P50)
	}},
	{head: "restarts", text: func(r *scenarios.Result) string { return strconv.Itoa(r.Restarts) }},
	{head: "recovery p50 ms", text: func(r *scenarios.Result) string { return ms(r.RecoveryMS.P50) }},
	{head: "caught up p50 ms", text: func(r *scenarios.Result) string { return ms(r.CatchUpMS.P50) }},
	{head: "reprocessed records", text: func(r *scenarios.Result) string { return strconv.FormatInt(r.ReprocessedRecords, 10) }},
	{head: "replayed records", text: func(r *scenarios.Result) string { return strconv.FormatInt(r.Costs.ReplayedRecords, 10) }},
	{head: "pause p50 ms", text: func(r *scenarios.Result) string { return ms(r.Costs.PauseMS.P50) }},
	{head: "written KiB", text: func(r *scenarios.Result) string { return kib(float64(r.Costs.WrittenBytes)) }},
	{head: "log held KiB", text: func(r *scenarios.Result) string { return kib(float64(r.Costs.LogHeldBytes)) }},
	{head: "protocol messages", text: func(r *scenarios.Result) string { return strconv.FormatInt(r.Costs.ProtocolMessages, 10) }},
	{head: "protocol KiB", text: func(r *scenarios.Result) string { return kib(float64(r.Costs.ProtocolBytes)) }},
	{head: "forced checkpoints", text: func(r *scenarios.Result) string { return strconv.Itoa(r.Costs.ForcedCheckpoints) }},
	{head: "useless checkpoints", text: func(r *scenarios.Result) string { return strconv.Itoa(r.Costs.UselessCheckpoints) }},
	{head: "throughput rec/s", text: func(r *scenarios.Result) string { return whole(r.ThroughputRPS) }},
	{head: "latency p50 ms", text: func(r *scenarios.Result) string { return ms(r.LatencyMS.P50) }},
	{head: "latency p99 ms", text: func(r *scenarios.Result) string { return ms(r.LatencyMS.P99) }},
}

// sweepColumns are the columns of a sweep's table of runs.
var sweepColumns = []column[SweepRow]{
	{head: "values", left: true, always: true, text: func(r SweepRow) string { return r.Values }},
	{head: "protocol", left: true, always: true, text: func(r SweepRow) string { return r.Protocol }},
	{head: "seed", text: func(r SweepRow) string { return strconv.FormatUint(r.Seed, 10) }},
	{head: "result", always: true, text: func(r SweepRow) string {
		if r.OK {
			return "ok"
		}
		return "FAIL"
	}, class: func(r SweepRow) string {
		if r.OK {
			return "v-ok"
		}
		return "v-fail"
	}},
	{head: "checkpoints", text: func(r SweepRow) string { return strconv.Itoa(r.Completed) }},
	{head: "duration p50 ms", text: func(r SweepRow) string { return ms(r.DurationP50MS) }},
	{head: "duration p99 ms", text: func(r SweepRow) string { return ms(r.DurationP99MS) }},
	{head: "model ms", text: func(r SweepRow) string { return ms(r.ModelAlignedMS) }},
	{head: "alignment p50 ms", text: func(r SweepRow) string { return ms(r.AlignmentP50MS) }},
	{head: "size KiB", text: func(r SweepRow) string { return kib(r.CheckpointBytes) }},
	{head: "in-flight KiB", text: func(r SweepRow) string { return kib(r.InflightBytes) }},
	{head: "restarts", text: func(r SweepRow) string { return strconv.Itoa(r.Restarts) }},
	{head: "downtime ms", text: func(r SweepRow) string { return ms(r.RecoveryP50MS) }},
	{head: "caught up ms", text: func(r SweepRow) string { return ms(r.CatchUpP50MS) }},
	{head: "reprocessed", text: func(r SweepRow) string { return strconv.FormatInt(r.Reprocessed, 10) }},
	{head: "replayed", text: func(r SweepRow) string { return strconv.FormatInt(r.Replayed, 10) }},
	{head: "pause p50 ms", text: func(r SweepRow) string { return ms(r.PauseP50MS) }},
	{head: "written KiB", text: func(r SweepRow) string { return kib(float64(r.WrittenBytes)) }},
	{head: "protocol messages", text: func(r SweepRow) string { return strconv.FormatInt(r.ProtocolMessages, 10) }},
	{head: "protocol KiB", text: func(r SweepRow) string { return kib(float64(r.ProtocolBytes)) }},
	{head: "forced", text: func(r SweepRow) string { return strconv.Itoa(r.Forced) }},
	{head: "useless", text: func(r SweepRow) string { return strconv.Itoa(r.Useless) }},
	{head: "records/s", text: func(r SweepRow) string { return whole(r.ProcessedRPS) }},
	{head: "latency p50 ms", text: func(r SweepRow) string { return ms(r.LatencyP50MS) }},
	{head: "latency p99 ms", text: func(r SweepRow) string { return ms(r.LatencyP99MS) }},
	{head: "overhead %", text: func(r SweepRow) string {
		if r.BaselineRPS <= 0 {
			return ""
		}
		return strconv.FormatFloat(r.OverheadPct, 'f', 2, 64)
	}},
}

// transpose turns a table over: its columns become rows (a table of a few runs
// and many measures reads better with one column per run). The first column's
// cells become the head row.
func transpose(t htmlTable) htmlTable {
	if len(t.Head) == 0 {
		return t
	}
	out := htmlTable{Head: []htmlCell{{Text: t.Head[0].Text, Class: "l"}}}
	for _, r := range t.Rows {
		out.Head = append(out.Head, r[0])
	}
	for j := 1; j < len(t.Head); j++ {
		row := []htmlCell{{Text: t.Head[j].Text, Class: "l"}}
		for _, r := range t.Rows {
			row = append(row, r[j])
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// sweepColumnsFor is sweepColumns with the values column named for the swept
// key and showing the value alone, when one key is swept.
func sweepColumnsFor(rows []SweepRow) []column[SweepRow] {
	for _, r := range rows {
		if r.Values != r.Param+"="+r.Value {
			return sweepColumns
		}
	}
	if len(rows) == 0 {
		return sweepColumns
	}
	cols := slices.Clone(sweepColumns)
	// a zero-width space after each dot lets a long key break in the head
	cols[0] = column[SweepRow]{head: strings.ReplaceAll(rows[0].Param, ".", ".\u200b"), left: true, always: true, text: func(r SweepRow) string { return r.Value }}
	return cols
}
