package protocol

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// driver feeds one barrier handler, executes its actions on a model of the task's
// input channels (blocked, persisting) and checks after every action and every call
// the invariants a barrier handler must keep. It is shared by the step-by-step
// scripts (testdata/*) and the property test.
type driver struct {
	proto   string // aligned, unaligned, hybrid, atleastonce
	mode    string // how the handler behaves: aligned, unaligned, hybrid, atleastonce
	h       checkpoint.BarrierHandler
	n       int
	timeout sim.Duration
	now     sim.Time
	// abortEOP: an end of partition aborts the pending checkpoint
	// (checkpoints-after-tasks-finish: false)
	abortEOP bool

	// inputs
	delivered  []map[int64]bool // barrier ids delivered per channel
	unalignedB map[int64]bool   // some channel delivered an unaligned barrier of the checkpoint
	savepoint  map[int64]bool   // the checkpoint is a savepoint: always aligned
	ended      []bool
	created    map[int64]sim.Time
	cancelled  map[int64]bool // a cancellation barrier or an Abort call named the checkpoint
	maxInput   int64          // largest checkpoint id of any input so far

	// the task model
	blocked    []bool
	persisting []int64          // checkpoint whose channel state the channel feeds; 0: none
	fb         []bool           // back edges (HandlerConfig.Feedback)
	logs       []map[int64]bool // per back edge: the checkpoints logging it
	triggered  map[int64]bool
	unaligned  map[int64]bool // triggered as unaligned
	last       int64          // latest checkpoint triggered
	aborted    map[int64]bool // ActAbort emitted
	timers     []sim.Time
	evaluated  map[int64]bool // completion of the checkpoint was checked

	// alignment figures: when each checkpoint's first barrier came, the bytes
	// processed by then, the bytes processed so far, the figures reported
	processed int64
	firstAt   map[int64]sim.Time
	bytesAt   map[int64]int64
	figures   map[int64]checkpoint.Action

	errs []string
}

func newDriver(proto string, channels int, timeout sim.Duration) (*driver, error) {
	return newDriverConfig(proto, checkpoint.HandlerConfig{Channels: channels, AlignedTimeout: timeout})
}

// newDriverConfig is newDriver with a whole handler configuration.
func newDriverConfig(proto string, cfg checkpoint.HandlerConfig) (*driver, error) {
	p, err := checkpoint.Lookup(proto)
	if err != nil {
		return nil, err
	}
	channels, timeout := cfg.Channels, cfg.AlignedTimeout
	d := &driver{
		proto: proto, mode: proto, n: channels, timeout: timeout, abortEOP: cfg.AbortOnEndOfPartition,
		h:          p.NewHandler(cfg),
		delivered:  make([]map[int64]bool, channels),
		unalignedB: map[int64]bool{},
		savepoint:  map[int64]bool{},
		ended:      make([]bool, channels),
		created:    map[int64]sim.Time{},
		cancelled:  map[int64]bool{},
		blocked:    make([]bool, channels),
		persisting: make([]int64, channels),
		triggered:  map[int64]bool{},
		unaligned:  map[int64]bool{},
		aborted:    map[int64]bool{},
		evaluated:  map[int64]bool{},
		firstAt:    map[int64]sim.Time{},
		bytesAt:    map[int64]int64{},
		figures:    map[int64]checkpoint.Action{},
	}
	if len(cfg.Feedback) == channels {
		d.fb = cfg.Feedback
	}
	d.logs = make([]map[int64]bool, channels)
	for i := range d.logs {
		d.logs[i] = map[int64]bool{}
	}
	for i := range d.delivered {
		d.delivered[i] = map[int64]bool{}
	}
	if proto == "hybrid" && timeout <= 0 {
		d.mode = "unaligned" // aligned-checkpoint-timeout 0: always unaligned
	}
	return d, nil
}

func (d *driver) exactlyOnce() bool { return d.mode != "atleastonce" }

// modeOf is how the handler must treat checkpoint id: a savepoint of an
// exactly-once handler is aligned whatever the protocol does for checkpoints.
func (d *driver) modeOf(id int64) string {
	if d.savepoint[id] && d.exactlyOnce() {
		return "aligned"
	}
	return d.mode
}

func (d *driver) errorf(format string, args ...any) {
	d.errs = append(d.errs, fmt.Sprintf("at %v: ", d.now)+fmt.Sprintf(format, args...))
}

