package sim

// Partition is the sender side of a task's output: one channel (subpartition) per
// consumer and a pool of output buffers. A buffer is taken with Acquire and given back
// when its data leaves on the wire; a task without a free buffer is backpressured.
type Partition struct {
	nw       *Network
	node     *Node
	channels []*Channel
	poolSize int
	inUse    int
	waiting  bool
	listener PartitionListener
	// defaultPool sizes the pool as Flink does as channels are connected.
	defaultPool bool

	// MaxOverdraft is the largest number of buffers taken beyond the pool.
	MaxOverdraft int
}

// Node is the node the partition lives on.
func (p *Partition) Node() *Node { return p.node }

// NewPartition creates a result partition on node n with poolSize output buffers
// (0 means Flink's default: subpartitions × exclusive + floating, set by Connect).
func (nw *Network) NewPartition(n *Node, poolSize int, l PartitionListener) *Partition {
	return &Partition{nw: nw, node: n, poolSize: poolSize, listener: l, defaultPool: poolSize <= 0}
}

// Channels are the partition's subpartitions in connection order.
func (p *Partition) Channels() []*Channel { return p.channels }

// PoolSize is the number of output buffers of the partition.
func (p *Partition) PoolSize() int { return p.poolSize }

// InUse is the number of output buffers taken and not yet sent.
func (p *Partition) InUse() int { return p.inUse }

// Acquire takes an output buffer. When none is free it returns false and the
// listener hears BufferAvailable once one is.
func (p *Partition) Acquire() bool {
	if p.inUse < p.poolSize {
		p.inUse++
		return true
	}
	p.waiting = true
	return false
}

// Available reports whether Acquire would succeed now.
func (p *Partition) Available() bool { return p.inUse < p.poolSize }

// NotifyWhenAvailable asks for BufferAvailable once a buffer is free (at once if
// one is free now).
func (p *Partition) NotifyWhenAvailable() {
	if p.inUse < p.poolSize {
		if p.listener != nil {
			p.listener.BufferAvailable(p)
		}
		return
	}
	p.waiting = true
}

// AcquireOverdraft takes a buffer even when the pool is exhausted (Flink's overdraft
// buffers, which let a record that is being processed finish); a task should check
// Available before it starts on the next record.
func (p *Partition) AcquireOverdraft() {
	p.inUse++
	if p.inUse > p.poolSize {
		p.waiting = true
		if over := p.inUse - p.poolSize; over > p.MaxOverdraft {
			p.MaxOverdraft = over
		}
	}
}

// Release gives back a buffer taken with Acquire that will not be sent.
func (p *Partition) Release() {
	p.inUse--
	if p.waiting && p.inUse < p.poolSize {
		p.waiting = false
		if p.node.up && p.listener != nil {
			p.listener.BufferAvailable(p)
		}
	}
}
