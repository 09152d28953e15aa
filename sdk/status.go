package sdk

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The mapping between Codes and gRPC codes, the one place errors cross the wire.
var toGRPC = map[Code]codes.Code{
	InvalidArgument:  codes.InvalidArgument,
	NotFound:         codes.NotFound,
	AlreadyExists:    codes.AlreadyExists,
	NoSpace:          codes.ResourceExhausted,
	OutOfRange:       codes.OutOfRange,
	InUse:            codes.FailedPrecondition,
	Busy:             codes.Aborted,
	Unavailable:      codes.Unavailable,
	Unsupported:      codes.Unimplemented,
	PermissionDenied: codes.PermissionDenied,
	Internal:         codes.Internal,
	Canceled:         codes.Canceled,
	DeadlineExceeded: codes.DeadlineExceeded,
}

var fromGRPC = func() map[codes.Code]Code {
	m := make(map[codes.Code]Code, len(toGRPC)+2)
	for k, v := range toGRPC {
		m[v] = k
	}
	m[codes.Unauthenticated] = PermissionDenied
	m[codes.Unknown] = Internal
	m[codes.DataLoss] = Internal
	return m
}()

// errorDomain is the ErrorInfo domain of errors a driver sends.
func errorDomain(driver string) string { return driver + ".kiln" }

// toStatus turns an error from the driver side into a gRPC status error carrying the Error's
// reason, pool, metadata and retry hint as details.
func toStatus(err error, driver string) error {
	if err == nil {
		return nil
	}
	e := asError(normalize(err))
	st := status.New(toGRPC[e.Code], e.Message)
	meta := make(map[string]string, len(e.Meta)+1)
	for k, v := range e.Meta {
		meta[k] = v
	}
	if e.Pool != "" {
		meta["pool"] = e.Pool
	}
	info := &errdetails.ErrorInfo{Reason: e.Reason, Domain: errorDomain(driver), Metadata: meta}
	var withDetails *status.Status
	var derr error
	if e.RetryAfter > 0 {
		withDetails, derr = st.WithDetails(info, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	} else {
		withDetails, derr = st.WithDetails(info)
	}
	if derr != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// asError finds the Error in err's chain or builds one from a context error or any other error.
func asError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		out := *e
		if out.Message == "" {
			out.Message = e.Error()
		}
		return &out
	case errors.Is(err, context.Canceled):
		return &Error{Code: Canceled, Reason: "CANCELED", Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: DeadlineExceeded, Reason: "DEADLINE_EXCEEDED", Message: err.Error()}
	}
	return ErrorInternal(err)
}

// fromDriver tells whether a call's error came from the driver side — which always attaches an
// ErrorInfo — rather than from the transport.
func fromDriver(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return true
		}
	}
	return false
}

// fromStatus turns an error from a gRPC call back into an *Error with its details.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return ErrorInternal(err)
	}
	code, known := fromGRPC[st.Code()]
	if !known {
		code = Internal
	}
	e := &Error{Code: code, Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			e.Reason = d.GetReason()
			e.Meta = d.GetMetadata()
			if pool, ok := e.Meta["pool"]; ok {
				e.Pool = pool
				delete(e.Meta, "pool")
			}
			if len(e.Meta) == 0 {
				e.Meta = nil
			}
		case *errdetails.RetryInfo:
			e.RetryAfter = d.GetRetryDelay().AsDuration()
		}
	}
	return e
}