// call describes the input being handled, for the checks of its actions.
type call struct {
	kind string // barrier, cancel, eop, timer, abort
	ch   int
	id   int64
}

func (d *driver) noteInput(id int64) {
	if id > d.maxInput {
		d.maxInput = id
	}
}

func (d *driver) barrier(ch int, b checkpoint.BarrierInfo, now sim.Time) []checkpoint.Action {
	d.now = now
	d.noteInput(b.Checkpoint)
	if _, ok := d.created[b.Checkpoint]; !ok {
		d.created[b.Checkpoint] = b.Created
	}
	if b.Unaligned {
		d.unalignedB[b.Checkpoint] = true
	}
	if b.Savepoint {
		d.savepoint[b.Checkpoint] = true
	}
	if !d.deliveredAny(b.Checkpoint) {
		d.firstAt[b.Checkpoint], d.bytesAt[b.Checkpoint] = now, d.processed
	}
	d.delivered[ch][b.Checkpoint] = true
	acts := d.h.Barrier(ch, b, now, nil)
	c := call{kind: "barrier", ch: ch, id: b.Checkpoint}
	d.apply(c, acts)
	return acts
}

// data processes a data buffer of n bytes from channel ch, which must not be
// blocked (a blocked channel delivers nothing).
func (d *driver) data(ch int, n int64, now sim.Time) {
	d.now = now
	if d.blocked[ch] {
		d.errorf("data processed from blocked channel %d", ch)
	}
	d.processed += n
	if c, ok := d.h.(checkpoint.AlignmentCounter); ok {
		c.Processed(ch, n)
	}
}

func (d *driver) cancel(ch int, id int64, now sim.Time) []checkpoint.Action {
	d.now = now
	// a cancellation of the pending checkpoint or of one newer than every
	// checkpoint seen must be forwarded (Flink: cancelledId > currentCheckpointId,
	// or equal while pending)
	p, ok := d.h.Pending()
	mustForward := id > d.maxInput || (ok && p == id)
	d.noteInput(id)
	d.cancelled[id] = true
	acts := d.h.Cancel(ch, id, now, nil)
	if mustForward && !slices.Contains(acts, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: id}) {
		d.errorf("cancellation of checkpoint %d not forwarded: %v", id, acts)
	}
	d.apply(call{kind: "cancel", ch: ch, id: id}, acts)
	return acts
}

func (d *driver) eop(ch int, now sim.Time) []checkpoint.Action {
	d.now = now
	d.ended[ch] = true
	p, pending := d.h.Pending()
	acts := d.h.EndOfPartition(ch, now, nil)
	if d.abortEOP && pending && !slices.Contains(acts, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: p, Decline: true}) {
		d.errorf("end of partition with checkpoints-after-tasks-finish false left checkpoint %d pending: %v", p, acts)
	}
	d.apply(call{kind: "eop", ch: ch}, acts)
	return acts
}

func (d *driver) timer(now sim.Time) []checkpoint.Action {
	d.now = now
	acts := d.h.Timer(now, nil)
	d.apply(call{kind: "timer"}, acts)
	return acts
}

func (d *driver) abort(id int64, now sim.Time) []checkpoint.Action {
	d.now = now
	d.noteInput(id)
	d.cancelled[id] = true
	acts := d.h.Abort(id, now, nil)
	for ch := range d.logs {
		delete(d.logs[ch], id) // the task forgets the aborted checkpoint's logs
	}
	d.apply(call{kind: "abort", id: id}, acts)
	return acts
}

// complete reports whether every channel delivered barrier id or ended.
func (d *driver) complete(id int64) bool {
	for c := 0; c < d.n; c++ {
		if !d.delivered[c][id] && !d.ended[c] && !d.back(c) {
			return false
		}
	}
	return true
}

// back reports whether channel ch is a back edge: out of the alignment.
func (d *driver) back(ch int) bool { return d.fb != nil && d.fb[ch] }

