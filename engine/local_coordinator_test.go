package engine

import (
	"slices"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

type nopHandler struct{}

func (nopHandler) Handle(sim.Event) {}

// TestLateReportKeepsItsLog: a checkpoint reported after the floor passed it (its
// report was held up by a partition) can no longer be restored, but the later
// checkpoints logged only what came after it, so its log delta must stay
// replayable: the log gathered for a restore has no gap. (explore found lost
// records under uncoordinated and cic when such a report deleted its blob.)
func TestLateReportKeepsItsLog(t *testing.T) {
	w := sim.NewWorld(1)
	node := w.AddNode("worker")
	store := sim.NewStore(w, sim.StoreConfig{})
	lc := &localCoord{c: &Coordinator{rt: &Runtime{store: store}}, acting: true}
	lc.chans = []recoveryline.Channel{{From: 0, Out: 0, To: 1, In: 0}}
	lc.chanOf = [][]int{{0}, nil}
	lc.hist = [][]localPoint{{lc.initial(0)}, {lc.initial(1)}}
	lc.logOnly = make([][]localPoint, 2)
	lc.floorIDs = make([]int64, 2)

	// checkpoint id of task 0 logged messages (from, to]
	point := func(id, from, to int64) localPoint {
		var log []LoggedMessage
		for s := from + 1; s <= to; s++ {
			log = append(log, LoggedMessage{Seq: s})
		}
		name := localBlobName("src[0]", id)
		snap := &TaskSnapshot{Task: "src[0]", Local: &LocalSnapshot{Log: [][]LoggedMessage{log},
			Point: recoveryline.Point{ID: id, Sent: []int64{to}}}}
		store.Put(node, name, sim.Blob{Size: 1, Data: snap}, nopHandler{}, 0, 0)
		return localPoint{Point: snap.Local.Point, blob: name, logMax: []int64{to}}
	}
	p1, p2, p3 := point(1, 0, 5), point(2, 5, 9), point(3, 9, 12)
	w.RunUntilIdle()
	lc.insert(0, p1)
	lc.insert(0, p3)
	lc.hist[0] = lc.hist[0][1:] // the floor moved to checkpoint 1: the initial state is gone
	lc.logOnly[0], lc.hist[0] = append(lc.logOnly[0], lc.hist[0][0]), lc.hist[0][1:]
	lc.insert(0, p2) // late: below the floor's base (checkpoint 3)
	if _, ok := store.Lookup(p2.blob); !ok {
		t.Fatal("the late checkpoint's blob was deleted")
	}
	logs := lc.logsUpTo(0, 0, []int64{12})
	var seqs []int64
	for _, m := range logs[0] {
		seqs = append(seqs, m.Seq)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(seqs, want) {
		t.Fatalf("log gathered for the restore: %v, want %v", seqs, want)
	}
	lc.insert(0, p2) // reported again: nothing changes
	if n := len(lc.logOnly[0]); n != 2 {
		t.Fatalf("%d log-only checkpoints after a repeated report, want 2", n)
	}
}
