package sdk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Code classifies an Error. Each Code maps to exactly one gRPC code on the wire, and the host
// decides from it whether to reschedule (docs/writing-a-driver.md has the table).
type Code uint8

// Codes. The zero value OK is never carried by an Error.
const (
	OK               Code = iota
	InvalidArgument       // bad parameters or extra specs for this driver
	NotFound              // volume, snapshot or source missing
	AlreadyExists         // same ID, incompatible arguments
	NoSpace               // the pool lacks bytes or another Resource
	OutOfRange            // size outside the pool's bounds
	InUse                 // has dependent snapshots, is attached, …
	Busy                  // another call on the same ID is in flight
	Unavailable           // the backend is unreachable or the driver is shutting down
	Unsupported           // the driver does not implement the operation
	PermissionDenied      // backend credentials or configuration refused
	Internal              // a driver bug or an unknown failure
	Canceled              // the caller cancelled the call
	DeadlineExceeded      // the call's deadline passed; its outcome is unknown
)

var codeNames = [...]string{
	OK: "OK", InvalidArgument: "InvalidArgument", NotFound: "NotFound",
	AlreadyExists: "AlreadyExists", NoSpace: "NoSpace", OutOfRange: "OutOfRange", InUse: "InUse",
	Busy: "Busy", Unavailable: "Unavailable", Unsupported: "Unsupported",
	PermissionDenied: "PermissionDenied", Internal: "Internal", Canceled: "Canceled",
	DeadlineExceeded: "DeadlineExceeded",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Error is the one error type that crosses the process boundary intact: its Code, Reason, Pool,
// RetryAfter and Meta travel as gRPC status details; Err stays on its side.
type Error struct {
	Code Code
	// Reason is a stable UPPER_SNAKE identifier, such as "VG_FULL".
	Reason string
	// Message is human text that may reach end users.
	Message string
	// Pool names the pool concerned, if any.
	Pool string
	// RetryAfter hints when a retry may succeed.
	RetryAfter time.Duration
	// Meta carries facts such as need_bytes and free_bytes.
	Meta map[string]string
	// Err is the wrapped cause; it is not sent over the wire.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code.String())
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil && (e.Message == "" || !strings.Contains(e.Message, e.Err.Error())) {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for every Error with Code NotFound, and
// errors.Is(err, context.Canceled) true for Code Canceled (likewise DeadlineExceeded).
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Code == Canceled
	case context.DeadlineExceeded:
		return e.Code == DeadlineExceeded
	}
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Message == "" && t.Code == e.Code
}

// Sentinels, one per Code, for errors.Is. They match any Error with the same Code.
var (
	ErrInvalidArgument  = &Error{Code: InvalidArgument}
	ErrNotFound         = &Error{Code: NotFound}
	ErrAlreadyExists    = &Error{Code: AlreadyExists}
	ErrNoSpace          = &Error{Code: NoSpace}
	ErrOutOfRange       = &Error{Code: OutOfRange}
	ErrInUse            = &Error{Code: InUse}
	ErrBusy             = &Error{Code: Busy}
	ErrUnavailable      = &Error{Code: Unavailable}
	ErrUnsupported      = &Error{Code: Unsupported}
	ErrPermissionDenied = &Error{Code: PermissionDenied}
	ErrInternal         = &Error{Code: Internal}
)

// ErrPluginExited is wrapped (as an Unavailable Error with reason PLUGIN_EXITED) into the error
// of a call during which the driver process died. Only the host side returns it; the call's
// outcome is unknown.
var ErrPluginExited = errors.New("driver process exited")

// CodeOf returns the Code of err: OK for nil, the Code of an Error in its chain, Canceled or
// DeadlineExceeded for context errors, and Internal for anything else.
func CodeOf(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return OK
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Internal
}

// ErrorNotFound reports that a kind ("volume", "snapshot") with id does not exist.
func ErrorNotFound(kind, id string) *Error {
	return &Error{Code: NotFound, Reason: strings.ToUpper(kind) + "_NOT_FOUND",
		Message: fmt.Sprintf("%s %s not found", kind, id), Meta: map[string]string{kind + "_id": id}}
}

// ErrorAlreadyExists reports that id exists with arguments other than the request's.
func ErrorAlreadyExists(kind, id, why string) *Error {
	return &Error{Code: AlreadyExists, Reason: strings.ToUpper(kind) + "_EXISTS_DIFFERENT",
		Message: fmt.Sprintf("%s %s already exists with a different %s", kind, id, why),
		Meta:    map[string]string{kind + "_id": id}}
}

// ErrorNoSpace reports that pool cannot hold need bytes because it has only free.
func ErrorNoSpace(pool string, need, free int64) *Error {
	return &Error{Code: NoSpace, Reason: "POOL_FULL", Pool: pool,
		Message: fmt.Sprintf("pool %s has %d bytes free, %d needed", pool, free, need),
		Meta: map[string]string{
			"need_bytes": strconv.FormatInt(need, 10), "free_bytes": strconv.FormatInt(free, 10),
		}}
}

// ErrorOutOfRange reports a size outside a pool's bounds.
func ErrorOutOfRange(pool string, size int64, why string) *Error {
	return &Error{Code: OutOfRange, Reason: "SIZE_OUT_OF_RANGE", Pool: pool,
		Message: fmt.Sprintf("size %d bytes %s", size, why),
		Meta:    map[string]string{"size_bytes": strconv.FormatInt(size, 10)}}
}

// ErrorInUse reports that an object cannot change because something depends on it.
func ErrorInUse(reason, msg string) *Error {
	return &Error{Code: InUse, Reason: reason, Message: msg}
}

// ErrorBusy reports that another call on id is in flight.
func ErrorBusy(id string) *Error {
	return &Error{Code: Busy, Reason: "OPERATION_IN_FLIGHT", RetryAfter: time.Second,
		Message: fmt.Sprintf("another operation on %s is in progress", id)}
}

// ErrorInvalid reports a bad argument, naming its field.
func ErrorInvalid(field, msg string) *Error {
	return &Error{Code: InvalidArgument, Reason: "INVALID_" + strings.ToUpper(field),
		Message: field + ": " + msg, Meta: map[string]string{"field": field}}
}

// ErrorUnavailable reports a transient backend failure.
func ErrorUnavailable(msg string, retryAfter time.Duration) *Error {
	return &Error{Code: Unavailable, Reason: "BACKEND_UNAVAILABLE", Message: msg, RetryAfter: retryAfter}
}

// ErrorUnsupported reports an operation the driver does not implement.
func ErrorUnsupported(op string) *Error {
	return &Error{Code: Unsupported, Reason: "UNSUPPORTED", Message: op + " is not supported by this driver"}
}

// ErrorInternal wraps an unexpected failure.
func ErrorInternal(err error) *Error {
	return &Error{Code: Internal, Reason: "INTERNAL", Message: err.Error(), Err: err}
}