// backLog checks an ActPersist or ActStopPersist on back edge ch (ABS Algorithm
// 2): a log starts with the checkpoint just taken and ends when a barrier of it
// or a newer one comes back on the edge, the edge ends, or an abort forgets it.
func (d *driver) backLog(c call, a checkpoint.Action) {
	ch, id := a.Channel, a.Checkpoint
	switch a.Kind {
	case checkpoint.ActPersist:
		if id != d.last || !d.triggered[id] || d.unaligned[id] {
			d.errorf("%v: a back edge logs the aligned checkpoint just taken (%d)", a, d.last)
		}
		if d.ended[ch] || d.logs[ch][id] {
			d.errorf("%v: the back edge ended or already logs checkpoint %d", a, id)
		}
		d.logs[ch][id] = true
	case checkpoint.ActStopPersist:
		if !d.logs[ch][id] {
			d.errorf("%v: the back edge does not log checkpoint %d", a, id)
		}
		ok := ((c.kind == "barrier" || c.kind == "cancel") && c.ch == ch && c.id >= id) || (c.kind == "eop" && c.ch == ch)
		if !ok {
			d.errorf("%v on %s ch=%d id=%d: checkpoint %d's barrier has not come back on the edge", a, c.kind, c.ch, c.id, id)
		}
		delete(d.logs[ch], id)
	}
}

func (d *driver) deliveredAny(id int64) bool {
	for c := 0; c < d.n; c++ {
		if d.delivered[c][id] {
			return true
		}
	}
	return false
}

