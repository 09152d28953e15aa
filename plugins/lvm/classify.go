package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// failure is a failed lvm2 command as classify sees it.
type failure struct {
	args []string
	// exit is the exit status: 3 for a bad command line, 5 for a failed command, -1 when a
	// signal ended it or it never started.
	exit   int
	stderr string
}

// scope says what a command was about, so that classify can name it in its error.
type scope struct {
	pool string
	// extent is the VG's extent size in bytes, to turn the extent counts of lvm2's messages
	// into bytes; 0 when unknown.
	extent int64
	// kind ("volume", "snapshot") and id name the object a missing LV stands for.
	kind string
	id   string
}

// cmdError is the cause kept in every classified error: the command and what it printed.
type cmdError struct{ f failure }

func (e *cmdError) Error() string {
	return fmt.Sprintf("lvm %s: exit %d: %s", strings.Join(e.f.args, " "), e.f.exit, e.f.message())
}

// message is stderr without lvm2's warnings, on one line.
func (f failure) message() string {
	var lines []string
	for _, l := range strings.Split(f.stderr, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "WARNING:") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// lvm2 2.03 messages, as printed with LC_ALL=C. testdata/stderr has one capture of each.
var (
	reVGNoSpace  = regexp.MustCompile(`has insufficient free space \((\d+) extents\): (\d+) required`)
	reExtNoSpace = regexp.MustCompile(`Insufficient free space: (\d+) extents needed, but only (\d+) available`)
	reAllocSpace = regexp.MustCompile(`Insufficient suitable allocatable extents for logical volume \S+: (\d+) more required`)
	reMetadata   = regexp.MustCompile(`\((\d+) bytes\) exceeds maximum metadata size \((\d+) bytes\)`)
	reThinFull   = regexp.MustCompile(`free space in thin pool \S+ reached threshold|Thin pool \S+ is full|thin pool \S+ has insufficient free space`)
	reLVMissing  = regexp.MustCompile(`Failed to find logical volume|[Ll]ogical volume "?\S+"? not found in volume group|origin LV \S+ not found|logical volume\(s\) not found`)
	reVGMissing  = regexp.MustCompile(`Volume group "[^"]+" not found`)
	rePoolGone   = regexp.MustCompile(`Pool \S+ not found in Volume group|is not a thin pool`)
	reLocked     = regexp.MustCompile(`flock failed: Resource temporarily unavailable|Can't get lock for`)
	reExists     = regexp.MustCompile(`already exists in volume group`)
	reInUse      = regexp.MustCompile(`Logical volume \S+ in use|Can't remove open logical volume|contains a filesystem in use|can be resized only while inactive`)
	reNoDM       = regexp.MustCompile(`without using device-mapper kernel driver|Failure to communicate with kernel device-mapper driver|Required device-mapper target\(s\) not detected`)
)

// classify turns a failed lvm2 command into the sdk error the host acts on, from its exit status
// and stderr. It is the only function that reads lvm2's messages.
func classify(ctx context.Context, s scope, f failure) error {
	cause := &cmdError{f}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lvm %s: %w", first(f.args), err)
	}
	msg := f.stderr
	e := func(code sdk.Code, reason string) error {
		return &sdk.Error{Code: code, Reason: reason, Pool: s.pool, Message: f.message(), Err: cause}
	}
	switch {
	case reNoDM.MatchString(msg): // before exit 3: without device-mapper lvcreate exits 3
		return e(sdk.Unavailable, "DEVICE_MAPPER_UNAVAILABLE")
	case f.exit == 3:
		return e(sdk.Internal, "LVM_BAD_COMMAND_LINE")
	case strings.Contains(msg, "Permission denied"):
		return e(sdk.PermissionDenied, "LVM_PERMISSION_DENIED")
	case reLocked.MatchString(msg):
		err := &sdk.Error{Code: sdk.Busy, Reason: "VG_LOCKED", Pool: s.pool, RetryAfter: time.Second,
			Message: "another lvm2 command holds the volume group's lock: " + f.message(), Err: cause}
		return err
	case reExists.MatchString(msg):
		return e(sdk.AlreadyExists, "LV_EXISTS")
	case reVGNoSpace.MatchString(msg):
		m := reVGNoSpace.FindStringSubmatch(msg)
		return noSpace(s, "VG_FULL", extents(m[2], s.extent), extents(m[1], s.extent), cause)
	case reExtNoSpace.MatchString(msg):
		m := reExtNoSpace.FindStringSubmatch(msg)
		return noSpace(s, "VG_FULL", extents(m[1], s.extent), extents(m[2], s.extent), cause)
	case reAllocSpace.MatchString(msg):
		m := reAllocSpace.FindStringSubmatch(msg)
		return noSpace(s, "VG_FULL", extents(m[1], s.extent), 0, cause)
	case reMetadata.MatchString(msg):
		m := reMetadata.FindStringSubmatch(msg)
		need, _ := strconv.ParseInt(m[1], 10, 64)
		limit, _ := strconv.ParseInt(m[2], 10, 64)
		return noSpace(s, "VG_METADATA_FULL", need, limit, cause)
	case reThinFull.MatchString(msg):
		return noSpace(s, "THIN_POOL_FULL", 0, 0, cause)
	case reVGMissing.MatchString(msg):
		return &sdk.Error{Code: sdk.Unavailable, Reason: "VG_NOT_FOUND", Pool: s.pool, RetryAfter: time.Minute,
			Message: f.message(), Err: cause}
	case rePoolGone.MatchString(msg):
		return &sdk.Error{Code: sdk.Unavailable, Reason: "THIN_POOL_NOT_FOUND", Pool: s.pool, RetryAfter: time.Minute,
			Message: f.message(), Err: cause}
	case reLVMissing.MatchString(msg):
		nf := sdk.ErrorNotFound(or(s.kind, "volume"), s.id)
		nf.Pool, nf.Err = s.pool, cause
		return nf
	case reInUse.MatchString(msg):
		return e(sdk.InUse, "LV_IN_USE")
	}
	return &sdk.Error{Code: sdk.Internal, Reason: "LVM_FAILED", Pool: s.pool, Message: cause.Error(), Err: cause}
}

// noSpace is a NoSpace error with lvm2's numbers in bytes.
func noSpace(s scope, reason string, need, free int64, cause error) error {
	e := sdk.ErrorNoSpace(s.pool, need, free)
	e.Reason, e.Err = reason, cause
	if reason != "VG_FULL" {
		e.Message = fmt.Sprintf("pool %s: %s: %s", s.pool, strings.ToLower(reason), cause)
	}
	return e
}

// extents converts an extent count printed by lvm2 into bytes.
func extents(count string, size int64) int64 {
	n, _ := strconv.ParseInt(count, 10, 64)
	return n * size
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
