package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMsgLogCopyRange checks that copyRange returns the messages of its range as
// copies that share nothing with the log and that appending to one leaves the
// next untouched, with nil for an empty record list or stamp.
func TestMsgLogCopyRange(t *testing.T) {
	var l msgLog
	for seq := int64(1); seq <= 6; seq++ {
		var recs []Record
		for i := int64(0); i < seq%3; i++ {
			recs = append(recs, Record{Key: uint64(seq), Value: i, Size: 10})
		}
		var stamp []uint64
		if seq%2 == 0 {
			stamp = []uint64{uint64(seq), uint64(seq) + 1}
		}
		l.add(seq, recs, stamp, seq == 6)
	}
	l.truncate(1)
	var want []LoggedMessage
	for i := 0; i < l.len(); i++ {
		if m := l.message(i); m.Seq > 2 && m.Seq <= 5 {
			want = append(want, LoggedMessage{Seq: m.Seq, Records: append([]Record(nil), m.Records...),
				Stamp: append([]uint64(nil), m.Stamp...), EOP: m.EOP})
		}
	}
	got := l.copyRange(2, 5)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("copyRange(2, 5) (-want +got):\n%s", d)
	}
	for _, m := range got {
		if (len(m.Records) == 0) != (m.Records == nil) || (len(m.Stamp) == 0) != (m.Stamp == nil) {
			t.Errorf("message %d: an empty slice that is not nil, or a nil one that is not empty", m.Seq)
		}
	}
	// seq 4 (one record, a stamp) is followed by seq 5 (two records) in the slabs
	got[1].Records = append(got[1].Records, Record{Key: 99})
	got[1].Stamp = append(got[1].Stamp, 99)
	if d := cmp.Diff(want[2], got[2]); d != "" {
		t.Fatalf("appending to message 4's copy changed message 5's (-want +got):\n%s", d)
	}
	got[2].Records[0].Key = 98
	if m := l.message(3); m.Seq != 5 || m.Records[0].Key != 5 {
		t.Fatalf("changing a copy changed the log: %+v", m)
	}
	if got := l.copyRange(6, 9); got != nil {
		t.Fatalf("copyRange past the end = %v, want nil", got)
	}
}