// apply executes the actions of one call on the model and checks them.
func (d *driver) apply(c call, acts []checkpoint.Action) {
	abortedNow := map[int64]bool{}
	var unalignedNow []int64
	persistedNow, prioritizedNow := map[int]bool{}, map[int]bool{}
	for _, a := range acts {
		if (a.Kind == checkpoint.ActPersist || a.Kind == checkpoint.ActStopPersist) && d.back(a.Channel) {
			d.backLog(c, a)
			continue
		}
		if a.Kind == checkpoint.ActBlock && d.back(a.Channel) {
			d.errorf("%v: a back edge never blocks", a)
		}
		switch a.Kind {
		case checkpoint.ActBlock:
			if m := d.modeOf(c.id); !d.exactlyOnce() || m == "unaligned" {
				d.errorf("%s handler blocked channel %d", m, a.Channel)
			}
			if c.kind != "barrier" || c.ch != a.Channel {
				d.errorf("%v on %s ch=%d: only the channel whose barrier arrived may block", a, c.kind, c.ch)
			}
			d.blocked[a.Channel] = true
		case checkpoint.ActResume:
			clear(d.blocked)
		case checkpoint.ActCheckpoint:
			id := a.Checkpoint
			if id <= d.last {
				d.errorf("checkpoint %d after checkpoint %d: ids must strictly increase", id, d.last)
			}
			if d.cancelled[id] || d.aborted[id] || abortedNow[id] {
				d.errorf("checkpoint %d was aborted or cancelled, yet triggered", id)
			}
			if !d.deliveredAny(id) {
				d.errorf("checkpoint %d triggered with no barrier of it delivered", id)
			}
			switch d.modeOf(id) {
			case "aligned", "atleastonce":
				if a.Unaligned {
					d.errorf("%s handler took an unaligned checkpoint %d", d.modeOf(id), id)
				}
			case "unaligned":
				if !a.Unaligned {
					d.errorf("unaligned handler took an aligned checkpoint %d", id)
				}
			case "hybrid":
				if a.Unaligned && !d.unalignedB[id] && d.now.Sub(d.created[id]) < d.timeout {
					d.errorf("hybrid checkpoint %d turned unaligned %v after its creation, before the timeout %v and without an unaligned barrier",
						id, d.now.Sub(d.created[id]), d.timeout)
				}
				if a.Unaligned && !d.unalignedB[id] && d.complete(id) {
					d.errorf("hybrid checkpoint %d: the late last barrier completes the alignment, the checkpoint is aligned", id)
				}
			}
			if d.exactlyOnce() {
				for ch := 0; ch < d.n; ch++ {
					if d.back(ch) {
						continue // out of the alignment
					}
					// a channel that delivered the barrier earlier must not have been
					// consumed since: it is still blocked
					if d.delivered[ch][id] && !(c.kind == "barrier" && c.ch == ch) && !d.blocked[ch] {
						d.errorf("checkpoint %d: channel %d delivered its barrier before and was consumed since (not blocked)", id, ch)
					}
					if !a.Unaligned && !d.delivered[ch][id] && !d.ended[ch] {
						d.errorf("aligned checkpoint %d triggered while channel %d has neither its barrier nor ended", id, ch)
					}
				}
			}
			d.triggered[id], d.unaligned[id], d.last = true, a.Unaligned, id
			if a.Unaligned {
				unalignedNow = append(unalignedNow, id)
			}
		case checkpoint.ActPersist:
			if m := d.modeOf(d.last); m == "aligned" || m == "atleastonce" {
				d.errorf("%s handler emitted %v", d.mode, a)
				continue
			}
			id := d.last
			if a.Checkpoint != 0 && a.Checkpoint != id {
				d.errorf("%v for checkpoint %d, the latest triggered is %d", a, a.Checkpoint, id)
			}
			if !d.unaligned[id] {
				d.errorf("%v while checkpoint %d is not unaligned", a, id)
			}
			if d.delivered[a.Channel][id] || d.ended[a.Channel] {
				d.errorf("%v: the channel already delivered barrier %d or ended", a, id)
			}
			if d.persisting[a.Channel] != 0 {
				d.errorf("%v: the channel is already persisted for checkpoint %d", a, d.persisting[a.Channel])
			}
			d.persisting[a.Channel] = id
			persistedNow[a.Channel] = true
		case checkpoint.ActStopPersist:
			if m := d.modeOf(d.persisting[a.Channel]); m == "aligned" || m == "atleastonce" {
				d.errorf("%s handler emitted %v", d.mode, a)
				continue
			}
			p := d.persisting[a.Channel]
			if p == 0 {
				d.errorf("%v: the channel is not persisted", a)
				continue
			}
			ok := abortedNow[p] || c.kind == "abort" ||
				(c.kind == "barrier" && c.ch == a.Channel && c.id >= p) ||
				(c.kind == "eop" && c.ch == a.Channel)
			if !ok {
				d.errorf("%v on %s ch=%d id=%d: checkpoint %d still needs the channel's in-flight data", a, c.kind, c.ch, c.id, p)
			}
			d.persisting[a.Channel] = 0
		case checkpoint.ActPrioritize:
			if d.modeOf(a.Checkpoint) != "hybrid" {
				d.errorf("%s handler emitted %v", d.mode, a)
			}
			if a.Checkpoint != d.last || !d.unaligned[d.last] {
				d.errorf("%v: checkpoint %d is not the unaligned one in progress (%d)", a, a.Checkpoint, d.last)
			}
			if d.persisting[a.Channel] != a.Checkpoint {
				d.errorf("%v: the channel is not persisted for it", a)
			}
			prioritizedNow[a.Channel] = true
		case checkpoint.ActAbort:
			if d.aborted[a.Checkpoint] || abortedNow[a.Checkpoint] {
				d.errorf("checkpoint %d aborted twice", a.Checkpoint)
			}
			if d.triggered[a.Checkpoint] && !d.unaligned[a.Checkpoint] {
				d.errorf("checkpoint %d aborted after it was taken aligned", a.Checkpoint)
			}
			if c.kind == "abort" && a.Checkpoint == c.id {
				d.errorf("Abort(%d) asked the task to abort it again", c.id)
			}
			if a.Decline && (c.kind != "eop" || !d.abortEOP) {
				d.errorf("%v on %s: only an end of partition declines, with checkpoints-after-tasks-finish false", a, c.kind)
			}
			if d.mode == "atleastonce" && c.kind == "barrier" {
				// CheckpointBarrierTracker: a completed checkpoint subsumes older
				// ones silently; nothing travels downstream
				d.errorf("the tracker aborted checkpoint %d on a barrier", a.Checkpoint)
			}
			abortedNow[a.Checkpoint] = true
		case checkpoint.ActAligned:
			// the figures Flink reports: start delay = first barrier - creation,
			// alignment = first to last barrier, bytes processed in between
			id := a.Checkpoint
			if _, dup := d.figures[id]; dup {
				d.errorf("%v: reported twice", a)
			}
			d.figures[id] = a
			if !d.complete(id) {
				d.errorf("%v before every channel delivered barrier %d or ended", a, id)
			}
			if want := max(0, d.firstAt[id].Sub(d.created[id])); a.StartDelay != want {
				d.errorf("%v: start delay want %v", a, want)
			}
			if want := d.now.Sub(d.firstAt[id]); a.Alignment != want {
				d.errorf("%v: alignment want %v (first barrier at %v)", a, want, d.firstAt[id])
			}
			if want := d.processed - d.bytesAt[id]; a.Bytes != want {
				d.errorf("%v: bytes processed during alignment want %d", a, want)
			}
		case checkpoint.ActTimer:
			if m := d.modeOf(c.id); m != "hybrid" {
				d.errorf("%s handler asked for a timer", m)
			}
			if c.kind != "barrier" {
				d.errorf("timer requested on %s", c.kind)
			} else if want := d.created[c.id].Add(d.timeout); a.At != want {
				d.errorf("%v: the timeout counts from the barrier's creation: want %v", a, want)
			}
			d.timers = append(d.timers, a.At)
		default:
			d.errorf("unknown action %v", a)
		}
	}
	for id := range abortedNow {
		d.aborted[id] = true
	}
	// hybrid: the barriers still missing when a checkpoint turns unaligned are
	// aligned barriers upstream; they are asked to overtake
	for ch := range persistedNow {
		if d.mode == "hybrid" && !prioritizedNow[ch] {
			d.errorf("hybrid: channel %d persisted without prioritizing its barrier", ch)
		}
	}
	// an unaligned checkpoint covers every channel: by its barrier, its end or its
	// persisted in-flight data
	for _, id := range unalignedNow {
		if d.aborted[id] {
			continue
		}
		for ch := 0; ch < d.n; ch++ {
			if !d.delivered[ch][id] && !d.ended[ch] && d.persisting[ch] != id {
				d.errorf("unaligned checkpoint %d: channel %d has neither its barrier nor ended nor is persisted", id, ch)
			}
		}
	}
	d.checkState(c)
}

