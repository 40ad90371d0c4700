package sim

// ring is a growable FIFO of values that can also take values at its front. It
// reuses its backing array, so steady-state use does not allocate.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) at(i int) T { return r.buf[(r.head+i)%len(r.buf)] }

func (r *ring[T]) set(i int, v T) { r.buf[(r.head+i)%len(r.buf)] = v }

func (r *ring[T]) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 8
	}
	nb := make([]T, size)
	for i := 0; i < r.n; i++ {
		nb[i] = r.at(i)
	}
	r.buf, r.head = nb, 0
}

func (r *ring[T]) pushBack(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

func (r *ring[T]) pushFront(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = v
	r.n++
}

func (r *ring[T]) popFront() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v
}

// insert puts v at position i, shifting later values back.
func (r *ring[T]) insert(i int, v T) {
	r.pushBack(v)
	for j := r.n - 1; j > i; j-- {
		r.set(j, r.at(j-1))
	}
	r.set(i, v)
}

// remove deletes the value at position i.
func (r *ring[T]) remove(i int) T {
	v := r.at(i)
	for j := i; j > 0; j-- {
		r.set(j, r.at(j-1))
	}
	r.popFront()
	return v
}

func (r *ring[T]) clear() {
	var zero T
	for i := 0; i < r.n; i++ {
		r.set(i, zero)
	}
	r.head, r.n = 0, 0
}
