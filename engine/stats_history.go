package engine

// subtaskHistory is how many of the latest checkpoints keep their subtasks'
// statistics (CheckpointStats.Subtasks) in Coordinator.Stats. Each subtask of
// each checkpoint costs about a hundred bytes: a six-hour run checkpointing every
// 500 ms would hold tens of megabytes of them. The subtask statistics of older
// checkpoints are folded into histograms (Coordinator.OlderSubtasks), so the
// summaries a run reports stay whole while the memory stays bounded. Savepoints
// keep theirs.
const subtaskHistory = 1024

// SubtaskSummary is what remains of the subtask statistics of the completed
// checkpoints older than the latest ones: histograms of their alignment, start
// delay and synchronous phase, each within about 6% (Histogram).
type SubtaskSummary struct {
	// Checkpoints is how many completed checkpoints were folded; Subtasks how
	// many subtask statistics.
	Checkpoints, Subtasks int
	Alignment, StartDelay Histogram
	Sync                  Histogram
}

// OlderSubtasks returns the folded subtask statistics of the checkpoints whose
// Stats entry no longer lists its Subtasks (nothing folded in a run of fewer than
// subtaskHistory checkpoints).
func (c *Coordinator) OlderSubtasks() *SubtaskSummary { return &c.older }

// foldOldSubtasks folds the subtask statistics of the checkpoints beyond the
// latest subtaskHistory into c.older and releases them.
func (c *Coordinator) foldOldSubtasks() {
	for len(c.stats)-c.folded > subtaskHistory {
		st := &c.stats[c.folded]
		c.folded++
		if st.Savepoint != NoSavepoint || st.Subtasks == nil {
			continue
		}
		if st.Status == StatusCompleted {
			c.older.Checkpoints++
			for i := range st.Subtasks {
				sub := &st.Subtasks[i]
				c.older.Subtasks++
				c.older.Alignment.Record(sub.Alignment)
				c.older.StartDelay.Record(sub.StartDelay)
				c.older.Sync.Record(sub.Sync)
			}
		}
		st.Subtasks = nil
	}
}

// addStats records the statistics of a checkpoint that ended (completed,
// failed or lost).
func (c *Coordinator) addStats(st CheckpointStats) {
	c.stats = append(c.stats, st)
	c.foldOldSubtasks()
}