// checkState checks that Pending agrees with the model after a call.
func (d *driver) checkState(c call) {
	p, ok := d.h.Pending()
	anyBlocked := slices.Contains(d.blocked, true)
	for ch := 0; ch < d.n; ch++ {
		if d.blocked[ch] {
			if !ok {
				d.errorf("channel %d blocked while the handler is idle", ch)
			} else if d.triggered[p] {
				d.errorf("channel %d still blocked after checkpoint %d was taken", ch, p)
			} else if !d.delivered[ch][p] {
				d.errorf("channel %d blocked but has not delivered barrier %d of the pending checkpoint", ch, p)
			}
		}
		if id := d.persisting[ch]; id != 0 {
			if !ok || p != id {
				d.errorf("channel %d still persisted for checkpoint %d, pending: %d %v", ch, id, p, ok)
			}
			if d.delivered[ch][id] || d.ended[ch] {
				d.errorf("channel %d persisted for checkpoint %d after its barrier or end", ch, id)
			}
		}
	}
	if ok {
		if !d.deliveredAny(p) {
			d.errorf("pending %d, but no barrier of it was delivered", p)
		}
		if d.aborted[p] || d.cancelled[p] {
			d.errorf("pending %d, but it was aborted", p)
		}
		if p < d.last || (p == d.last && !d.unaligned[p]) {
			d.errorf("pending %d, but checkpoint %d was taken", p, d.last)
		}
		if d.complete(p) {
			d.errorf("pending %d although every channel delivered its barrier or ended", p)
		}
		if d.mode == "atleastonce" && anyBlocked {
			d.errorf("at-least-once blocked a channel")
		}
		if d.mode != "atleastonce" && p < d.maxInput {
			d.errorf("pending %d although checkpoint %d was already seen", p, d.maxInput)
		}
		if d.modeOf(p) == "hybrid" && !d.triggered[p] && d.now.Sub(d.created[p]) >= d.timeout &&
			(c.kind == "timer" || c.kind == "eop" || (c.kind == "barrier" && c.id == p)) {
			d.errorf("hybrid checkpoint %d still aligned %v after its creation (timeout %v)", p, d.now.Sub(d.created[p]), d.timeout)
		}
	}
	if d.exactlyOnce() && c.kind == "barrier" && ok && p == c.id && !d.triggered[p] && !d.blocked[c.ch] {
		d.errorf("channel %d delivered barrier %d of the aligning checkpoint but was not blocked", c.ch, p)
	}
	// a checkpoint whose barriers all arrived, with no newer checkpoint seen and no
	// cancellation, must have been taken
	for id := int64(1); id <= d.maxInput; id++ {
		if d.evaluated[id] || !d.deliveredAny(id) || !d.complete(id) {
			continue
		}
		d.evaluated[id] = true
		if d.maxInput == id && !d.cancelled[id] && !d.aborted[id] && !d.triggered[id] {
			d.errorf("every barrier of checkpoint %d arrived, nothing newer was seen, yet it was not taken", id)
		}
	}
}

