// Command testdriver is a driver binary for the SDK's own tests of Launch: its behaviour is
// chosen per call by the volume's Name, so a test can make the process crash or hang in the
// middle of a call.
package main

import (
	"context"
	"os"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// Config is empty: the driver needs none.
type Config struct{}

type driver struct{}

func (driver) Capacity(context.Context) (sdk.Capacity, error) {
	return sdk.Capacity{Pools: []sdk.Pool{{Name: "p", TotalBytes: 1 << 40, FreeBytes: 1 << 40, Thick: true}}}, nil
}

// CreateVolume obeys req.Name: "exit" ends the process, "hang" waits for ctx, "slow" takes
// 200 ms; anything else succeeds at once.
func (driver) CreateVolume(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	switch req.Name {
	case "exit":
		time.Sleep(50 * time.Millisecond)
		os.Exit(3)
	case "hang":
		<-ctx.Done()
		return sdk.Volume{}, ctx.Err()
	case "slow":
		time.Sleep(200 * time.Millisecond)
	}
	return sdk.Volume{ID: req.ID, Pool: req.Pool, SizeBytes: req.SizeBytes}, nil
}

func (driver) DeleteVolume(context.Context, sdk.VolumeRef) error { return nil }

func main() {
	sdk.Serve(sdk.Plugin[Config, driver]{Name: "testdriver", Version: "0.0.1",
		New: func(context.Context, Config, sdk.Env) (driver, error) { return driver{}, nil }})
}
