package flow

import (
	"context"
	"testing"
)

// benchFlow is ten tasks that do nothing, so that a run measures the engine alone.
func benchFlow() *Flow[state] {
	f := &Flow[state]{Name: "bench"}
	nop := func(context.Context, *state) error { return nil }
	for range 10 {
		f.Tasks = append(f.Tasks, Task[state]{Name: "t", Execute: nop})
	}
	return f
}

func benchmarkRun(b *testing.B, e *Engine) {
	f, ctx := benchFlow(), context.Background()
	s := &state{Done: []string{"volume-0c6c5d8e", "pool-fast"}}
	for b.Loop() {
		if err := f.Run(ctx, e, "flow-1", s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(f.Tasks)), "ns/task")
}

// BenchmarkRun_noJournal is the engine's own overhead per task.
func BenchmarkRun_noJournal(b *testing.B) { benchmarkRun(b, &Engine{}) }

// BenchmarkRun_memoryJournal adds a journal write (state encoded as JSON) per task.
func BenchmarkRun_memoryJournal(b *testing.B) { benchmarkRun(b, &Engine{Journal: NewMemoryJournal()}) }