// finish checks the state once every channel ended.
func (d *driver) finish() {
	if p, ok := d.h.Pending(); ok {
		d.errorf("all channels ended, checkpoint %d still pending", p)
	}
	for ch := 0; ch < d.n; ch++ {
		if d.blocked[ch] {
			d.errorf("all channels ended, channel %d still blocked", ch)
		}
		if d.persisting[ch] != 0 {
			d.errorf("all channels ended, channel %d still persisted", ch)
		}
	}
}

// --- step-by-step scripts ---

func parseTime(t testing.TB, td *datadriven.TestData, key string) sim.Time {
	var s string
	if !td.MaybeScanArgs(t, key, &s) {
		return -1
	}
	dur, err := sim.ParseDuration(s)
	if err != nil {
		td.Fatalf(t, "%s: %v", key, err)
	}
	return sim.Time(dur)
}

func formatActions(acts []checkpoint.Action) string {
	if len(acts) == 0 {
		return "no actions\n"
	}
	var b strings.Builder
	for _, a := range acts {
		b.WriteString(a.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func (d *driver) describe() string {
	var blocked, persisting []string
	for ch := 0; ch < d.n; ch++ {
		if d.blocked[ch] {
			blocked = append(blocked, fmt.Sprint(ch))
		}
		if d.persisting[ch] != 0 {
			persisting = append(persisting, fmt.Sprintf("%d(%d)", ch, d.persisting[ch]))
		}
		ids := slices.Sorted(maps.Keys(d.logs[ch]))
		for _, id := range ids {
			persisting = append(persisting, fmt.Sprintf("%d(%d)", ch, id))
		}
	}
	return fmt.Sprintf("blocked: [%s] persisting: [%s]\n", strings.Join(blocked, " "), strings.Join(persisting, " "))
}

// TestHandlers runs the scripts of testdata: one per protocol. Commands:
//
//	new protocol=P channels=N [timeout=D] [feedback=(C,...)]
//	barrier ch=C id=I [created=T] now=T [unaligned] [savepoint]
//	cancel ch=C id=I now=T
//	eop ch=C now=T
//	timer now=T
//	abort id=I now=T
//	data ch=C bytes=N  (the task processes a data buffer from the unblocked channel C)
//	figures id=I (the alignment figures reported for checkpoint I)
//	pending
//	state      (blocked and persisted channels as the actions left them)
//
// Each input prints the actions the handler returned, one per line. Every action is
// also checked against the invariants of driver.apply; a violation fails the test.
func TestHandlers(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid", "atleastonce", "cycle"} {
		t.Run(proto, func(t *testing.T) { runScript(t, "testdata/"+proto) })
	}
}

func runScript(t *testing.T, path string) {
	var d *driver
	var violations []string
	datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
		if td.Cmd != "new" && d == nil {
			td.Fatalf(t, "no handler: start with new")
		}
		now := parseTime(t, td, "now")
		if now < 0 && d != nil {
			now = d.now
		}
		var acts []checkpoint.Action
		switch td.Cmd {
		case "new":
			var proto string
			var channels int
			td.ScanArgs(t, "protocol", &proto)
			td.ScanArgs(t, "channels", &channels)
			timeout := parseTime(t, td, "timeout")
			if timeout < 0 {
				timeout = 0
			}
			// checkpoints-after-tasks-finish=false: an end of partition aborts
			after := "true"
			td.MaybeScanArgs(t, "checkpoints-after-tasks-finish", &after)
			cfg := checkpoint.HandlerConfig{Channels: channels, AlignedTimeout: sim.Duration(timeout), AbortOnEndOfPartition: after == "false"}
			if td.HasArg("feedback") { // back edges: feedback=(2,3)
				var fb []int
				td.ScanArgs(t, "feedback", &fb)
				cfg.Feedback = make([]bool, channels)
				for _, ch := range fb {
					cfg.Feedback[ch] = true
				}
			}
			var err error
			if d, err = newDriverConfig(proto, cfg); err != nil {
				td.Fatalf(t, "%v", err)
			}
			return "ok\n"
		case "barrier":
			var ch int
			var id int64
			td.ScanArgs(t, "ch", &ch)
			td.ScanArgs(t, "id", &id)
			created := parseTime(t, td, "created")
			if created < 0 {
				created = 0
			}
			acts = d.barrier(ch, checkpoint.BarrierInfo{Checkpoint: id, Created: created, Unaligned: td.HasArg("unaligned"),
				Savepoint: td.HasArg("savepoint")}, now)
		case "cancel":
			var ch int
			var id int64
			td.ScanArgs(t, "ch", &ch)
			td.ScanArgs(t, "id", &id)
			acts = d.cancel(ch, id, now)
		case "eop":
			var ch int
			td.ScanArgs(t, "ch", &ch)
			acts = d.eop(ch, now)
		case "timer":
			acts = d.timer(now)
		case "abort":
			var id int64
			td.ScanArgs(t, "id", &id)
			acts = d.abort(id, now)
		case "data":
			var ch int
			var n int64
			td.ScanArgs(t, "ch", &ch)
			td.ScanArgs(t, "bytes", &n)
			d.data(ch, n, now)
		case "figures":
			var id int64
			td.ScanArgs(t, "id", &id)
			if a, ok := d.figures[id]; ok {
				return a.String() + "\n"
			}
			return "none\n"
		case "pending":
			if id, ok := d.h.Pending(); ok {
				return fmt.Sprintf("pending %d\n", id)
			}
			return "none\n"
		case "state":
			return d.describe()
		default:
			td.Fatalf(t, "unknown command %q", td.Cmd)
		}
		for _, e := range d.errs {
			// reported after the script: datadriven stops at the first error
			violations = append(violations, fmt.Sprintf("%s: %s: %s", td.Pos, td.Cmd, e))
		}
		d.errs = nil
		return formatActions(acts)
	})
	for _, v := range violations {
		t.Error(v)
	}
}

