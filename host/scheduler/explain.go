package scheduler

import (
	"errors"
	"strconv"
	"strings"
)

// ErrNoValidPool is wrapped by every *NoValidPoolError: no pool passed the filters (Cinder's
// NoValidBackend).
var ErrNoValidPool = errors.New("no valid pool")

// Bounds of an explanation, so that it fits a volume's error message whatever the number of
// pools, specs or hints: each stage's detail, and the whole message.
const (
	maxDetail      = 240
	maxExplanation = 1024
)

// NoValidPoolError explains why no pool passed: the stages that ran, the last of which
// removed the last pools.
type NoValidPoolError struct {
	Stages []Stage
}

// Error reads, for example, "No valid pool: AvailabilityZoneFilter 12→4 (want az1; the others
// are in az2), CapacityFilter 4→0 (need 100 GiB, largest headroom 80 GiB)". It names the
// stages that removed pools, with their start and end counts, and is at most
// maxExplanation bytes.
func (e *NoValidPoolError) Error() string {
	var b strings.Builder
	b.WriteString("No valid pool: ")
	if len(e.Stages) == 0 {
		b.WriteString("no pools reported")
		return b.String()
	}
	first := true
	for _, s := range e.Stages {
		if s.Out == s.In {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(s.Name + " " + strconv.Itoa(s.In) + "→" + strconv.Itoa(s.Out))
		if s.Detail != "" {
			b.WriteString(" (" + s.Detail + ")")
		}
	}
	return clipTo(b.String(), maxExplanation)
}

// Unwrap returns ErrNoValidPool.
func (e *NoValidPoolError) Unwrap() error { return ErrNoValidPool }

func clipDetail(s string) string { return clipTo(s, maxDetail) }

// clipTo shortens s to at most n bytes, on a rune boundary, ending with "…".
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
