package sdk

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/kilnstorage/kiln/sdk/internal/driverpb"
)

// Direct serves the driver in this process without a wire: the Client calls the SDK's server
// core directly, with the same validation, serialization and error handling as a plugin. Tests
// and in-process hosts use it.
func Direct(f Factory, opts ...Option) *Client {
	c := newCore(f.factory(), buildOptions(opts))
	return &Client{ep: c, meta: c.f.info}
}

// Pair serves the driver in this process behind a real gRPC connection over a unix socket, so
// that every call crosses the wire exactly as it would to a plugin process. Close stops the
// server.
func Pair(ctx context.Context, f Factory, opts ...Option) (*Client, error) {
	dir, err := os.MkdirTemp("", "kiln-pair-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "driver.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := newCore(f.factory(), buildOptions(opts))
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage))
	pb.RegisterDriverServer(gs, &server{core: c})
	done := make(chan struct{})
	go func() { _ = gs.Serve(lis); close(done) }()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
	stop := func() {
		if conn != nil {
			conn.Close()
		}
		gs.Stop()
		<-done
		os.RemoveAll(dir)
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("pair: %w", err)
	}
	st := &stub{rpc: pb.NewDriverClient(conn), done: done}
	info, err := st.info(ctx)
	if err != nil {
		stop()
		return nil, fmt.Errorf("pair: GetInfo: %w", err)
	}
	return &Client{ep: st, meta: info, done: done, stop: stop}, nil
}
