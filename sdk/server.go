package sdk

import (
	"context"
	"time"

	pb "github.com/kilnstorage/kiln/sdk/internal/driverpb"
)

// server is the plugin half of the wire: it serves kiln.driver.v1.Driver by converting every
// request to Go types, calling the core, and converting the answer and any error back.
type server struct {
	pb.UnimplementedDriverServer
	core *core
}

func (s *server) fail(err error) error { return toStatus(err, s.core.f.info.Name) }

func (s *server) GetInfo(ctx context.Context, _ *pb.GetInfoRequest) (*pb.GetInfoResponse, error) {
	info, err := s.core.info(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	return infoToPB(info), nil
}

func (s *server) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	resp, err := s.core.configure(ctx, ConfigureRequest{Backend: r.GetBackend(),
		Config: r.GetConfigJson(), LogLevel: r.GetLogLevel(), HostVersion: r.GetHostVersion()})
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.ConfigureResponse{Warnings: resp.Warnings, ConfigEchoJson: resp.Echo}, nil
}

func (s *server) Probe(ctx context.Context, _ *pb.ProbeRequest) (*pb.ProbeResponse, error) {
	if err := s.core.probe(ctx); err != nil {
		return nil, s.fail(err)
	}
	return &pb.ProbeResponse{}, nil
}

func (s *server) GetCapacity(ctx context.Context, _ *pb.GetCapacityRequest) (*pb.GetCapacityResponse, error) {
	c, err := s.core.capacity(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	return capacityToPB(c), nil
}

func (s *server) CreateVolume(ctx context.Context, r *pb.CreateVolumeRequest) (*pb.CreateVolumeResponse, error) {
	req, src := createFromPB(r)
	v, err := s.core.createVolume(ctx, req, src)
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.CreateVolumeResponse{Volume: volumeToPB(v)}, nil
}

func (s *server) DeleteVolume(ctx context.Context, r *pb.DeleteVolumeRequest) (*pb.DeleteVolumeResponse, error) {
	if err := s.core.deleteVolume(ctx, volumeRefFromPB(r.GetVolume())); err != nil {
		return nil, s.fail(err)
	}
	return &pb.DeleteVolumeResponse{}, nil
}

func (s *server) GetVolume(ctx context.Context, r *pb.GetVolumeRequest) (*pb.GetVolumeResponse, error) {
	v, err := s.core.getVolume(ctx, volumeRefFromPB(r.GetVolume()))
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.GetVolumeResponse{Volume: volumeToPB(v)}, nil
}

func (s *server) ListVolumes(ctx context.Context, r *pb.ListVolumesRequest) (*pb.ListVolumesResponse, error) {
	page, err := s.core.listVolumes(ctx, ListRequest{Pool: r.GetPool(), PageToken: r.GetPageToken(),
		Limit: int(r.GetLimit())})
	if err != nil {
		return nil, s.fail(err)
	}
	out := &pb.ListVolumesResponse{NextPageToken: page.NextPageToken}
	for _, v := range page.Volumes {
		out.Volumes = append(out.Volumes, volumeToPB(v))
	}
	return out, nil
}

func (s *server) ExtendVolume(ctx context.Context, r *pb.ExtendVolumeRequest) (*pb.ExtendVolumeResponse, error) {
	v, err := s.core.extendVolume(ctx, volumeRefFromPB(r.GetVolume()), r.GetNewSizeBytes())
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.ExtendVolumeResponse{Volume: volumeToPB(v)}, nil
}

func (s *server) CreateSnapshot(ctx context.Context, r *pb.CreateSnapshotRequest) (*pb.CreateSnapshotResponse, error) {
	snap, err := s.core.createSnapshot(ctx, CreateSnapshotRequest{ID: r.GetId(), Name: r.GetName(),
		Volume: volumeRefFromPB(r.GetVolume()), Params: cloneMap(r.GetParams())})
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.CreateSnapshotResponse{Snapshot: snapshotToPB(snap)}, nil
}

func (s *server) DeleteSnapshot(ctx context.Context, r *pb.DeleteSnapshotRequest) (*pb.DeleteSnapshotResponse, error) {
	if err := s.core.deleteSnapshot(ctx, snapshotRefFromPB(r.GetSnapshot())); err != nil {
		return nil, s.fail(err)
	}
	return &pb.DeleteSnapshotResponse{}, nil
}

func (s *server) Connect(ctx context.Context, r *pb.ConnectRequest) (*pb.ConnectResponse, error) {
	c, err := s.core.connect(ctx, volumeRefFromPB(r.GetVolume()), initiatorFromPB(r.GetInitiator()))
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.ConnectResponse{Protocol: c.Protocol, Data: c.Data}, nil
}

func (s *server) Disconnect(ctx context.Context, r *pb.DisconnectRequest) (*pb.DisconnectResponse, error) {
	if err := s.core.disconnect(ctx, volumeRefFromPB(r.GetVolume()), initiatorFromPB(r.GetInitiator())); err != nil {
		return nil, s.fail(err)
	}
	return &pb.DisconnectResponse{}, nil
}

func (s *server) Shutdown(ctx context.Context, r *pb.ShutdownRequest) (*pb.ShutdownResponse, error) {
	drain := defaultDrain
	if ms := r.GetDrainTimeoutMs(); ms > 0 {
		drain = time.Duration(ms) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	n, err := s.core.shutdown(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	return &pb.ShutdownResponse{AbandonedCalls: int32(n)}, nil
}
