package osd

import (
	"context"
	"errors"
	"time"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/volume"
)

// sentinels maps openstorage's error values to Kiln codes. The values are plain errors.New,
// so errors.Is finds them unless a driver re-wrapped one with %v.
var sentinels = []struct {
	err    error
	code   sdk.Code
	reason string
	retry  time.Duration
}{
	{volume.ErrEnoEnt, sdk.NotFound, "OSD_NOT_FOUND", 0},
	{volume.ErrVolHasSnaps, sdk.InUse, "OSD_VOLUME_HAS_SNAPSHOTS", 0},
	{volume.ErrVolAttached, sdk.InUse, "OSD_VOLUME_ATTACHED", 0},
	{volume.ErrVolAttachedOnRemoteNode, sdk.InUse, "OSD_VOLUME_ATTACHED_REMOTE", 0},
	{volume.ErrVolAttachedScale, sdk.InUse, "OSD_VOLUME_ATTACHED_REMOTE", 0},
	{volume.ErrVolBusy, sdk.Busy, "OSD_VOLUME_BUSY", time.Second},
	{volume.ErrEinval, sdk.InvalidArgument, "OSD_INVALID_ARGUMENT", 0},
	{volume.ErrNotSupported, sdk.Unsupported, "OSD_NOT_SUPPORTED", 0},
	{volume.ErrDriverInitializing, sdk.Unavailable, "OSD_DRIVER_INITIALIZING", 5 * time.Second},
	{volume.ErrAlreadyShutdown, sdk.Unavailable, "OSD_DRIVER_SHUT_DOWN", 0},
	{volume.ErrExist, sdk.AlreadyExists, "OSD_ALREADY_EXISTS", 0},
}

// fromOSD is the one translation of openstorage errors into Kiln's vocabulary: each sentinel
// becomes its code, *sdk.Error and context errors pass unchanged, and anything else is
// Internal. The cause stays in Err; op names the openstorage call that failed.
func fromOSD(op string, err error) error {
	var e *sdk.Error
	switch {
	case err == nil, errors.As(err, &e):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return &sdk.Error{Code: s.code, Reason: s.reason, Message: op + ": " + err.Error(),
				RetryAfter: s.retry, Err: err}
		}
	}
	return &sdk.Error{Code: sdk.Internal, Reason: "OSD_INTERNAL", Message: op + ": " + err.Error(), Err: err}
}

// internal reports a driver that broke openstorage's contract, such as a Snapshot that returns
// neither an ID nor an error.
func internal(op, msg string) *sdk.Error {
	return &sdk.Error{Code: sdk.Internal, Reason: "OSD_CONTRACT", Message: op + ": " + msg}
}