// --- property test ---

// item is one event queued on an input channel.
type item struct {
	kind      string // barrier, cancel, eop
	id        int64
	unaligned bool
	savepoint bool
}

// TestHandlerInvariants drives every handler with random interleavings of FIFO
// channels: each channel carries barriers or cancellations of increasing
// checkpoint ids and ends with end-of-partition; blocked channels deliver nothing
// until resumed; timers fire when asked for; the coordinator aborts checkpoints now
// and then. The driver checks every action and every state.
func TestHandlerInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		proto := rapid.SampledFrom([]string{"aligned", "unaligned", "hybrid", "atleastonce"}).Draw(rt, "protocol")
		n := rapid.IntRange(1, 4).Draw(rt, "channels")
		var timeout sim.Duration
		if proto == "hybrid" {
			timeout = sim.Duration(rapid.IntRange(0, 80).Draw(rt, "timeoutMs")) * sim.Millisecond
		}
		abortEOP := rapid.IntRange(0, 3).Draw(rt, "checkpointsAfterTasksFinish") == 0
		d, err := newDriverConfig(proto, checkpoint.HandlerConfig{Channels: n, AlignedTimeout: timeout, AbortOnEndOfPartition: abortEOP})
		if err != nil {
			rt.Fatal(err)
		}
		const maxID = 6
		created := func(id int64) sim.Time { return sim.Time(id) * sim.Time(10*sim.Millisecond) }
		queues := make([][]item, n)
		savepoint := map[int64]bool{} // a savepoint's barriers are savepoint barriers on every channel
		for id := int64(1); id <= maxID; id++ {
			savepoint[id] = rapid.IntRange(0, 3).Draw(rt, fmt.Sprintf("id%d-savepoint", id)) == 0
		}
		for ch := range queues {
			for id := int64(1); id <= maxID; id++ {
				switch rapid.IntRange(0, 9).Draw(rt, fmt.Sprintf("ch%d-id%d", ch, id)) {
				case 0, 1: // this channel skips the checkpoint
				case 2: // the upstream declined it
					queues[ch] = append(queues[ch], item{kind: "cancel", id: id})
				default:
					unaligned := (d.mode == "hybrid" || d.mode == "unaligned") && !savepoint[id] && rapid.IntRange(0, 3).Draw(rt, fmt.Sprintf("ch%d-id%d-ua", ch, id)) == 0
					queues[ch] = append(queues[ch], item{kind: "barrier", id: id, unaligned: unaligned, savepoint: savepoint[id]})
				}
			}
			queues[ch] = append(queues[ch], item{kind: "eop"})
		}
		fail := func() {
			if len(d.errs) > 0 {
				rt.Fatalf("%s channels=%d timeout=%v:\n%s", proto, n, timeout, strings.Join(d.errs, "\n"))
			}
		}
		for step := 0; step < 1000; step++ {
			var ready []int
			for ch := range queues {
				if len(queues[ch]) > 0 && !d.blocked[ch] {
					ready = append(ready, ch)
				}
			}
			if len(ready) == 0 && len(d.timers) == 0 {
				break
			}
			choice := rapid.IntRange(0, 9).Draw(rt, "move")
			switch {
			case len(d.timers) > 0 && (choice == 0 || len(ready) == 0):
				slices.Sort(d.timers)
				at := d.timers[0]
				d.timers = d.timers[1:]
				d.timer(max(d.now, at))
			case choice == 2 && len(ready) > 0:
				ch := rapid.SampledFrom(ready).Draw(rt, "dataChannel")
				d.data(ch, int64(rapid.IntRange(1, 4096).Draw(rt, "bytes")), d.now)
			case choice == 1 && rapid.IntRange(0, 2).Draw(rt, "abort?") == 0:
				d.abort(int64(rapid.IntRange(1, maxID).Draw(rt, "abortID")), d.now)
			default:
				if len(ready) == 0 {
					continue
				}
				ch := rapid.SampledFrom(ready).Draw(rt, "channel")
				it := queues[ch][0]
				queues[ch] = queues[ch][1:]
				now := d.now.Add(sim.Duration(rapid.IntRange(0, 30).Draw(rt, "dtMs")) * sim.Millisecond)
				switch it.kind {
				case "barrier":
					d.barrier(ch, checkpoint.BarrierInfo{Checkpoint: it.id, Created: created(it.id), Unaligned: it.unaligned, Savepoint: it.savepoint},
						max(now, created(it.id)))
				case "cancel":
					d.cancel(ch, it.id, max(now, created(it.id)))
				case "eop":
					d.eop(ch, now)
				}
			}
			fail()
		}
		for ch := range queues {
			if len(queues[ch]) > 0 {
				d.errorf("deadlock: channel %d has %d events left, blocked=%v", ch, len(queues[ch]), d.blocked)
			}
		}
		d.finish()
		fail()
	})
}

