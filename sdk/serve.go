package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/kilnstorage/kiln/sdk/internal/driverpb"
)

// The go-plugin handshake cookie. It only stops people from running a driver binary by hand;
// AutoMTLS and the optional checksum are the security. Drivers in other languages check it.
const (
	MagicCookieKey   = "KILN_DRIVER_PLUGIN"
	MagicCookieValue = "7c1e0a5f3b9d4e28a6f1c0d9b2e8f4a1"
)

const (
	pluginName = "driver"
	// LogLevelEnv carries the log level from the host to the driver process.
	LogLevelEnv = "KILN_LOG_LEVEL"
	// maxMessage bounds every gRPC message both ways; ListVolumes paginates below it.
	maxMessage = 16 << 20
	// window is the HTTP/2 flow-control window of both ends of a driver connection. Setting it
	// turns off gRPC's bandwidth estimation, whose PINGs after each response cost a driver
	// call about a tenth of a millisecond on a two-CPU host (docs/lvm-driver.md); a megabyte
	// is far more than any call but a list or a large error carries.
	window = 1 << 20
)

var handshake = plugin.HandshakeConfig{
	ProtocolVersion: ProtocolVersion, MagicCookieKey: MagicCookieKey, MagicCookieValue: MagicCookieValue,
}

// grpcPlugin is the go-plugin glue: on the plugin side it registers the server, on the host side
// it builds the stub, handing it go-plugin's process-exit context.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	core *core
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterDriverServer(s, &server{core: p.core})
	return nil
}

func (p *grpcPlugin) GRPCClient(done context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &stub{rpc: pb.NewDriverClient(conn), done: done.Done()}, nil
}

// Serve runs the driver as a Kiln plugin and never returns. It owns the process: stdout (the
// go-plugin handshake), stderr (hclog JSON at the level the host passes in KILN_LOG_LEVEL),
// the parent-death watchdog and the exit code. Run with the single argument "describe", the
// binary prints its Info as JSON and exits, without a host.
func Serve[C any, D Driver](p Plugin[C, D], opts ...Option) {
	os.Exit(serve(p.factory(), os.Args[1:], os.Stdout, os.Stderr, opts))
}

func serve(f factory, args []string, stdout, stderr *os.File, opts []Option) int {
	if err := f.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	switch {
	case len(args) == 1 && args[0] == "describe":
		return describe(f.info, stdout, stderr)
	case len(args) > 0:
		fmt.Fprintf(stderr, "usage: %s [describe]\n", os.Args[0])
		return 2
	case os.Getenv(MagicCookieKey) != MagicCookieValue:
		fmt.Fprintf(stderr, "%s is a Kiln storage driver (%s %s): the Kiln host starts it.\n"+
			"Run it with the argument \"describe\" to see what it offers.\n", os.Args[0], f.info.Name, f.info.Version)
		return 1
	}
	logger := newPluginLogger(f.info.Name, stderr)
	o := buildOptions(opts)
	o.logger = logger
	c := newCore(f, o)
	go watchParent(logger, os.Getppid(), time.Second, func() { os.Exit(3) })
	logger.Debug("serving", "version", f.info.Version, "sdk_version", Version)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{core: c}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage),
				grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(window))...)
		},
		Logger: logger,
	})
	return 0
}

func describe(info Info, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(info); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// newPluginLogger logs hclog JSON, which go-plugin relays at its level, on the original stderr
// (go-plugin replaces os.Stderr with a pipe once it serves), at the host's level. It also
// takes over the standard library's log package.
func newPluginLogger(name string, stderr io.Writer) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: name, Level: level, Output: stderr,
		JSONFormat: true})
	log.SetFlags(0)
	log.SetOutput(logger.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))
	return logger
}

// watchParent calls exit when the process that started the driver is gone: a driver must not
// outlive a host that was killed without shutting it down.
func watchParent(logger hclog.Logger, ppid int, every time.Duration, exit func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			logger.Error("the host process is gone; exiting", "host_pid", ppid)
			exit()
			return
		}
	}
}
