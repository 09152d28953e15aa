package flows

import (
	"context"
	"errors"
	"sync"
)

// Errors of Queue.Submit and Queue.TrySubmit.
var (
	// ErrQueueFull: TrySubmit found no room.
	ErrQueueFull = errors.New("queue is full")
	// ErrQueueClosed: the queue no longer accepts work.
	ErrQueueClosed = errors.New("queue is closed")
)

// Job is one unit of queued work. Its context is the queue's: it outlives the request that
// submitted the job.
type Job func(ctx context.Context)

// Queue is a bounded queue of jobs served by a fixed number of workers: Kiln's stand-in for
// Cinder's RPC casts to the scheduler and volume services.
type Queue struct {
	jobs chan Job
	done chan struct{} // closed when Close starts: blocked submitters give up
	mu   sync.RWMutex  // held for writing while jobs is closed
	shut bool
	once sync.Once
	wg   sync.WaitGroup
}

// NewQueue starts workers (at least 1) goroutines serving a queue that holds up to capacity
// waiting jobs (0 hands a job over only to an idle worker).
func NewQueue(workers, capacity int) *Queue {
	q := &Queue{jobs: make(chan Job, max(capacity, 0)), done: make(chan struct{})}
	for range max(workers, 1) {
		q.wg.Go(q.serve)
	}
	return q
}

func (q *Queue) serve() {
	for job := range q.jobs {
		job(context.Background())
	}
}

// TrySubmit queues job if there is room at once; otherwise it returns ErrQueueFull, or
// ErrQueueClosed after Close.
func (q *Queue) TrySubmit(job Job) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.shut {
		return ErrQueueClosed
	}
	select {
	case q.jobs <- job:
		return nil
	default:
		return ErrQueueFull
	}
}

// Submit queues job, waiting for room until ctx is done or the queue closes.
func (q *Queue) Submit(ctx context.Context, job Job) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.shut {
		return ErrQueueClosed
	}
	select {
	case q.jobs <- job:
		return nil
	case <-q.done:
		return ErrQueueClosed
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close stops accepting jobs, lets the workers finish every job already queued, and waits for
// them. It may be called more than once.
func (q *Queue) Close() {
	q.once.Do(func() { close(q.done) })
	q.mu.Lock()
	if !q.shut {
		q.shut = true
		close(q.jobs)
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// background runs flows that go on after their request returned (snapshot_create) on
// goroutines of their own, and lets Close wait for them.
type background struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Go runs job on a new goroutine, or returns ErrQueueClosed once close began.
func (b *background) Go(job func()) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrQueueClosed
	}
	b.wg.Go(job)
	return nil
}

// close refuses new jobs and waits for the running ones.
func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}
