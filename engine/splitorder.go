package engine

// SplitOrderedSinks reports, per sink of the job, whether each of its subtasks
// receives the records of every source split in offset order whatever the
// timing: over one path of FIFO channels from the split's source subtask. A
// verifying sink then must see no record of a split after a later one (per
// subtask, see Verifier); elsewhere a split's records reach a subtask over
// several channels, whose interleaving depends on timing and faults.
//
// Along an edge the order of a split survives when the upstream task that holds
// the split is a single one (a forward edge keeps each task's sub-stream on its
// own channel, so it keeps order either way); it is lost on a back edge of a
// cycle and where two inputs of a vertex can carry the same split (they descend
// from a common source).
func (j *Job) SplitOrderedSinks() map[string]bool {
	type flow struct {
		one     bool // all records of a split are at one task of the vertex
		ordered bool // each task receives a split's records in offset order
		sources map[int]bool
	}
	flows := make([]flow, len(j.Vertices))
	out := map[string]bool{}
	for _, v := range j.Vertices {
		f := flow{one: true, ordered: true, sources: map[int]bool{}}
		if v.Kind == KindSource {
			f.sources[v.ID] = true
		}
		for _, e := range v.Inputs {
			if e.Feedback || e.From.ID >= v.ID {
				f.one, f.ordered = false, false
				continue
			}
			u := flows[e.From.ID]
			f.ordered = f.ordered && u.ordered && (u.one || e.Part == Forward)
			f.one = f.one && ((u.one && e.Part == Forward) || v.Parallelism == 1)
			for s := range u.sources {
				if f.sources[s] {
					f.ordered = false // the same split over two inputs
				}
				f.sources[s] = true
			}
		}
		flows[v.ID] = f
		if v.Kind == KindSink {
			out[v.Name] = f.ordered
		}
	}
	return out
}
