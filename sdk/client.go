package sdk

import (
	"context"
	"sync"
)

// Client is the host's handle on one driver. It offers every operation of the contract as a Go
// method; an operation the driver does not implement answers an Unsupported error, and Info
// tells in advance which ones it does. Build one with Launch (a driver binary), Pair (a driver
// served in process over a real gRPC connection) or Direct (in process, no wire).
type Client struct {
	ep endpoint

	mu   sync.Mutex
	meta Info

	// done is closed when the driver process or server is gone; nil for Direct.
	done <-chan struct{}
	// stop releases the transport after Shutdown: kills the process or stops the server.
	stop     func()
	stopOnce sync.Once
}

// Info describes the driver: its name, version, schema and capabilities. After Configure the
// capabilities are those of the configured driver.
func (c *Client) Info() Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta
}

// Configure hands the driver its configuration; it must succeed before any other call.
func (c *Client) Configure(ctx context.Context, req ConfigureRequest) (ConfigureResponse, error) {
	resp, err := c.ep.configure(ctx, req)
	if err != nil {
		return resp, err
	}
	info, err := c.ep.info(ctx)
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	c.meta = info
	c.mu.Unlock()
	return resp, nil
}

// Probe reports whether the backend is ready.
func (c *Client) Probe(ctx context.Context) error { return c.ep.probe(ctx) }

// Capacity returns the driver's capability report.
func (c *Client) Capacity(ctx context.Context) (Capacity, error) { return c.ep.capacity(ctx) }

// CreateVolume creates an empty volume.
func (c *Client) CreateVolume(ctx context.Context, req CreateVolumeRequest) (Volume, error) {
	return c.ep.createVolume(ctx, req, source{})
}

// CreateVolumeFromSnapshot creates a volume from a snapshot.
func (c *Client) CreateVolumeFromSnapshot(ctx context.Context, req CreateVolumeRequest, src SnapshotRef) (Volume, error) {
	return c.ep.createVolume(ctx, req, source{snapshot: &src})
}

// CloneVolume creates a volume from another volume.
func (c *Client) CloneVolume(ctx context.Context, req CreateVolumeRequest, src VolumeRef) (Volume, error) {
	return c.ep.createVolume(ctx, req, source{volume: &src})
}

// DeleteVolume deletes a volume; a missing one is success.
func (c *Client) DeleteVolume(ctx context.Context, vol VolumeRef) error {
	return c.ep.deleteVolume(ctx, vol)
}

// GetVolume reads a volume from the backend.
func (c *Client) GetVolume(ctx context.Context, vol VolumeRef) (Volume, error) {
	return c.ep.getVolume(ctx, vol)
}

// ListVolumes returns one page of the driver's volumes.
func (c *Client) ListVolumes(ctx context.Context, req ListRequest) (ListPage, error) {
	return c.ep.listVolumes(ctx, req)
}

// ExtendVolume grows a volume to at least size bytes.
func (c *Client) ExtendVolume(ctx context.Context, vol VolumeRef, size int64) (Volume, error) {
	return c.ep.extendVolume(ctx, vol, size)
}

// CreateSnapshot snapshots a volume.
func (c *Client) CreateSnapshot(ctx context.Context, req CreateSnapshotRequest) (Snapshot, error) {
	return c.ep.createSnapshot(ctx, req)
}

// DeleteSnapshot deletes a snapshot; a missing one is success.
func (c *Client) DeleteSnapshot(ctx context.Context, snap SnapshotRef) error {
	return c.ep.deleteSnapshot(ctx, snap)
}

// Connect exports a volume to an initiator.
func (c *Client) Connect(ctx context.Context, vol VolumeRef, to Initiator) (Connection, error) {
	return c.ep.connect(ctx, vol, to)
}

// Disconnect removes an export.
func (c *Client) Disconnect(ctx context.Context, vol VolumeRef, from Initiator) error {
	return c.ep.disconnect(ctx, vol, from)
}

// Shutdown asks the driver to stop: it refuses new calls, cancels the in-flight ones, waits for
// them until ctx's deadline and releases its resources. It reports how many calls were still
// running when the wait ended.
func (c *Client) Shutdown(ctx context.Context) (abandoned int, err error) {
	return c.ep.shutdown(ctx)
}

// Done is closed when the driver process (or in-process server) is gone.
func (c *Client) Done() <-chan struct{} {
	if c.done == nil {
		return make(chan struct{})
	}
	return c.done
}

// Close shuts the driver down gracefully (bounded by ctx) and then releases the transport:
// a launched process is killed, an in-process server stopped. It is safe to call twice.
func (c *Client) Close(ctx context.Context) error {
	var err error
	c.stopOnce.Do(func() {
		select {
		case <-c.Done():
		default:
			_, err = c.ep.shutdown(ctx)
		}
		if c.stop != nil {
			c.stop()
		}
	})
	return err
}

// Kill ends the driver at once, without Shutdown: a launched process is killed, an in-process
// server stopped. Tests use it to prove that a driver survives a crash.
func (c *Client) Kill() {
	c.stopOnce.Do(func() {
		if c.stop != nil {
			c.stop()
		}
	})
}
