package sdk

import (
	"context"
	"time"

	pb "github.com/kilnstorage/kiln/sdk/internal/driverpb"
)

// exitWait is how long a failed call waits for the process-exit signal before deciding that
// the call, not the process, failed: go-plugin notices an exit some time after the connection
// breaks.
const exitWait = time.Second

// stub is the host half of the wire: an endpoint that converts Go calls to gRPC and statuses
// back to Errors, telling a dead driver process from a failed call.
type stub struct {
	rpc pb.DriverClient
	// done is closed when the driver process (or in-process server) is gone.
	done <-chan struct{}
}

// fail converts a call's error. A transport failure (Unavailable or Canceled without the
// ErrorInfo every driver-side error carries, while the caller still waits) that coincides with
// the process going away becomes an Unavailable Error wrapping ErrPluginExited.
func (s *stub) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	e := fromStatus(err).(*Error)
	if (e.Code != Unavailable && e.Code != Canceled) || fromDriver(err) || ctx.Err() != nil || s.done == nil {
		return e
	}
	t := time.NewTimer(exitWait)
	defer t.Stop()
	select {
	case <-s.done:
		return &Error{Code: Unavailable, Reason: "PLUGIN_EXITED",
			Message: "the driver process exited during the call: " + e.Message, Err: ErrPluginExited}
	case <-t.C:
		return e
	}
}

func (s *stub) info(ctx context.Context) (Info, error) {
	r, err := s.rpc.GetInfo(ctx, &pb.GetInfoRequest{})
	if err != nil {
		return Info{}, s.fail(ctx, err)
	}
	return infoFromPB(r), nil
}

func (s *stub) configure(ctx context.Context, req ConfigureRequest) (ConfigureResponse, error) {
	r, err := s.rpc.Configure(ctx, &pb.ConfigureRequest{Backend: req.Backend, ConfigJson: req.Config,
		LogLevel: req.LogLevel, HostVersion: req.HostVersion})
	if err != nil {
		return ConfigureResponse{}, s.fail(ctx, err)
	}
	return ConfigureResponse{Warnings: r.GetWarnings(), Echo: r.GetConfigEchoJson()}, nil
}

func (s *stub) probe(ctx context.Context) error {
	_, err := s.rpc.Probe(ctx, &pb.ProbeRequest{})
	return s.fail(ctx, err)
}

func (s *stub) capacity(ctx context.Context) (Capacity, error) {
	r, err := s.rpc.GetCapacity(ctx, &pb.GetCapacityRequest{})
	if err != nil {
		return Capacity{}, s.fail(ctx, err)
	}
	return capacityFromPB(r), nil
}

func (s *stub) createVolume(ctx context.Context, req CreateVolumeRequest, src source) (Volume, error) {
	r, err := s.rpc.CreateVolume(ctx, createToPB(req, src))
	if err != nil {
		return Volume{}, s.fail(ctx, err)
	}
	return volumeFromPB(r.GetVolume()), nil
}

func (s *stub) deleteVolume(ctx context.Context, vol VolumeRef) error {
	_, err := s.rpc.DeleteVolume(ctx, &pb.DeleteVolumeRequest{Volume: volumeRefToPB(vol)})
	return s.fail(ctx, err)
}

func (s *stub) getVolume(ctx context.Context, vol VolumeRef) (Volume, error) {
	r, err := s.rpc.GetVolume(ctx, &pb.GetVolumeRequest{Volume: volumeRefToPB(vol)})
	if err != nil {
		return Volume{}, s.fail(ctx, err)
	}
	return volumeFromPB(r.GetVolume()), nil
}

func (s *stub) listVolumes(ctx context.Context, req ListRequest) (ListPage, error) {
	r, err := s.rpc.ListVolumes(ctx, &pb.ListVolumesRequest{Pool: req.Pool, PageToken: req.PageToken,
		Limit: int32(min(req.Limit, 1<<31-1))})
	if err != nil {
		return ListPage{}, s.fail(ctx, err)
	}
	page := ListPage{NextPageToken: r.GetNextPageToken()}
	for _, v := range r.GetVolumes() {
		page.Volumes = append(page.Volumes, volumeFromPB(v))
	}
	return page, nil
}

func (s *stub) extendVolume(ctx context.Context, vol VolumeRef, size int64) (Volume, error) {
	r, err := s.rpc.ExtendVolume(ctx, &pb.ExtendVolumeRequest{Volume: volumeRefToPB(vol), NewSizeBytes: size})
	if err != nil {
		return Volume{}, s.fail(ctx, err)
	}
	return volumeFromPB(r.GetVolume()), nil
}

func (s *stub) createSnapshot(ctx context.Context, req CreateSnapshotRequest) (Snapshot, error) {
	r, err := s.rpc.CreateSnapshot(ctx, &pb.CreateSnapshotRequest{Id: req.ID, Name: req.Name,
		Volume: volumeRefToPB(req.Volume), Params: req.Params})
	if err != nil {
		return Snapshot{}, s.fail(ctx, err)
	}
	return snapshotFromPB(r.GetSnapshot()), nil
}

func (s *stub) deleteSnapshot(ctx context.Context, snap SnapshotRef) error {
	_, err := s.rpc.DeleteSnapshot(ctx, &pb.DeleteSnapshotRequest{Snapshot: snapshotRefToPB(snap)})
	return s.fail(ctx, err)
}

func (s *stub) connect(ctx context.Context, vol VolumeRef, to Initiator) (Connection, error) {
	r, err := s.rpc.Connect(ctx, &pb.ConnectRequest{Volume: volumeRefToPB(vol), Initiator: initiatorToPB(to)})
	if err != nil {
		return Connection{}, s.fail(ctx, err)
	}
	return Connection{Protocol: r.GetProtocol(), Data: cloneMap(r.GetData())}, nil
}

func (s *stub) disconnect(ctx context.Context, vol VolumeRef, from Initiator) error {
	_, err := s.rpc.Disconnect(ctx, &pb.DisconnectRequest{Volume: volumeRefToPB(vol), Initiator: initiatorToPB(from)})
	return s.fail(ctx, err)
}

func (s *stub) shutdown(ctx context.Context) (int, error) {
	req := &pb.ShutdownRequest{}
	if dl, ok := ctx.Deadline(); ok {
		req.DrainTimeoutMs = max(time.Until(dl).Milliseconds()*4/5, 1)
	}
	r, err := s.rpc.Shutdown(ctx, req)
	if err != nil {
		return 0, s.fail(ctx, err)
	}
	return int(r.GetAbandonedCalls()), nil
}
