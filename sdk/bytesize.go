package sdk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes that configuration may write as a number or as a string with a
// unit: "512", "4KiB", "10GiB", "1TB". Binary units (KiB, MiB, GiB, TiB, PiB) are powers of
// 1024, decimal ones (KB, MB, GB, TB, PB) powers of 1000.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15}, {"B", 1},
}

// ParseByteSize parses "4GiB", "100MB" or "4096".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	num, factor := s, int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, factor = strings.TrimSpace(n), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a size such as 4096 or \"10GiB\", got %q", s)
	}
	if factor > 1 && n > (1<<63-1)/factor {
		return 0, fmt.Errorf("size %q overflows int64 bytes", s)
	}
	return ByteSize(n * factor), nil
}

// UnmarshalJSON accepts a non-negative integer or a string with a unit.
func (b *ByteSize) UnmarshalJSON(raw []byte) error {
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		if n < 0 {
			return fmt.Errorf("want a non-negative size, got %d", n)
		}
		*b = ByteSize(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("want a size such as 4096 or \"10GiB\", got %s", jsonKind(raw))
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
