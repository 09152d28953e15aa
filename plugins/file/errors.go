package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

// errForeign reports a file in the pool that the driver did not make: a symbolic link, a
// directory or a device where a volume's file belongs. The driver neither follows nor removes
// it.
func errForeign(pool, name string) error {
	return &sdk.Error{Code: sdk.Internal, Reason: "FOREIGN_OBJECT", Pool: pool,
		Message: fmt.Sprintf("%s in pool %s is not a regular file the driver made; refusing to touch it", name, pool)}
}

// errDown reports an operation on a pool whose directory cannot be used.
func errDown(pool string, err error) error {
	e := sdk.ErrorUnavailable(fmt.Sprintf("pool %s is down: %v", pool, err), 10*time.Second)
	e.Pool, e.Reason, e.Err = pool, "POOL_DOWN", err
	return e
}

// fail turns the error of op on s's pool into the one the host acts on: an sdk.Error or a
// context error stays itself, ENOSPC and EDQUOT are NoSpace (need bytes against what the pool
// has free now), a read-only filesystem is Unavailable, a refused permission is
// PermissionDenied, anything else is Internal.
func (s site) fail(op string, need int64, err error) error {
	var e *sdk.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EDQUOT):
		free, _ := s.free()
		e := sdk.ErrorNoSpace(s.p.cfg.Name, need, free)
		e.Err = fmt.Errorf("%s: %w", op, err)
		return e
	case errors.Is(err, unix.EROFS):
		return errDown(s.p.cfg.Name, fmt.Errorf("%s: %w", op, err))
	case errors.Is(err, fs.ErrPermission):
		return &sdk.Error{Code: sdk.PermissionDenied, Reason: "PERMISSION_DENIED", Pool: s.p.cfg.Name,
			Message: fmt.Sprintf("%s: %v", op, err), Err: err}
	}
	return sdk.ErrorInternal(fmt.Errorf("%s: %w", op, err))
}