// TestTrackerBoundsPending checks that the tracker follows at most
// maxPendingTracked checkpoints (forgetting the oldest silently) and copes with a barrier older than all of them.
func TestTrackerBoundsPending(t *testing.T) {
	d, err := newDriver("atleastonce", 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	var aborted []int64
	for id := int64(10); id < 10+maxPendingTracked+1; id++ {
		for _, a := range d.barrier(0, checkpoint.BarrierInfo{Checkpoint: id}, 0) {
			if a.Kind == checkpoint.ActAbort {
				aborted = append(aborted, a.Checkpoint)
			}
		}
	}
	// CheckpointBarrierTracker drops the oldest silently (pollFirst, no abort)
	if len(aborted) != 0 {
		t.Errorf("aborted %v tracking %d checkpoints, want none: the oldest is forgotten silently", aborted, maxPendingTracked+1)
	}
	if p, _ := d.h.Pending(); p != 11 {
		t.Errorf("pending %d, want 11", p)
	}
	// a barrier older than every tracked checkpoint
	acts := d.barrier(1, checkpoint.BarrierInfo{Checkpoint: 5}, 0)
	if len(acts) != 0 {
		t.Errorf("stale barrier 5: %v", acts)
	}
	acts = d.barrier(1, checkpoint.BarrierInfo{Checkpoint: 10 + maxPendingTracked}, 0)
	want := fmt.Sprintf("checkpoint %d aligned", 10+maxPendingTracked)
	if len(acts) == 0 || acts[len(acts)-1].String() != want {
		t.Errorf("last barrier: %v, want ... %s", acts, want)
	}
	if _, ok := d.h.Pending(); ok {
		t.Errorf("older checkpoints not subsumed")
	}
	for _, e := range d.errs {
		t.Error(e)
	}
}
