package scheduler

// dimension groups units that convert into each other.
type dimension uint8

const (
	dimOpaque    dimension = iota // an unknown unit: equal only to itself
	dimBytes                      // B
	dimByteRate                   // B/s
	dimTime                       // s
	dimFrequency                  // Hz
	dimRate                       // IOPS
)

// unit is a known unit: its dimension and its size in the dimension's base unit.
type unit struct {
	dim   dimension
	scale float64
}

// lookupUnit returns the unit spelled s. Spellings are case-sensitive, as in Nomad's
// attribute units (MB is a megabyte, Mb would be a megabit and is unknown).
func lookupUnit(s string) (unit, bool) {
	if u, ok := byteUnit(s); ok {
		return unit{dimBytes, u}, true
	}
	if n := len(s); n > 2 && s[n-2:] == "/s" {
		if u, ok := byteUnit(s[:n-2]); ok {
			return unit{dimByteRate, u}, true
		}
	}
	switch s {
	case "ns":
		return unit{dimTime, 1e-9}, true
	case "us", "µs":
		return unit{dimTime, 1e-6}, true
	case "ms":
		return unit{dimTime, 1e-3}, true
	case "s":
		return unit{dimTime, 1}, true
	case "min":
		return unit{dimTime, 60}, true
	case "h":
		return unit{dimTime, 3600}, true
	case "Hz":
		return unit{dimFrequency, 1}, true
	case "kHz", "KHz":
		return unit{dimFrequency, 1e3}, true
	case "MHz":
		return unit{dimFrequency, 1e6}, true
	case "GHz":
		return unit{dimFrequency, 1e9}, true
	case "IOPS":
		return unit{dimRate, 1}, true
	case "kIOPS", "KIOPS":
		return unit{dimRate, 1e3}, true
	}
	return unit{}, false
}

// byteUnit returns the number of bytes in the byte unit s (SI and IEC prefixes).
func byteUnit(s string) (float64, bool) {
	switch s {
	case "B":
		return 1, true
	case "KB", "kB":
		return 1e3, true
	case "KiB":
		return 1 << 10, true
	case "MB":
		return 1e6, true
	case "MiB":
		return 1 << 20, true
	case "GB":
		return 1e9, true
	case "GiB":
		return 1 << 30, true
	case "TB":
		return 1e12, true
	case "TiB":
		return 1 << 40, true
	case "PB":
		return 1e15, true
	case "PiB":
		return 1 << 50, true
	case "EB":
		return 1e18, true
	case "EiB":
		return 1 << 60, true
	}
	return 0, false
}

// commensurate brings a (in unit ua) and b (in unit ub) to one unit. A side without a unit
// takes the other side's; known units of one dimension convert; an unknown unit matches only
// the same spelling. ok is false when the two cannot be compared.
func commensurate(a float64, ua string, b float64, ub string) (float64, float64, bool) {
	if ua == "" || ub == "" || ua == ub {
		return a, b, true
	}
	x, okA := lookupUnit(ua)
	y, okB := lookupUnit(ub)
	if !okA || !okB || x.dim != y.dim {
		return 0, 0, false
	}
	return a * x.scale, b * y.scale, true
}
