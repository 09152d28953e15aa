package sdk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// LaunchConfig says how to start a driver binary.
type LaunchConfig struct {
	// Path is the driver binary; Args are passed to it.
	Path string
	Args []string
	// SHA256 is the binary's expected checksum in hex. When set, the binary is hashed afresh on
	// every launch and a mismatch refuses to start it.
	SHA256 string
	// Env lists extra KEY=VALUE variables for the driver. The host's environment is not passed
	// on, except PATH, LANG, LC_ALL and TZ.
	Env []string
	// Logger receives the driver's relayed log lines; nil discards them.
	Logger hclog.Logger
	// LogLevel is the level the driver logs at; empty takes Logger's level.
	LogLevel string
	// SocketDir is where each launch makes the directory of its unix socket, removed when the
	// process ends; empty uses the system's temporary directory.
	SocketDir string
	// StartTimeout bounds the handshake; 0 means 30 s.
	StartTimeout time.Duration
	// Stdout receives anything the driver writes to its stdout after the handshake, which a
	// well-behaved driver never does; nil logs it as a warning.
	Stdout io.Writer
	// Interceptors wrap every call to the driver, e.g. to measure it.
	Interceptors []grpc.UnaryClientInterceptor
}

// passedEnv are the host variables a driver still sees.
var passedEnv = []string{"PATH", "LANG", "LC_ALL", "TZ"}

// Launch starts the driver binary and returns its Client, once the handshake (with AutoMTLS)
// is done and GetInfo has answered. Configure it before any other call; Close it when done.
func Launch(ctx context.Context, cfg LaunchConfig) (*Client, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	secure, err := secureConfig(cfg.SHA256)
	if err != nil {
		return nil, err
	}
	sockets, err := os.MkdirTemp(cfg.SocketDir, "kiln-driver-")
	if err != nil {
		return nil, fmt.Errorf("launch driver %s: %w", cfg.Path, err)
	}
	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = append(launchEnv(cfg, logger), plugin.EnvUnixSocketDir+"="+sockets)
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{}}},
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     orDefault(cfg.StartTimeout, 30*time.Second),
		Logger:           logger,
		SyncStdout:       stdoutSink(cfg.Stdout, logger),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)),
			grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window),
			grpc.WithChainUnaryInterceptor(cfg.Interceptors...)},
	})
	c, err := dispense(ctx, pc, cfg)
	if err != nil {
		pc.Kill()
		os.RemoveAll(sockets)
		return nil, err
	}
	go func() { <-c.done; os.RemoveAll(sockets) }() // however the process ends
	return c, nil
}

func dispense(ctx context.Context, pc *plugin.Client, cfg LaunchConfig) (*Client, error) {
	rpc, err := pc.Client()
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		return nil, checksumError(cfg.Path, cfg.SHA256)
	}
	if err != nil {
		return nil, fmt.Errorf("launch driver %s: %w", cfg.Path, err)
	}
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		return nil, fmt.Errorf("launch driver %s: %w", cfg.Path, err)
	}
	st := raw.(*stub)
	info, err := st.info(ctx)
	if err != nil {
		return nil, fmt.Errorf("launch driver %s: GetInfo: %w", cfg.Path, err)
	}
	return &Client{ep: st, meta: info, done: st.done, stop: pc.Kill}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// secureConfig builds a fresh checksum check: go-plugin's never resets its hash, so reusing one
// across launches fails the second check.
func secureConfig(sum string) (*plugin.SecureConfig, error) {
	if sum == "" {
		return nil, nil
	}
	want, err := hex.DecodeString(strings.TrimPrefix(sum, "sha256:"))
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("driver checksum %q is not a hex SHA-256 sum", sum)
	}
	return &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}, nil
}

func checksumError(path, want string) error {
	got := "unreadable"
	if data, err := os.ReadFile(path); err == nil {
		sum := sha256.Sum256(data)
		got = hex.EncodeToString(sum[:])
	}
	return &Error{Code: PermissionDenied, Reason: "CHECKSUM_MISMATCH",
		Message: fmt.Sprintf("driver %s has SHA-256 %s, expected %s", path, got, want),
		Meta:    map[string]string{"path": path, "expected_sha256": want, "actual_sha256": got}}
}

func launchEnv(cfg LaunchConfig, logger hclog.Logger) []string {
	var env []string
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	level := cfg.LogLevel
	if level == "" {
		level = logger.GetLevel().String()
		if logger.GetLevel() == hclog.NoLevel {
			level = "off" // a host that keeps no driver logs: don't make the driver write them
		}
	}
	return append(append(env, LogLevelEnv+"="+level), cfg.Env...)
}

// stdoutSink is where stray driver stdout goes.
func stdoutSink(w io.Writer, logger hclog.Logger) io.Writer {
	if w != nil {
		return w
	}
	return logger.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn})
}
