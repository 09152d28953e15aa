package store

import (
	"errors"
	"fmt"
)

// Errors the store returns, wrapped with the operation; test them with errors.Is. A refused
// status change is a *volume.TransitionError, an exceeded quota an *OverQuotaError.
var (
	// ErrNotFound: no live row has that ID in the caller's scope.
	ErrNotFound = errors.New("not found")
	// ErrExists: a row with that ID (or that unique name) exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a bad argument, such as an unknown sort key or a negative limit.
	ErrInvalid = errors.New("invalid argument")
	// ErrMarkerNotFound: a list's marker names no row the caller can see.
	ErrMarkerNotFound = errors.New("marker not found")
	// ErrInUse: the row is still used, such as a volume type by volumes.
	ErrInUse = errors.New("in use")
	// ErrOverQuota: a reservation or a row change would exceed a quota.
	ErrOverQuota = errors.New("quota exceeded")
)

// OverQuotaError names the quota a request would exceed. For per_volume_gigabytes, InUse and
// Reserved are zero and Requested is the volume's size.
type OverQuotaError struct {
	ProjectID string
	Resource  string
	Limit     int64
	InUse     int64
	Reserved  int64
	Requested int64
}

// Error names the resource, the request, the limit and the usage.
func (e *OverQuotaError) Error() string {
	if e.Resource == PerVolumeGigabytes {
		return fmt.Sprintf("quota exceeded for %s: requested %d, limit %d", e.Resource,
			e.Requested, e.Limit)
	}
	return fmt.Sprintf("quota exceeded for %s: requested %d, limit %d, %d in use, %d reserved",
		e.Resource, e.Requested, e.Limit, e.InUse, e.Reserved)
}

// Is makes errors.Is(err, ErrOverQuota) true.
func (e *OverQuotaError) Is(target error) bool { return target == ErrOverQuota }

// notFound is ErrNotFound naming the row.
func notFound(kind, id string) error { return fmt.Errorf("%s %s: %w", kind, id, ErrNotFound) }

// invalid is ErrInvalid with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
