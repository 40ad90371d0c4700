package protocol

import "github.com/ckptsim/ckptsim/checkpoint"

// cycle is the back-edge side of an aligned handler at the head of a cycle, as
// ABS's Algorithm 2 (Carbone et al. 2015): back edges take no part in the
// alignment (their barrier only comes back after the head forwarded it); from
// the snapshot until a back edge's barrier returns, the records it brings are
// logged (ActPersist: input channel state of the checkpoint), and the log is
// replayed on restore before new input.
type cycle struct {
	fb    []bool    // per channel: a back edge (nil: no cycle)
	backs int       // how many channels are back edges
	logs  [][]int64 // per back edge: the checkpoints logging it, oldest first
}

func (c *cycle) init(cfg checkpoint.HandlerConfig) {
	if len(cfg.Feedback) != cfg.Channels {
		return
	}
	c.fb = cfg.Feedback
	c.logs = make([][]int64, cfg.Channels)
	for _, b := range c.fb {
		if b {
			c.backs++
		}
	}
}

// back reports whether channel ch is a back edge.
func (c *cycle) back(ch int) bool { return c.fb != nil && ch < len(c.fb) && c.fb[ch] }

// startLogs logs every open back edge for checkpoint id, just taken.
func (c *cycle) startLogs(id int64, ended []bool, out []checkpoint.Action) []checkpoint.Action {
	for i, b := range c.fb {
		if b && !ended[i] {
			c.logs[i] = append(c.logs[i], id)
			out = append(out, checkpoint.Action{Kind: checkpoint.ActPersist, Channel: i, Checkpoint: id})
		}
	}
	return out
}

// backBarrier handles the barrier (or the cancellation) of checkpoint id coming
// back on back edge ch: the logs of id and of older checkpoints on it end (FIFO:
// their barriers came before).
func (c *cycle) backBarrier(ch int, id int64, out []checkpoint.Action) []checkpoint.Action {
	kept := c.logs[ch][:0]
	for _, l := range c.logs[ch] {
		if l <= id {
			out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: ch, Checkpoint: l})
		} else {
			kept = append(kept, l)
		}
	}
	c.logs[ch] = kept
	return out
}

// endLogs ends every log of back edge ch: the loop drained and the edge ended.
func (c *cycle) endLogs(ch int, out []checkpoint.Action) []checkpoint.Action {
	for _, l := range c.logs[ch] {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: ch, Checkpoint: l})
	}
	c.logs[ch] = c.logs[ch][:0]
	return out
}

// forgetLog drops checkpoint id's logs (the task aborted it and forgot them).
func (c *cycle) forgetLog(id int64) {
	for ch, ls := range c.logs {
		kept := ls[:0]
		for _, l := range ls {
			if l != id {
				kept = append(kept, l)
			}
		}
		c.logs[ch] = kept
	}
}
