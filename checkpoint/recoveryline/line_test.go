package recoveryline

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// script is the state of one recovery-line script: a job's channels and, per task,
// its checkpoints and current state.
type script struct {
	h History
}

// TestScripts runs the step-by-step scripts in testdata/. Commands:
//
//	job tasks=N            channels follow, one per line: "t0 -> t1"
//	ckpt t=I id=ID [sent=a,b] [proc=c,d]   a checkpoint of task I
//	now t=I [sent=a,b] [proc=c,d]          task I keeps running with these counters
//	fail t=I                                task I failed (its current state is lost)
//	graph | line | floor | useless
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		s := &script{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, err := s.run(t, d)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
	})
}

func (s *script) run(t *testing.T, d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "job":
		return s.job(t, d)
	case "ckpt", "now":
		i, p, err := s.point(t, d)
		if err != nil {
			return "", err
		}
		if d.Cmd == "now" {
			s.h.Current[i] = &p
		} else {
			s.h.Points[i] = append(s.h.Points[i], p)
		}
		return "ok\n", nil
	case "fail":
		var i int
		d.ScanArgs(t, "t", &i)
		s.h.Current[i] = nil
		return "ok\n", nil
	case "graph":
		if err := s.h.Validate(); err != nil {
			return "", err
		}
		var edges func(Channel) bool
		if d.HasArg("no-orphans") {
			edges = func(Channel) bool { return false }
		}
		g := NewGraph(&s.h, edges)
		out := g.String()
		if out == "" {
			out = "no message edges\n"
		}
		return out, nil
	case "line":
		l, err := Compute(&s.h)
		if err != nil {
			return "", err
		}
		return s.describe(l), nil
	case "floor":
		tr, err := Floor(&s.h)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for i, x := range tr.Base {
			fmt.Fprintf(&b, "t%d base ckpt %d\n", i, s.h.Points[i][x].ID)
		}
		for ci, c := range s.h.Channels {
			fmt.Fprintf(&b, "ch t%d->t%d: log droppable up to %d\n", c.From, c.To, tr.LogFrom[ci])
		}
		return b.String(), nil
	case "useless":
		ns, err := Useless(&s.h)
		if err != nil {
			return "", err
		}
		if len(ns) == 0 {
			return "none\n", nil
		}
		var b strings.Builder
		for _, n := range ns {
			fmt.Fprintf(&b, "t%d ckpt %d\n", n.Task, s.h.Points[n.Task][n.X].ID)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func (s *script) job(t *testing.T, d *datadriven.TestData) (string, error) {
	var n int
	d.ScanArgs(t, "tasks", &n)
	s.h = History{Points: make([][]Point, n), Current: make([]*Point, n)}
	outs, ins := make([]int, n), make([]int, n)
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		var a, b int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "t%d -> t%d", &a, &b); err != nil {
			return "", fmt.Errorf("channel %q: want tA -> tB", line)
		}
		if a >= n || b >= n {
			return "", fmt.Errorf("channel %q: only %d tasks", line, n)
		}
		s.h.Channels = append(s.h.Channels, Channel{From: a, Out: outs[a], To: b, In: ins[b]})
		outs[a]++
		ins[b]++
	}
	for i := range s.h.Points {
		p := Point{Sent: make([]int64, outs[i]), Processed: make([]int64, ins[i])}
		s.h.Points[i] = []Point{p}
		q := Point{Sent: make([]int64, outs[i]), Processed: make([]int64, ins[i])}
		s.h.Current[i] = &q
	}
	return fmt.Sprintf("%d tasks, %d channels\n", n, len(s.h.Channels)), nil
}

func (s *script) point(t *testing.T, d *datadriven.TestData) (int, Point, error) {
	var i int
	var id int64
	d.ScanArgs(t, "t", &i)
	if d.HasArg("id") {
		d.ScanArgs(t, "id", &id)
	}
	if i < 0 || i >= len(s.h.Points) {
		return 0, Point{}, fmt.Errorf("no task %d", i)
	}
	base := s.h.Points[i][0]
	p := Point{ID: id, Sent: make([]int64, len(base.Sent)), Processed: make([]int64, len(base.Processed))}
	for _, arg := range d.CmdArgs {
		var dst []int64
		switch arg.Key {
		case "sent":
			dst = p.Sent
		case "proc":
			dst = p.Processed
		default:
			continue
		}
		if len(arg.Vals) != len(dst) {
			return 0, Point{}, fmt.Errorf("%s: task %d has %d such channels, got %d values", arg.Key, i, len(dst), len(arg.Vals))
		}
		for k, v := range arg.Vals {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, Point{}, err
			}
			dst[k] = n
		}
	}
	return i, p, nil
}

func (s *script) describe(l Line) string {
	var b strings.Builder
	for i, x := range l.At {
		if x == len(s.h.Points[i]) {
			fmt.Fprintf(&b, "t%d keeps running\n", i)
		} else {
			fmt.Fprintf(&b, "t%d restores ckpt %d\n", i, s.h.Points[i][x].ID)
		}
	}
	fmt.Fprintf(&b, "useless: %d\n", l.Useless)
	for _, r := range l.Replays(&s.h, InTransit) {
		c := s.h.Channels[r.Channel]
		fmt.Fprintf(&b, "replay t%d->t%d (%d, %d]\n", c.From, c.To, r.From, r.To)
	}
	return b.String()
}
